"""Front matter: split by python-frontmatter, loaded by a strict, safe YAML loader.

python-frontmatter's defaults drop a BOM'd front matter, return {} for a list,
raise TypeError on non-string keys and strip the body (which shifts line
numbers); PyYAML's defaults turn `No` into False, `1.10` into 1.1 and expand
alias bombs. We keep python-frontmatter's splitting and replace the rest:
see SECURITY.md, items 1-7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import frontmatter
import yaml

_HANDLER = frontmatter.YAMLHandler()
_BOUNDARY = _HANDLER.FM_BOUNDARY  # ^-{3,}\s*$, multiline
_NULL = "tag:yaml.org,2002:null"
# Only null is resolved implicitly: names, companies and dates stay the text written.
_RESOLVERS = {
    first: [(tag, rx) for tag, rx in resolvers if tag == _NULL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_RESOLVERS = {k: v for k, v in _RESOLVERS.items() if v}


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


@dataclass(frozen=True)
class FrontMatter:
    """The parts of a Markdown file with front matter."""

    meta: dict
    """The front matter mapping ({} when the file has none)."""
    key_lines: dict
    """1-based file line of each top-level key, and of each nested key as 'key.sub'."""
    body: str
    """Everything after the closing '---', unstripped."""
    body_line: int
    """Number of file lines before the body's first line (add map[0] + 1 for a 1-based line)."""


class FrontMatterError(Exception):
    """Front matter that cannot be used; carries the 1-based line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def split_front_matter(text: str, *, fast: bool = True) -> FrontMatter:
    """Split and load front matter; raises FrontMatterError with a line.

    fast=False takes python-frontmatter's own split and the YAML loader for every text, skipping
    _split and simple_load (tests/test_frontmatter_fast.py checks both ways agree).
    """
    text = text.removeprefix("\ufeff")
    try:
        parts = _split(text) if fast else (_HANDLER.split(text) if _HANDLER.detect(text) else None)
    except ValueError:
        raise FrontMatterError(1, "the front matter is not closed: add a line '---' after it") from None
    if parts is None:
        return FrontMatter({}, {}, text, 0)
    fm, body = parts
    body_line = text.count("\n", 0, len(text) - len(body))
    loaded = simple_load(fm) if fast else None
    meta, key_lines = loaded if loaded is not None else _load(fm)
    return FrontMatter(meta, key_lines, body, body_line)


def _split(text: str) -> tuple[str, str] | None:
    """python-frontmatter's detect() and split(), without a regex search through the front matter.

    split() is FM_BOUNDARY.split(text, 2): the first match is the one at 0 (detect()), the second
    the leftmost after it. That one starts a line with '---' (the pattern begins '^-{3,}'), so only
    the lines find() gives are tried: the same match, at a tenth of the cost. None when there is
    no front matter; ValueError when it is not closed, as split() raises.
    """
    opening = _BOUNDARY.match(text)
    if opening is None:
        return None
    start = opening.end()
    at = text.find("\n---", start - 1)
    while at != -1:
        closing = _BOUNDARY.match(text, at + 1)
        if closing is not None:
            return text[start:at + 1], text[closing.end():]
        at = text.find("\n---", at + 1)
    raise ValueError("the front matter is not closed")


def _load(fm: str) -> tuple[dict, dict[str, int]]:
    """The YAML loader: the source of truth, and the only place front matter errors come from."""
    loader = _Loader(fm) if ("&" in fm or "*" in fm) and _has_alias(fm) else _FastLoader(fm)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}
        if not isinstance(node, yaml.MappingNode):
            raise FrontMatterError(node.start_mark.line + 1, "the front matter must be 'key: value' lines (a YAML mapping)")
        key_lines = _key_lines(node)
        meta = _without_surrogates(loader.construct_document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise FrontMatterError(line, f"the front matter is not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(1, f"the front matter is not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    return meta, key_lines


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


# --- The fast path (benchmarks/README.md, issue 5) ----------------------------------------------
# Loading costs 150-250 µs a file, most of it libyaml composing nodes and the Python constructor:
# 2 s of CPU for 10,000 transcripts, more than the whole build may take. Nearly all front matter is
# a few `key: text` lines and one block of `Name: role` or `Name: {role: r, title: "t"}` lines, so
# simple_load reads that subset with one regex pass and gives exactly what _load gives; anything
# else, or anything that might be an error, returns None and goes to _load, which stays the only
# place errors come from. tests/test_frontmatter_fast.py checks the two agree.

# First characters that make YAML read something other than a plain scalar (or may, depending on
# what follows them: conservative).
_INDICATORS = r"""\-?:,\[\]{}#&*!|>'"%@`"""
# Only null is resolved implicitly (_RESOLVERS): the plain scalars it matches.
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
# In no scalar: controls, C1 controls (U+0085 is a YAML line break) and the backslash (an escape
# in "..."); '\n' is among the controls, so nothing runs past its line.
_NOT = r"\x00-\x1f\x7f-\x9f\\"
# Block keys stop at ':' '#' and, to be safe, at the flow indicators. In a flow mapping any of
# ',[]{}' ends a plain scalar, so none is allowed inside one, nor ':' or '#'; keys take no quotes.
_STOPS = _NOT + r":#,\[\]{}"
_FLOW_KEY_STOPS = _STOPS + "'\""


def _plain(stops: str, last: str = "") -> str:
    """A one-line plain scalar: no indicator first, none of `stops` after, no space (nor `last`) last."""
    return rf"[^ {_NOT}{_INDICATORS}](?:[^{stops}]*[^ {stops}{last}])?"


def _key(stops: str) -> str:
    """A plain key: not null (an error as a key), not '...' (a document end), and short (libyaml
    refuses a simple key over 1024 characters)."""
    return rf"(?!(?:~|null|Null|NULL) *[:,}}]|\.\.\.)[^ {_NOT}{_INDICATORS}](?:[^{stops}]{{0,198}}[^ {stops}])?"


def _flow_value(group: str) -> str:
    return rf"""{group}"[^"{_NOT}]*"|'[^'{_NOT}]*'|{_plain(_STOPS)})"""


# `key`, `key: plain`, `key: "text"` or `key: 'text'` in a flow mapping.
_FLOW_ENTRY = rf"{_key(_FLOW_KEY_STOPS)}(?:: +{_flow_value('(?:')})?"
# The entries of a flow mapping _LINES matched, each with the '{' or ',' before it: (key, value).
_FLOW_ITEMS = re.compile(rf"[{{,] *({_key(_FLOW_KEY_STOPS)})(?:: +{_flow_value('(')})?")
# One line and its '\n', as (indent, key, value as written, other): a `key: value` line (a plain
# value ending in ':' would start a mapping); a blank line (all empty); anything else (other). The
# last alternative takes any line, so findall skips none: one row a line, in order.
_LINES = re.compile(
    rf"""(?:( *)({_key(_STOPS)}):(?: +({_plain(_NOT, ":")}|"[^"{_NOT}]*"|'[^'{_NOT}]*'"""
    rf"""|\{{ *{_FLOW_ENTRY}(?: *, *{_FLOW_ENTRY})* *\}}))? *| *|(.*[^\n]))\n""")


def simple_load(fm: str) -> tuple[dict, dict[str, int]] | None:
    """meta and key_lines as _load gives them, for front matter in the simple subset; else None.

    fm is what _split gives: it starts with the '\n' that ends the opening '---' line (line 1 of
    the file) and ends with a '\n'. The loop runs for every line of every file, so it is written
    out in one piece, with no call for the common lines.
    """
    if fm[:1] != "\n" or fm[-1:] != "\n" or not (fm.isascii() or fm.replace("\n", "").isprintable()):
        return None  # isprintable() is False for U+0085, U+2028, U+2029, the BOM, no-break spaces...
    meta: dict = {}
    key_lines: dict[str, int] = {}
    block: dict | None = None  # the mapping under the last top-level key written with no value
    parent = prefix = indent = ""
    number = 1
    for spaces, key, written, other in _LINES.findall(fm, 1):
        number += 1
        if not key:
            if other:
                return None
            continue  # a blank line separates nothing in a mapping
        if not written:
            value = None
        elif (first := written[0]) == '"' or first == "'":
            value = written[1:-1]
        elif first == "{":
            value = _flow_mapping(written)
            if value is None:
                return None
        elif ": " in written or " #" in written:
            return None  # a mapping value or a comment
        else:  # plain; len() first, as hashing a long value costs more than the test
            value = None if len(written) < 5 and written in _NULLS else written
        if spaces:
            # An entry of the open block, at the block's one indentation; anywhere else an
            # indented line would go on with a scalar or open a deeper mapping (or be an error).
            if block is None or key in block or (indent and spaces != indent):
                return None
            block[key] = value
            meta[parent], indent = block, spaces
            key_lines.setdefault(prefix + key, number)
            continue
        if key in meta:
            return None
        meta[key] = value
        key_lines.setdefault(key, number)
        if written:
            block = None
            if first == "{":
                for sub in value:
                    key_lines.setdefault(f"{key}.{sub}", number)
        else:
            block, parent, prefix, indent = {}, key, key + ".", ""
    return meta, key_lines


def _flow_mapping(flow: str) -> dict | None:
    """A one-line flow mapping '{k: v, k: "v", k}' that _LINES matched, as a dict; None if a key
    is written twice."""
    mapping: dict = {}
    for key, value in _FLOW_ITEMS.findall(flow):
        if key in mapping:
            return None
        if not value:
            mapping[key] = None
        elif value[0] == '"' or value[0] == "'":
            mapping[key] = value[1:-1]
        else:  # plain, with no ':' or '#' in it (_FLOW_ITEMS)
            mapping[key] = None if len(value) < 5 and value in _NULLS else value
    return mapping


_WS = re.compile(r"\s+")


def fold(name: str) -> str:
    """Case-insensitive, whitespace-folded form for comparing names."""
    return _WS.sub(" ", name).strip().casefold()
