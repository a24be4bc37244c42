"""misspelt_spans: warnings for braces that surely meant a tag but tag nothing (a typo must not drop a quote
silently)."""

from __future__ import annotations

import re

from .markdown import block_markdown
from .model import Diagnostic, warning

# --- Spans that were surely meant as tagged quotes but are not (a typo must not drop a quote silently) -----------
_SPAN_END = re.compile(r"\]\{([^{}\n]*)\}")  # in text whose escaped brackets _without_code blanked
SPACED_SPAN = re.compile(r"\][ \t]+\{([^{}\n]*)\}")
"""Words' `]` and tags' `{` with a space between: no span at all."""

_ATTR_TOKENS = re.compile(r"""[\w-]+=(?:"[^"]*"|'[^']*')|\S+""")
_SPAN_TOKEN = re.compile(r"""\.[\w-]+|#[\w-]+|[\w-]+=(?:"[^"]*"|'[^']*'|[^\s"'{}]+)""")
_CODE_OR_ESCAPE = re.compile(r"[\\`]")
_BACKTICKS_AT = re.compile(r"`+")


def misspelt_spans(body: str, tags: dict[str, str], path: str, line_offset: int) -> list[Diagnostic]:
    """Warnings for each `]{...}` outside code that names a tag but tags nothing: `{pain}`, `{ Pain }` or
    `{.pain,.objection}` (not the attribute list the spec's `{.pain .objection}` is), `{#pain}` (an id), or a
    `]{.pain}` whose `[` is not in its paragraph (a quote crosses no paragraph, list item or quote block).

    Called only for a body with more `]{` than extract_quotes read spans (Extraction.spans, .ends): most have
    none. markdown-it's block parser gives the paragraphs (code blocks are none), each looked at in one pass."""
    names = {slug.casefold(): slug for slug in tags}
    names.update((label.strip().casefold(), slug) for slug, label in tags.items() if label.strip().isidentifier())
    problems = []
    for token in block_markdown().parse(body):
        if token.type != "inline" or not token.map or ("]{" not in token.content
                                                         and SPACED_SPAN.search(token.content) is None):
            continue
        content = token.content
        plain = _without_code(content)
        opened = _opened_brackets(plain)
        found = [(match.start(), _misspelt(match.group(1), match.start() in opened, names))
                 for match in _SPAN_END.finditer(plain)]
        found += [(match.start(), f"'{match.group()}' has a space before its '{{', so these words are not a quote: "
                                  f"write ']{{{match.group(1)}}}'")
                  for match in SPACED_SPAN.finditer(plain) if match.start() in opened and _names_a_tag(match[1], names)]
        for at, message in sorted(found):
            if message is not None:
                problems.append(warning(path, line_offset + token.map[0] + content.count("\n", 0, at) + 1, message))
    return problems


def _names_a_tag(attrs: str, names: dict[str, str]) -> bool:
    """Whether `{attrs}` is a list of tags, each one of the vocabulary (a dot before each)."""
    tokens = attrs.split()
    return bool(tokens) and all(token[:1] == "." and token[1:].casefold() in names for token in tokens)


def _misspelt(attrs: str, opened: bool, names: dict[str, str]) -> str | None:
    """What is wrong with a `]{attrs}`, if it surely meant a tag and tags nothing (`opened`: its `]` closes a `[`)."""
    tokens = _ATTR_TOKENS.findall(attrs)
    if tokens and all(_SPAN_TOKEN.fullmatch(token) for token in tokens):
        if any(token[0] == "." for token in tokens):
            if opened:
                return None  # a span: a quote, or a problem extract_quotes reports
            return (f"']{{{attrs}}}' ends a tagged quote whose '[' is not in the same paragraph: "
                    "a quote's words must be within one paragraph")
        meant = [names[token[1:].casefold()] for token in tokens if token[1:].casefold() in names]
        if not meant or not all(token[0] == "#" for token in tokens):
            return None
        return f"'{{{attrs}}}' gives the words an id, not a tag: write '{{{_classes(meant)}}}' to tag them"
    meant = [names[word.casefold()] for word in re.split(r"[^\w-]+", attrs) if word.casefold() in names]
    if not meant:
        return None
    return (f"'{{{attrs}}}' is not a list of tags, so these words are not a quote: "
            f"write '{{{_classes(meant)}}}' (a dot before each tag, spaces between them)")


def _without_code(content: str) -> str:
    r"""content with its code spans and backslash escapes of brackets, backticks and backslashes blanked, the same
    length (places and lines hold), read left to right as CommonMark does: `\\` is a backslash, after which a
    backtick opens code; an escaped backtick opens none; inside code a backslash is only a backslash."""
    out, position = [], 0
    while (found := _CODE_OR_ESCAPE.search(content, position)) is not None:
        at = found.start()
        out.append(content[position:at])
        if content[at] == "\\":
            escaped = content[at:at + 2]
            out.append("  " if escaped[1:] in ("[", "]", "`", "\\") else escaped)
            position = at + len(escaped)
            continue
        run = _BACKTICKS_AT.match(content, at).group()
        close = re.compile(f"(?<!`){run}(?!`)").search(content, at + len(run))
        if close is None:  # no run of as many backticks closes it: text
            out.append(run)
            position = at + len(run)
        else:
            out.append(re.sub(r"[^\n]", " ", content[at:close.end()]))
            position = close.end()
    out.append(content[position:])
    return "".join(out)


def _opened_brackets(text: str) -> set[int]:
    """The places of the `]` in text that close a `[` before them (brackets paired as they nest), in one pass."""
    closing, stack = set(), []
    for match in re.finditer(r"[\[\]]", text):
        if match.group() == "[":
            stack.append(match.start())
        elif stack:
            stack.pop()
            closing.add(match.start())
    return closing


def _classes(slugs: list[str]) -> str:
    return " ".join(f".{slug}" for slug in dict.fromkeys(slugs))
