"""The strict, safe YAML loader of front matter: the source of truth, and the only place front matter errors come from.

PyYAML's defaults turn `No` into False, `1.10` into 1.1 and expand alias bombs: this loader resolves only null
implicitly, refuses aliases, merge keys, keys that are not text and keys written twice (SECURITY.md, items 1-7).
frontmatter_yaml imports it when a front matter is not of try_load's simple kind, so a build whose transcripts
all are (a rebuild of a few files, most of the time) never loads PyYAML.
"""

from __future__ import annotations

import re
from types import MappingProxyType

import frontmatter
import yaml

from .frontmatter_yaml import FrontMatterError

HANDLER = frontmatter.YAMLHandler()
"""python-frontmatter's own split (split_front_matter(fast=False), and the tests that compare with it)."""
_NULL = "tag:yaml.org,2002:null"
# Only null is resolved implicitly: names, companies and dates stay the text written.
_RESOLVERS = MappingProxyType({
    first: nulls for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    if (nulls := [(tag, rx) for tag, rx in resolvers if tag == _NULL])
})


class _StrictConstructor(yaml.constructor.SafeConstructor):
    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        if not isinstance(node, yaml.MappingNode):
            raise yaml.constructor.ConstructorError(None, None, "expected a mapping", node.start_mark)
        mapping: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(None, None, "merge keys (<<) are not allowed", key_node.start_mark)
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a key must be text, not {key!r}", key_node.start_mark
                )
            if key in mapping:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is written twice", key_node.start_mark
                )
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_StrictConstructor.add_constructor("tag:yaml.org,2002:map", lambda c, n: c.construct_mapping(n, deep=True))


class _Loader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, yaml.composer.Composer,
              _StrictConstructor, yaml.resolver.Resolver):
    yaml_implicit_resolvers = _RESOLVERS

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _StrictConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def compose_node(self, parent, index):  # type: ignore[override]
        # Aliases are refused outright: an alias bomb is a few hundred bytes.
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*name) are not allowed", event.start_mark)
        return super().compose_node(parent, index)


try:
    from yaml.cyaml import CParser as _CParser  # libyaml: C-accelerated loading when installed
except ImportError:  # pragma: no cover
    _CParser = None
if _CParser is not None:
    class _FastLoader(_CParser, _StrictConstructor, yaml.resolver.Resolver):  # type: ignore[misc, valid-type]
        """libyaml-backed; used only when the text cannot hold an alias."""

        yaml_implicit_resolvers = _RESOLVERS

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            _StrictConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - libyaml missing
    _FastLoader = _Loader  # type: ignore[misc]


def load(fm: str) -> tuple[dict, dict[str, int]]:
    """The YAML loader: the source of truth, and the only place front matter errors come from."""
    loader = None
    try:  # the pure-Python loader checks every character as it is made: inside the try (SECURITY.md, item 24)
        loader = _Loader(fm) if ("&" in fm or "*" in fm) and _has_alias(fm) else _FastLoader(fm)
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            raise FrontMatterError(node.start_mark.line + 1, "the front matter must be 'key: value' lines (a YAML mapping)")
        key_lines = _key_lines(node)
        meta = _without_surrogates(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        raise FrontMatterError(*_explained(exc, fm)) from None
    except yaml.reader.ReaderError as exc:
        raise FrontMatterError(fm.count("\n", 0, max(exc.position, 0)) + 1,
                               f"the front matter holds a character YAML does not allow (code {exc.character!r}): "
                               "delete it or put the value in quotes") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(1, f"the front matter is not valid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    return meta, key_lines


def _explained(exc: yaml.MarkedYAMLError, fm: str) -> tuple[int, str]:
    """The line a writer should look at, and what to do there, for YAML's common complaints; YAML's own words
    otherwise. An unclosed quote or list is reported where it opened, not where YAML gave up reading."""
    context, problem = exc.context or "", exc.problem or str(exc)
    opened = exc.context_mark.line + 1 if exc.context_mark else None
    line = exc.problem_mark.line + 1 if exc.problem_mark else opened or 1
    lines = fm.split("\n")
    if "quoted scalar" in context and opened and ("escape" in problem or "hexdecimal" in problem):
        return line, ("a backslash in double quotes starts an escape such as \\n: put the value in single quotes "
                      "instead ('C:\\Users\\call.mp4'), or write each backslash twice")
    if "quoted scalar" in context and opened:
        mark = lines[opened - 1][exc.context_mark.column:exc.context_mark.column + 1] or '"'
        return opened, f"a quote ({mark}) opened on this line is never closed: end the value with {mark}"
    if ("flow sequence" in context or "flow mapping" in context) and opened:
        close = "]" if "sequence" in context else "}"
        if _closed(lines[opened - 1], exc.context_mark.column, close):
            return line, (f"the items between '{'[' if close == ']' else '{'}' and '{close}' need a comma between "
                          'them, and an item with a quote in it goes all in quotes, e.g. [pricing, "big deal"]')
        if close == "]":
            return opened, "a list ('[') opened on this line is never closed: end it with ']', e.g. [a, b]"
        return opened, "a '{' opened on this line is never closed: end it with '}', e.g. {role: cfo, title: CFO}"
    if "mapping values are not allowed" in problem:
        return line, "a value that holds ': ' must be in quotes, e.g. title: \"Acme: renewal call\""
    if "cannot start any token" in problem and "\t" in lines[line - 1][:exc.problem_mark.column + 1]:
        return line, "a tab before a key: indent with spaces"
    if "expected key" in problem or "expected <block end>" in problem:
        if found := _AFTER_QUOTES.match(lines[line - 1]):
            if found[2]:
                return line, ("a value in single quotes ends at the next ': write a ' inside it twice, "
                              "e.g. 'Dana''s call'")
            return line, ('a value in double quotes ends at the next ": quote all of it, and put a value holding " '
                          """in single quotes, e.g. title: 'Dana says "hi"'""")
        unclosed = next((n for n, text in enumerate(lines[:line], 1) if _UNCLOSED_QUOTE.match(text)), None)
        if unclosed is not None and unclosed < line:  # a quote that ran on into the lines below it
            return unclosed, 'a quote (") opened on this line is never closed: end the value with "'
        return line, "this line is not indented as the lines above it are: line up the keys of one list"
    return line, f"the front matter is not valid YAML: {problem}"


def _closed(text: str, column: int, close: str) -> bool:
    """Whether the '[' or '{' at text[column] is closed on its line, brackets inside quotes aside."""
    depth, quote = 0, ""
    for ch in text[column:]:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return ch == close
    return False


_AFTER_QUOTES = re.compile(r"""^[^:#]*:[ \t]*(?:(")(?:[^"\\]|\\.)*"|(')[^']*')[ \t]*[^\s#]""")
"""'title: "Acme" renewal call': words after a quoted value's closing quote."""
_UNCLOSED_QUOTE = re.compile(r'^[^:#]*:[ \t]*"(?:[^"\\]|\\.)*$')
"""'title: "Acme call': a value that opens a double quote and does not close it on its line."""


def _has_alias(fm: str) -> bool:
    """A cheap libyaml pass over the events: the strict (slower) loader only where an alias may be."""
    if _CParser is None:  # pragma: no cover
        return True
    parser = _CParser(fm)
    try:
        while parser.check_event():
            if isinstance(parser.get_event(), yaml.AliasEvent):
                return True
    except yaml.YAMLError:
        return True  # let the strict loader report it
    finally:
        parser.dispose()
    return False


def _without_surrogates(value):
    """YAML's "\\ud800\\udc00" escapes give two surrogates: join pairs, refuse lone ones."""
    if isinstance(value, str):
        try:
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise FrontMatterError(1, "the front matter has an invalid \\u escape (a lone surrogate)") from None
    if isinstance(value, dict):
        return {_without_surrogates(k): _without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_surrogates(v) for v in value]
    return value


def _key_lines(node: yaml.MappingNode) -> dict[str, int]:
    lines: dict[str, int] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode):
            lines.setdefault(key_node.value, key_node.start_mark.line + 1)
            if isinstance(value_node, yaml.MappingNode):
                for sub_key, _ in value_node.value:
                    if isinstance(sub_key, yaml.ScalarNode):
                        lines.setdefault(f"{key_node.value}.{sub_key.value}", sub_key.start_mark.line + 1)
    return lines
