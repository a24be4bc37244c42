"""Front matter: split by python-frontmatter, loaded by a strict, safe YAML loader.

python-frontmatter's defaults drop a BOM'd front matter, return {} for a list,
raise TypeError on non-string keys and strip the body (which shifts line
numbers); PyYAML's defaults turn `No` into False, `1.10` into 1.1 and expand
alias bombs. We keep python-frontmatter's splitting and replace the rest:
see SECURITY.md, items 1-7.

Front matter of the usual simple kind takes a fast path (try_load, and _split
for python-frontmatter's boundaries) that gives the same result in a fifth of the
time; the loader (frontmatter_strict.py, imported only when a front matter needs it)
stays the only source of errors (benchmarks/README.md, issue 5).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_BOUNDARY = re.compile(r"^-{3,}\s*$", re.MULTILINE)
"""python-frontmatter's YAMLHandler.FM_BOUNDARY, here so that the fast path needs neither it nor PyYAML
(tests/test_frontmatter_fast.py checks they are the same)."""


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
    _split and try_load (tests/test_frontmatter_fast.py checks both ways agree).
    """
    text = text.removeprefix("\ufeff")
    if "\r" in text and "\n" not in text:  # a classic Mac's line ends, which markdown-it reads as line ends too
        text = text.replace("\r", "\n")
    try:
        parts = _split(text) if fast else _frontmatter_split(text)
    except ValueError:
        raise FrontMatterError(1, "the front matter is not closed: add a line '---' after it") from None
    if parts is None:
        return FrontMatter({}, {}, text, 0)
    fm, body = parts
    body_line = text.count("\n", 0, len(text) - len(body))
    # Lines are counted from the front matter's own first line; the opening boundary's pattern ends with
    # \s*, so it also takes the blank lines after '---' but one: add those back.
    skipped = text.count("\n", 0, _BOUNDARY.match(text).end())
    try:
        loaded = try_load(fm) if fast else None
        if loaded is None:
            from .frontmatter_strict import load  # PyYAML: only for front matter try_load leaves to it

            loaded = load(fm)
        meta, key_lines = loaded
    except FrontMatterError as exc:
        raise FrontMatterError(exc.line + skipped, str(exc)) from None
    if skipped:
        key_lines = {key: line + skipped for key, line in key_lines.items()}
    return FrontMatter(meta, key_lines, body, body_line)


def _frontmatter_split(text: str) -> tuple[str, str] | None:
    """python-frontmatter's own detect() and split()."""
    from .frontmatter_strict import HANDLER

    return HANDLER.split(text) if HANDLER.detect(text) else None


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


# --- The fast path (benchmarks/README.md, issue 5) ----------------------------------------------
# Loading costs 150-250 µs a file, most of it libyaml composing nodes and the Python constructor:
# 2 s of CPU for 10,000 transcripts, more than the whole build may take. Nearly all front matter is
# a few `key: text` lines and one block of `Name: role` or `Name: {role: r, title: "t"}` lines, so
# try_load reads that subset with str methods (and a regex for the flow mappings) and gives
# exactly what _load gives; anything else, or anything that might be an error, returns None and
# goes to _load, which stays the only place errors come from. tests/test_frontmatter_fast.py
# checks the two agree.
#
# In YAML's block context a plain scalar may hold any printable character: it ends only at ': '
# (a mapping value), at ' #' (a comment) or at the end of its line if the next line is not
# indented deeper (else it goes on). So a line is split at its first ': ', and what remains to
# check is a handful of characters: the first one of a key or value, and a ':' at the end.

# First characters that make YAML read something other than a plain scalar (or may, depending on
# what follows them: conservative).
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
_INDICATOR = frozenset(_INDICATORS)
# Only null is resolved implicitly (frontmatter_strict's resolvers): the plain scalars it matches.
_NULLS = frozenset(("", "~", "null", "Null", "NULL"))
# libyaml refuses a simple key over 1024 characters; far below that, to be safe.
_MAX_KEY = 200
# Bytes YAML refuses (controls; '\n' aside) and the backslash, an escape in "...".
_CONTROLS = bytes(range(32)).replace(b"\n", b"") + b"\x7f\\"


def try_load(fm: str) -> tuple[dict, dict[str, int]] | None:
    """meta and key_lines as _load gives them, for front matter in the simple subset; else None.

    fm is what _split gives: it starts with the '\\n' that ends the opening '---' line (line 1 of the file)
    and ends with a '\\n'. The loop runs for every line of every file: only quoted and flow values leave it.
    """
    if not _plain_text(fm):
        return None
    meta: dict = {}
    key_lines: dict[str, int] = {}
    block: dict | None = None  # the mapping under the last top-level key written with no value
    parent = prefix = ""
    indent = 0  # of the open block's lines, once one is seen
    for number, line in enumerate(fm[1:-1].split("\n"), 2):
        key, colon, written = line.partition(": ")
        if colon:
            written = written.strip(" ")
        elif line[-1:] == ":":
            key = line[:-1]
        elif line.strip(" "):
            return None  # not a `key: value` line
        else:
            continue  # a blank line separates nothing in a mapping
        if not written:
            value = None
        elif (first := written[0]) in _INDICATOR:
            value = _quoted_or_flow(written)
            if value is None:
                return None
        elif written[-1] == ":" or ": " in written:
            return None  # a mapping in a mapping value
        elif len(written) < 5 and written in _NULLS:  # len() first: hashing a long value costs more
            value = None
        else:
            value = written
        if key[:1] == " ":
            # An entry of the open block, at the block's one indentation; anywhere else an
            # indented line would go on with a scalar or open a deeper mapping (or be an error).
            spaces = len(key)
            key = key.lstrip(" ")
            spaces -= len(key)
            if block is None or not _plain_key(key) or key in block or (indent and spaces != indent):
                return None
            block[key] = value
            meta[parent], indent = block, spaces
            key_lines.setdefault(prefix + key, number)
            continue
        if not _plain_key(key) or key in meta:
            return None
        meta[key] = value
        key_lines.setdefault(key, number)
        if not written:
            block, parent, prefix, indent = {}, key, key + ".", 0
            continue
        block = None
        if first == "{":
            for sub in value:
                key_lines.setdefault(f"{key}.{sub}", number)
    return meta, key_lines


def _quoted_or_flow(written: str) -> str | dict | None:
    """A value starting with an indicator, when it is of the simple kind: text in quotes (with no quote inside, nor
    text after the closing one), or a one-line flow mapping; else None."""
    first = written[0]
    if first == "{":
        return _flow_mapping(written)
    if (first != '"' and first != "'") or written[-1] != first or written.count(first) != 2:
        return None
    return written[1:-1]


def _plain_key(key: str) -> bool:
    """A key written plain (up to the first ': '), that is text (a null key is an error)."""
    return bool(key) and key[0] not in _INDICATOR and key[-1] != " " and len(key) <= _MAX_KEY and key not in _NULLS


def _plain_text(fm: str) -> bool:
    """The frame _split gives, no comment (nor ' #' in a quoted value: rare, so not worth telling
    apart), no document end, and no character YAML refuses or treats apart.

    isprintable() is False for the line breaks YAML counts (U+0085, U+2028, U+2029), controls,
    the BOM, surrogates, unassigned code points, and no-break and other Unicode spaces.
    """
    if fm[:1] != "\n" or fm[-1:] != "\n" or " #" in fm or "\n..." in fm:
        return False
    if fm.isascii():
        data = fm.encode("ascii")
        return len(data.translate(None, _CONTROLS)) == len(data)
    return "\\" not in fm and fm.replace("\n", "").isprintable()


# A one-line flow mapping `{k: v, k: "v", k}`. In a flow mapping any of ',[]{}' ends a plain
# scalar, so none is allowed inside one here, nor ':' or '#'; keys take no quotes.
_STOPS = r":#,\[\]{}"
_FLOW_KEY = (rf"(?!(?:~|null|Null|NULL) *[:,}}])[^ {re.escape(_INDICATORS)}]"  # null: an error as a key
             rf"""(?:[^{_STOPS}'"]{{0,{_MAX_KEY - 2}}}[^ {_STOPS}'"])?""")
_FLOW_VALUE = rf"""(?:"[^"]*"|'[^']*'|[^ {re.escape(_INDICATORS)}](?:[^{_STOPS}]*[^ {_STOPS}])?)"""


def _entry(group: str) -> str:
    """`key`, `key: plain`, `key: "text"` or `key: 'text'`; group '(' captures key and value."""
    return rf"{group}{_FLOW_KEY})(?:: +{group}{_FLOW_VALUE}))?"


# The first three entries as (key, value as written), the rest as written: few have more.
_FLOW = re.compile(rf"\{{ *{_entry('(')}(?: *, *{_entry('(')})?(?: *, *{_entry('(')})?"
                   rf"((?: *, *{_entry('(?:')})*) *\}}")
# Entries past the third, each with the ',' before it.
_FLOW_ITEMS = re.compile(rf", *{_entry('(')}")


def _flow_mapping(flow: str) -> dict | None:
    """A one-line flow mapping as a dict; None if it is not of the simple kind, or writes a key twice."""
    m = _FLOW.fullmatch(flow)
    if m is None:
        return None
    k1, v1, k2, v2, k3, v3, rest = m.groups()
    mapping = {k1: _flow_scalar(v1)}
    for key, value in ((k2, v2), (k3, v3), *(_FLOW_ITEMS.findall(rest) if rest else ())):
        if key is None:
            continue  # fewer than three entries
        if key in mapping:
            return None
        mapping[key] = _flow_scalar(value)
    return mapping


def _flow_scalar(value: str | None):
    """A flow mapping's value as written: nothing (None or ''), quoted, or plain."""
    if not value:
        return None
    if value[0] == '"' or value[0] == "'":
        return value[1:-1]
    return None if len(value) < 5 and value in _NULLS else value


_WS = re.compile(r"\s+")


def fold(name: str) -> str:
    """The form in which names are compared: case-insensitive after Unicode normalisation, white space folded (spec
    section 4): 'Zoë' typed as 'Zoe' plus a combining diaeresis (NFD) is the participant 'Zoë' (NFC); issue 21, item 9."""
    folded = _WS.sub(" ", name).strip()
    if folded.isascii():
        return folded.casefold()
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", folded).casefold())  # canonical caseless match
