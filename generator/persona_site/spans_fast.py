"""simple_spans: the `[words]{attributes}` spans of a plain paragraph, found without markdown-it (quotes_fast's
paragraphs), or None when markdown-it must decide. tests/test_fastpath.py checks the answer against markdown-it's."""

from __future__ import annotations

import re

from .quotes import ANY_STAMP, nested_brackets

SIMPLE_SPAN = re.compile(r"\[([^\[\]\n]*)\]\{([^{}\n]*)\}")
"""A span with no bracket or brace inside: `[words]{.pain}`."""
ANY_TIMESTAMP = re.compile(ANY_STAMP)
_STRUCTURE = re.compile(r"[\\<]|!\[")  # escapes, autolinks, images: markdown-it decides
_SIMPLE_LINK = re.compile(r"\[[^\[\]\n]*\]\([^()\s<>]*\)")
_BACKTICKS = re.compile(r"`+")
_ATTR = re.compile(r"^(?:\.[\w-]+|#q-[\w-]*)$")  # another id is dropped with a warning: markdown-it's path
_ONE_CLASS = re.compile(r"\.([\w-]+)")  # fullmatch: one class and nothing else, as span_attrs reads it


def simple_spans(content: str) -> list[tuple[int, str, list[str], str | None]] | None:
    """(line within the paragraph, words, classes, id) of each span, or None when markdown-it must decide.

    Code spans bind tighter than brackets, so they are found first (CommonMark's rule:
    a run of n backticks closes at the next run of exactly n); emphasis, entities and
    simple links around a span cannot change it.
    """
    if nested_brackets(content):  # a '[' left open before a span: markdown-it's walk decides, and warns
        return None
    if _ONLY_SPANS_AND_TIMESTAMPS.match(content):  # the usual paragraph: the checks below all pass
        return _spans_of(content, [])
    if _STRUCTURE.search(content):
        return None
    code = _code_spans(content) if "`" in content else []
    if any("\n" in content[start:end] for start, end in code):
        return None  # markdown-it's line count ignores newlines inside code spans: let it decide
    spans = _spans_of(content, code)
    if spans is None:
        return None
    kept, last = [], 0
    for start, end in code:
        kept.append(content[last:start])
        last = end
    rest = "\n".join([*kept, content[last:]])  # no span crosses a code span: SIMPLE_SPAN does not cross a newline
    rest = ANY_TIMESTAMP.sub("", _SIMPLE_LINK.sub("", SIMPLE_SPAN.sub("", rest)))
    if any(c in rest for c in "[]{"):
        return None
    return spans

# Brackets only in `[words]{attributes}` spans and [hh:mm:ss] timestamps, and none of `\<!{}` elsewhere.


_PLAIN_RUN = r"[^\[\]{}\\<`!]*"

_ONLY_SPANS_AND_TIMESTAMPS = re.compile(
    rf"{_PLAIN_RUN}(?:(?:{ANY_STAMP}|\[[^\[\]{{}}\\<`!\n]*\]\{{[^{{}}\n]*\}}){_PLAIN_RUN})*\Z")


def _spans_of(content: str, code: list[tuple[int, int]]) -> list[tuple[int, str, list[str], str | None]] | None:
    """simple_spans' answer from the spans SIMPLE_SPAN finds; None when one overlaps code or has odd attributes."""
    spans, line, counted = [], 0, 0  # lines counted on from the last span, not from the start (issue 21, item 13)
    code_at = 0  # the first code span that does not end before this span (both in order: linear)
    for match in SIMPLE_SPAN.finditer(content):
        while code_at < len(code) and code[code_at][1] <= match.start():
            code_at += 1
        if code_at < len(code) and code[code_at][0] < match.end():
            return None
        attrs = span_attrs(match.group(2))
        if attrs is None:
            return None
        if attrs[0]:
            line += content.count("\n", counted, match.start())
            counted = match.start()
            spans.append((line, match.group(1), *attrs))
    return spans


def span_attrs(written: str) -> tuple[list[str], str | None] | None:
    """(classes, id) of a span's attributes; None when they are not all `.class` and `#id`."""
    one = _ONE_CLASS.fullmatch(written)
    if one is not None:  # the usual `{.pain}`
        return [one[1]], None
    attrs = written.split()
    if not attrs or not all(_ATTR.match(a) for a in attrs):
        return None
    ids = [a[1:] for a in attrs if a[0] == "#"]
    return [a[1:] for a in attrs if a[0] == "."], ids[-1] if ids else None


def _code_spans(content: str) -> list[tuple[int, int]]:
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(content)]
    following: dict[int, int] = {}  # run -> the next run of the same length: no scan ahead for each (linear)
    last_of_length: dict[int, int] = {}
    for index, (start, end) in enumerate(runs):
        if end - start in last_of_length:
            following[last_of_length[end - start]] = index
        last_of_length[end - start] = index
    spans, index = [], 0
    while index < len(runs):
        start, end = runs[index]
        closer = following.get(index)
        if closer is None:
            index += 1
            continue
        spans.append((start, runs[closer][1]))
        index = closer + 1
    return spans
