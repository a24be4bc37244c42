"""extract_quotes: a walk over the markdown-it tokens of a transcript body.

Spec section 4: a speaker turn starts with a paragraph that opens with a label;
paragraphs without one continue the turn; a tagged quote is `[words]{.tag}`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from functools import lru_cache
from dataclasses import dataclass, field
from typing import NamedTuple

from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token

from .frontmatter_yaml import fold
from .markdown import allowed_span_attribute, block_markdown, markdown
from .model import Diagnostic, Participant, error, warning
from .suggest import did_you_mean

_BOLD_LABEL = re.compile(r"^\*\*(?P<name>[^*\n]{1,80}?)(?::\*\*|\*\*:)[ \t]*")
_PLAIN_LABEL = re.compile(r"^(?P<name>[^\s:*\[\]`#>][^:\n*\[\]`]{0,79}?):[ \t]+")
# A turn's [hh:mm:ss] right after its label; _ANY_STAMP is any timestamp that is not a span, link or reference.
_TIMESTAMP = re.compile(r"[ \t]*\[(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})\]")
_STAMP_REST = r"(?:\d{1,2}:)?\d{1,2}:\d{2}\](?![{(\[])"
_ANY_STAMP = r"\[" + _STAMP_REST
_NAME_LIKE = re.compile(r"^[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,3}$")
# Words that open a note rather than a turn ("Note: ..."), so never warned about.
_NOT_NAMES = {"note", "notes", "summary", "context", "agenda", "update", "action items", "next steps",
              "recap", "attendees", "background", "question", "answer", "q", "a", "tl;dr", "edit", "todo"}


UNRESOLVED = "?"
"""The role of a participant whose role no persona defines: reported where it is written; their label still names
them, and their tagged quotes wait for the fix without errors of their own."""


class RawQuote(NamedTuple):
    """A quote as found in one transcript, before dates and roles are attached (a named tuple, made for
    every quote of every file: a frozen dataclass's __init__ costs several times as much)."""

    id: str
    explicit_id: bool
    tags: tuple[str, ...]
    text: str
    html: str
    speaker: Participant
    line: int
    timestamp: str | None


@dataclass
class Extraction:
    """What the walk over one body found."""

    quotes: list[RawQuote] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    spans: int = 0
    """How many tag spans (`[words]{.tag}`) the walk read, quotes or not: misspelt_spans looks closer only at a
    body with more `]{` than that."""
    ends: int | None = None
    """How many `]{` the body holds, when the walk counted them (the fast scan: cheaper than a count of the body)."""
    body_html: str | None = None


class _Turn(NamedTuple):
    speaker: Participant | None  # None: an unknown label
    label: str
    timestamp: str | None


def quote_id(transcript: str, text: str) -> str:
    """Stable while the words and the transcript stay the same (spec section 6)."""
    digest = hashlib.sha256(f"{transcript}\0{text}".encode()).hexdigest()
    return f"q-{digest[:10]}"


def extract_quotes(
    body: str,
    *,
    path: str,
    doc: str,
    line_offset: int,
    participants: tuple[Participant, ...],
    tags: dict[str, str],
    render_body: bool = False,
    speaker_label: Callable[[Participant | None], str] | None = None,
    fast: bool = True,
) -> Extraction:
    """Find the tagged quotes of a body; with render_body, also render it with anchors.

    path names the file in diagnostics; doc names the transcript in quote ids.
    speaker_label gives the published name of a speaker (None: a label that is
    not a participant), so a rendered body honours `attribution`.
    """
    by_name = {_fold(p.name): p for p in participants}
    result = Extraction()
    if fast:
        if render_body and _render_simple(body, by_name, path, doc, line_offset, tags, result, speaker_label):
            return result
        if not render_body and _scan_simple(body, by_name, path, doc, line_offset, tags, result):
            return result
        paragraphs = simple_paragraphs(body)
        if paragraphs is not None:
            _extract_simple(paragraphs, by_name, path, doc, line_offset, tags, result,
                            speaker_label if render_body else None, render_body)
            return result
    md = markdown() if render_body else block_markdown()
    env: dict = {}
    tokens = md.parse(body, env)
    turn: _Turn | None = None
    seen_ids: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if token.type in ("heading_open", "hr"):
            turn = None
            continue
        if token.type != "inline" or token.map is None:
            continue
        line = line_offset + token.map[0] + 1
        opener = tokens[index - 1] if index else token
        if opener.type == "paragraph_open" and opener.level == 0:
            found = _label(token.content, by_name, path, line, result.diagnostics)
            if found is not None:
                turn = found
                if render_body and speaker_label is not None:
                    _relabel(token, found, speaker_label)
        if "]{" not in token.content:
            continue
        if not render_body:
            token.children = _parse_inline(token.content, env)
        _collect(token, line, turn, path, doc, tags, seen_ids, result)
    if render_body:
        result.body_html = md.renderer.render(tokens, md.options, env)
    return result


# --- The fast path (issue 5): most transcripts are nothing but paragraphs. -------------------------
# When no line of a body can start a block other than a paragraph, its paragraphs are its runs of
# non-blank lines, exactly as markdown-it would find them; and when a paragraph's only brackets are
# simple `[words]{.tag}` spans and timestamps, with no character that starts inline markup, the spans
# are exactly what the attrs plugin would find. Anything else goes to markdown-it itself.
# tests/test_fastpath.py checks the two paths agree.
_BLOCK_START = re.compile(  # searched in "\n" + body: a literal first character lets re skip ahead fast
    r"\n(?: {4}| {0,3}\t| {0,3}(?:[*+-](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|#{1,6}(?:[ \t]|$)|`{3}|~{3}|>|=+[ \t]*$"
    r"|-+[ \t]*$|[*_-](?:[ \t]*[*_-]){2,}[ \t]*$|\[[^\]]*\]:|\|))", re.MULTILINE)
# Every line that _BLOCK_START can match starts with one of these; most transcript lines start with a letter
# or a bold label, so this cheaper search usually settles it.
_MAYBE_BLOCK = re.compile(r"\n(?:[^*A-Za-z\n\[]|\*(?:[ \t_-]|$|\*[ \t]*(?:[*_-]|$))|\[[^\]]*\]:)", re.MULTILINE)
_BLANK_WITH_SPACES = re.compile(r"^[ \t]+$", re.MULTILINE)
_PARAGRAPH = re.compile(r"(?:^[ \t]*[^ \t\n][^\n]*(?:\n|\Z))+", re.MULTILINE)  # only space and tab are blank
_SIMPLE_SPAN = re.compile(r"\[([^\[\]\n]*)\]\{([^{}\n]*)\}")
_ANY_TIMESTAMP = re.compile(_ANY_STAMP)
_STRUCTURE = re.compile(r"[\\<]|!\[")  # escapes, autolinks, images: markdown-it decides
_SIMPLE_LINK = re.compile(r"\[[^\[\]\n]*\]\([^()\s<>]*\)")
_BACKTICKS = re.compile(r"`+")
_WORD_MARKUP = re.compile(r"[`&*_~]")
_ATTR = re.compile(r"^(?:\.[\w-]+|#q-[\w-]*)$")  # another id is dropped with a warning: markdown-it's path
_ONE_CLASS = re.compile(r"\.([\w-]+)")  # fullmatch: one class and nothing else, as _span_attrs reads it


def simple_paragraphs(body: str) -> list[tuple[int, str]] | None:
    """(0-based line, content) of each paragraph, or None when the body needs markdown-it's block parser."""
    body = _simple_body(body)
    if body is None:
        return None
    paragraphs = []
    if _BLANK_WITH_SPACES.search(body):  # blank lines holding spaces: let the regex find the runs
        line, position = 0, 0
        for match in _PARAGRAPH.finditer(body):
            line += body.count("\n", position, match.start())
            position = match.start()
            paragraphs.append((line, match.group().strip()))
        return paragraphs
    line = 0
    for chunk in body.split("\n\n"):
        stripped = chunk.strip("\n")
        if stripped:
            paragraphs.append((line + len(chunk) - len(chunk.lstrip("\n")), stripped.strip()))
        line += chunk.count("\n") + 2
    return paragraphs


def _simple_body(body: str) -> str | None:
    """The body with plain newlines, or None when a line could start a block other than a paragraph, or it holds
    a character markdown-it keeps that str.strip() and str.splitlines() treat as white space or a line end."""
    if "\r" in body:
        body = body.replace("\r\n", "\n").replace("\r", "\n")
    if _not_plain(body):
        return None
    lines = "\n" + body
    if _MAYBE_BLOCK.search(lines) and _BLOCK_START.search(lines):
        return None
    return body


def _not_plain(body: str) -> bool:
    """Whether body holds a character that keeps it from the fast paths: \0; a pipe (a table row, maybe); \x1c to
    \x1f or \x85, which markdown-it keeps at a paragraph's ends, where the fast paths' strip() would drop them,
    and which end a line for splitlines(). A test for each, in C."""
    return ("\0" in body or "|" in body or "\x1c" in body or "\x1d" in body or "\x1e" in body or "\x1f" in body
            or (not body.isascii() and "\x85" in body))


# A label at a paragraph start: _BOLD_LABEL or _PLAIN_LABEL (the timestamp after it is read only when a
# quote needs it). The names' repeats are greedy here: a name holds no '*' (bold) or no ':' (plain), so
# greedy and lazy end at the same place, greedy sooner.
_BOLD_NAME = r"\*\*([^*\n]{1,80})(?::\*\*|\*\*:)"
_PLAIN_NAME = r"([^\s:*\[\]`#>][^:\n*\[\]`]{0,79}+):"  # possessive: a shorter name cannot end at a colon
_TURN_START = re.compile(rf"\n\n(?:{_BOLD_NAME}|{_PLAIN_NAME}[ \t]+)")
# A paragraph opening with white space, blank lines in a row, or a blank line holding spaces: _PARAGRAPH's case.
_ODD_PARAGRAPH = re.compile(r"\n\n(?:\s|\Z)|\n[ \t]+\n")
_PROSE, _UNKNOWN = "prose", "unknown"


def _scan_simple(body: str, by_name: dict[str, Participant], path: str, doc: str, line_offset: int,
                 tags: dict[str, str], result: Extraction) -> bool:
    """Quotes of a plain body without a Python step per paragraph; False (nothing done) when it is not plain.

    The same answers as simple_paragraphs + _extract_simple (tests/test_fastpath.py). One regex lists the
    labels; when every one names a participant or is prose, no label needs a warning, and only the
    paragraphs holding a `]{` are visited, each looking back for its turn (benchmarks/README.md, item 3).
    """
    simple = _labelled_text(body)
    if simple is None:
        return False
    lead, text, labels = simple
    speakers = _speakers(labels, by_name)
    if _UNKNOWN in speakers.values():
        _warn_unknown(text, by_name, path, line_offset + lead - 1, result.diagnostics)
    seen_ids: dict[str, int] = {}
    line, counted, ends = lead, 2, 0
    position = text.find("]{")
    while position != -1:
        start = text.rfind("\n\n", 0, position)
        end = text.find("\n\n", position)
        end = len(text) if end == -1 else end
        line += text.count("\n", counted, start + 2)
        counted = start + 2
        content = text[start + 2:end].strip()
        ends += content.count("]{")
        _quotes_of_paragraph(content, simple_spans(content), line_offset + line + 1,
                             _turn_before(text, start, speakers, by_name), path, doc, tags, seen_ids, result)
        position = text.find("]{", end)
    result.ends = ends  # every `]{` is in a paragraph visited: text is the body less white space at its ends
    return True


def _simple_text(body: str) -> tuple[int, str] | None:
    """(blank lines before it, "\n\n" + each paragraph) of a body whose paragraphs are split by single blank lines.

    None when simple_paragraphs would not simply split it (or would give it to markdown-it).
    """
    plain = _simple_body(body)
    if plain is None:
        return None
    lead = len(plain) - len(plain.lstrip("\n"))
    text = "\n\n" + plain[lead:].rstrip(" \t\n")  # not "\n\n\xa0": a paragraph for markdown-it
    return None if _ODD_PARAGRAPH.search(text) else (lead, text)


# _labelled_text's one pass, at each "\n": the first alternative finds what _TURN_START finds, with the same
# groups, in a lookahead that leaves the label's second "\n" to the second; that one finds what _MAYBE_BLOCK finds
# (a line that may start a block other than a paragraph; that takes in _ODD_PARAGRAPH's "\n[ \t]+\n") and
# _ODD_PARAGRAPH's "\n\n" before white space, and its group is never empty. Every alternative starts with the
# "\n" outside them, so re skips to each one fast.
_LINE_STARTS = re.compile(
    rf"\n(?:(?=\n(?:{_BOLD_NAME}|{_PLAIN_NAME}[ \t]+))"
    r"|([^*A-Za-z\n\[]|\*(?:[ \t_-]|$|\*[ \t]*(?:[*_-]|$))|\[[^\]]*\]:|\n(?:\s|\Z)))", re.MULTILINE)


def _labelled_text(body: str) -> tuple[int, str, set[tuple[str, str]]] | None:
    """_simple_text's (lead, text), and the set of _TURN_START's groups in text; None when it is not plain.

    Usually one regex pass (_LINE_STARTS), not four: only when a line starts otherwise than with a letter, a
    bold label or a blank line do _simple_text's searches and _TURN_START run to decide.
    """
    if "\r" not in body and not _not_plain(body):
        lead = len(body) - len(body.lstrip("\n"))
        content = body[lead:].rstrip(" \t\n")
        tail = body[lead + len(content):]  # white space text leaves out, where _BLOCK_START may see indented code
        found = set(_LINE_STARTS.findall("\n\n" + content))
        if "\n " not in tail and "\n\t" not in tail and not any(odd for _, _, odd in found):
            return lead, "\n\n" + content, {(bold, plain) for bold, plain, _ in found}
    simple = _simple_text(body)
    return None if simple is None else (*simple, set(_TURN_START.findall(simple[1])))


def _speakers(labels: set[tuple[str, str]], by_name: dict[str, Participant]) -> dict[tuple[str, str], Participant | str]:
    """Who each label (_TURN_START's groups) names: each is looked up once."""
    return {label: _speaker((label[0] or label[1]).strip(), bool(label[0]), by_name) for label in labels}


def _speaker(name: str, bold: bool, by_name: dict[str, Participant]) -> Participant | str:
    """Who a label names: the participant, _PROSE ("Next steps:" is not a turn) or _UNKNOWN."""
    speaker = by_name.get(_fold(name))
    if speaker is not None:
        return speaker
    if not bold and (not _NAME_LIKE.match(name) or fold(name) in _NOT_NAMES):
        return _PROSE
    return _UNKNOWN


def _unknown_speaker(path: str, line: int, name: str, by_name: dict[str, Participant]) -> Diagnostic:
    hint = did_you_mean(name, [p.name for p in by_name.values()])
    return warning(path, line, f"speaker '{name}' is not in the participants{hint}")


def _hhmmss(stamp: re.Match | None) -> str | None:
    """A _TIMESTAMP match as hh:mm:ss."""
    if stamp is None:
        return None
    hours, minutes, seconds = stamp.groups()
    padded = f"{hours or '0':0>2}:{minutes:0>2}:{seconds}"
    # \d takes any decimal digit: int() makes one written in another script an ASCII one
    return padded if padded.isascii() else f"{int(hours or 0):02d}:{int(minutes):02d}:{seconds}"


def _turn_before(text: str, start: int, speakers: dict[tuple, object], by_name: dict[str, Participant]) -> _Turn | None:
    """The turn a paragraph (text[start] is the "\n\n" before it) belongs to: its label or the last one before."""
    while start != -1:
        turn = _label_turn(text, _TURN_START.match(text, start), speakers, by_name)
        if turn is not None:
            return turn
        start = text.rfind("\n\n", 0, start)
    return None


def _label_turn(text: str, match: re.Match | None, speakers: dict[tuple, object],
                by_name: dict[str, Participant]) -> _Turn | None:
    """The turn a label match starts, or None when it is not one (prose, or a plain name with nothing after)."""
    if match is None:
        return None
    label = match.groups()
    name = (label[0] or label[1]).strip()
    speaker = speakers.get(label) or _speaker(name, bool(label[0]), by_name)
    if speaker is _PROSE:
        return None
    if not label[0]:
        end = text.find("\n\n", match.end())
        if not text[match.end(2) + 1:end if end != -1 else None].strip():
            return None  # "Name:" alone: the stripped paragraph has no space after the colon
    return _Turn(None if speaker is _UNKNOWN else speaker, name, _hhmmss(_TIMESTAMP.match(text, match.end())))


def _warn_unknown(text: str, by_name: dict[str, Participant], path: str, first_line: int,
                  diagnostics: list[Diagnostic]) -> None:
    """_label's warning for each label naming someone who is not a participant (first_line: text's line 0)."""
    line, counted = first_line, 0
    for match in _TURN_START.finditer(text):
        turn = _label_turn(text, match, {}, by_name)
        if turn is not None and turn.speaker is None:
            line += text.count("\n", counted, match.start() + 2)
            counted = match.start() + 2
            diagnostics.append(_unknown_speaker(path, line, turn.label, by_name))


def simple_spans(content: str) -> list[tuple[int, str, list[str], str | None]] | None:
    """(line within the paragraph, words, classes, id) of each span, or None when markdown-it must decide.

    Code spans bind tighter than brackets, so they are found first (CommonMark's rule:
    a run of n backticks closes at the next run of exactly n); emphasis, entities and
    simple links around a span cannot change it.
    """
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
    rest = content
    for start, end in reversed(code):
        rest = rest[:start] + " " + rest[end:]
    rest = _ANY_TIMESTAMP.sub("", _SIMPLE_LINK.sub("", _SIMPLE_SPAN.sub("", rest)))
    if any(c in rest for c in "[]{"):
        return None
    return spans


# Brackets only in `[words]{attributes}` spans and [hh:mm:ss] timestamps, and none of `\<!{}` elsewhere.
_PLAIN_RUN = r"[^\[\]{}\\<`!]*"
_ONLY_SPANS_AND_TIMESTAMPS = re.compile(
    rf"{_PLAIN_RUN}(?:(?:{_ANY_STAMP}|\[[^\[\]{{}}\\<`!\n]*\]\{{[^{{}}\n]*\}}){_PLAIN_RUN})*\Z")


def _spans_of(content: str, code: list[tuple[int, int]]) -> list[tuple[int, str, list[str], str | None]] | None:
    """simple_spans' answer from the spans _SIMPLE_SPAN finds; None when one overlaps code or has odd attributes."""
    spans = []
    for match in _SIMPLE_SPAN.finditer(content):
        if code and any(start < match.end() and match.start() < end for start, end in code):
            return None
        attrs = _span_attrs(match.group(2))
        if attrs is None:
            return None
        if attrs[0]:
            spans.append((content.count("\n", 0, match.start()), match.group(1), *attrs))
    return spans


def _span_attrs(written: str) -> tuple[list[str], str | None] | None:
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
    spans, index = [], 0
    while index < len(runs):
        start, end = runs[index]
        closer = next((j for j in range(index + 1, len(runs)) if runs[j][1] - runs[j][0] == end - start), None)
        if closer is None:
            index += 1
            continue
        spans.append((start, runs[closer][1]))
        index = closer + 1
    return spans


def _words(words: str) -> tuple[str, str]:
    """Plain text and HTML of a span's words."""
    if not _WORD_MARKUP.search(words):
        return words, escapeHtml(words)
    children = _parse_inline(words, {})
    return "".join(_plain(t) for t in children), markdown().renderer.renderInline(children, markdown().options, {})


def _extract_simple(paragraphs: list[tuple[int, str]], by_name: dict[str, Participant], path: str, doc: str,
                    line_offset: int, tags: dict[str, str], result: Extraction,
                    speaker_label: Callable[[Participant | None], str] | None, render: bool) -> None:
    turn: _Turn | None = None
    seen_ids: dict[str, int] = {}
    html: list[str] = []
    for first, content in paragraphs:
        line = line_offset + first + 1
        if render:
            turn, inline = _render_paragraph(content, line, turn, by_name, path, doc, tags, seen_ids, result,
                                             speaker_label)
            html.append(f"<p>{inline}</p>\n")
            continue
        found = _label(content, by_name, path, line, result.diagnostics)
        if found is not None:
            turn = found
        spans = simple_spans(content) if "]{" in content else []
        _quotes_of_paragraph(content, spans, line, turn, path, doc, tags, seen_ids, result)
    if render:
        result.body_html = "".join(html)


def _render_paragraph(content: str, line: int, turn: _Turn | None, by_name: dict[str, Participant], path: str,
                      doc: str, tags: dict[str, str], seen_ids: dict[str, int], result: Extraction,
                      speaker_label: Callable[[Participant | None], str] | None) -> tuple[_Turn | None, str]:
    """The turn after one paragraph, and its inline HTML: _plain_html's, or markdown-it's when that gives up."""
    found = _label(content, by_name, path, line, result.diagnostics)
    if found is not None:
        turn = found
    spans = simple_spans(content) if "]{" in content else []
    inline = None if spans is None else _plain_html(content, spans, found, speaker_label, line, turn, path, doc,
                                                    tags, seen_ids, result)
    if inline is None:
        inline = _markdown_it_paragraph(content, found, speaker_label, line, turn, path, doc, tags, seen_ids, result)
    return turn, inline


def _quotes_of_paragraph(content: str, spans: list | None, line: int, turn: _Turn | None, path: str, doc: str,
                         tags: dict[str, str], seen_ids: dict[str, int], result: Extraction) -> None:
    """The quotes of one paragraph: from its simple spans, or from markdown-it when spans is None."""
    if spans is None:
        token = Token("inline", "", 0, content=content, children=_parse_inline(content, {}))
        _collect(token, line, turn, path, doc, tags, seen_ids, result)
        return
    for offset, words, classes, explicit in spans:
        text, words_html = _words(words)
        _add_quote(classes, explicit, text, words_html, line + offset, turn, path, doc, tags, seen_ids, result)


def _markdown_it_paragraph(content: str, found: _Turn | None, speaker_label, line: int, turn: _Turn | None,
                           path: str, doc: str, tags: dict[str, str], seen_ids: dict[str, int],
                           result: Extraction) -> str:
    token = Token("inline", "", 0, content=content, children=_parse_inline(content, {}))
    if found is not None and speaker_label is not None:
        _relabel(token, found, speaker_label)
    if "]{" in content:
        _collect(token, line, turn, path, doc, tags, seen_ids, result)
    return markdown().renderer.renderInline(token.children, markdown().options, {})


_PLAIN_BOLD_LABEL = re.compile(r"\*\*(?=\S)([^*\n`\\<&_~\[\]{}]{1,80}?:)\*\*(?=[ \t]|$)")
_NOT_PLAIN = re.compile(r"[`\\<&*_~\[\]{}]")
_LINE_BREAK = re.compile(r"( *)\n[ \t]*")


def _plain_text(text: str) -> str | None:
    """HTML of text with no inline markup (as markdown-it renders it), or None if it has markup."""
    if _NOT_PLAIN.search(_ANY_TIMESTAMP.sub("", text)):
        return None
    return _LINE_BREAK.sub(lambda m: "<br />\n" if len(m.group(1)) >= 2 else "\n", escapeHtml(text))


def _plain_html(content: str, spans: list, found: _Turn | None, speaker_label, line: int, turn: _Turn | None,
                path: str, doc: str, tags: dict[str, str], seen_ids: dict[str, int], result: Extraction) -> str | None:
    """A paragraph of plain text, a bold label and simple spans, rendered without markdown-it; else None."""
    parts = []
    position = 0
    label = _PLAIN_BOLD_LABEL.match(content)
    if label:
        strong = label.group(1)
        if found is not None and speaker_label is not None:
            strong = strong.replace(found.label, speaker_label(found.speaker), 1)
        parts.append(f"<strong>{escapeHtml(strong)}</strong>")
        position = label.end()
    elif found is not None and speaker_label is not None:
        content = content.replace(found.label, speaker_label(found.speaker), 1)
    matches = list(_SIMPLE_SPAN.finditer(content, position))
    if len(matches) != sum(1 for m in matches if m.group(2).strip()) or len(matches) != len(spans):
        return None
    pending = []
    for match, (offset, words, classes, explicit) in zip(matches, spans):
        text = _plain_text(content[position:match.start()])
        if text is None or _WORD_MARKUP.search(words):
            return None
        pending.append((text, offset, words, classes, explicit))
        position = match.end()
    tail = _plain_text(content[position:])
    if tail is None or not all(_clean_quote(words, classes, turn, tags) for _, _, words, classes, _ in pending):
        return None  # markdown-it renders (and reports) what is not a clean quote
    for text, offset, words, classes, explicit in pending:
        quote = _add_quote(classes, explicit, words, escapeHtml(words), line + offset, turn, path, doc, tags,
                           seen_ids, result)
        parts += [text, _mark(quote, words)]
    parts.append(tail)
    return "".join(parts)


def _clean_quote(words: str, classes: list[str], turn: _Turn | None, tags: dict[str, str]) -> bool:
    """Whether _add_quote takes a span as a quote with nothing to report."""
    speaker = turn.speaker if turn is not None else None
    return bool(classes and words.strip() and speaker is not None
                and speaker.role not in ("internal", "unknown", UNRESOLVED) and all(c in tags for c in classes))


def _mark(quote: RawQuote, words: str) -> str:
    """A quote's words as the anchor its published transcript is linked at."""
    return (f'<mark id="{escapeHtml(quote.id)}" class="quote" data-quote-id="{escapeHtml(quote.id)}" '
            f'data-tags="{escapeHtml(" ".join(quote.tags))}" dir="auto">{escapeHtml(words)}</mark>')


# --- Rendering bodies in one pass (benchmarks/README.md, "Rendering bodies in one pass") -----------------------
# _plain_html renders a paragraph with several regex calls of its own; here the plain paragraphs of a body get
# the same HTML from a few calls over the whole body. A paragraph is plain when, its leading bold label, its
# spans and its timestamps set aside, no character is left that starts inline markup, it does not end in white
# space, and each of its spans is a clean quote: then _plain_html would render it, and the calls below do what
# it does. Every other paragraph goes to _render_paragraph (and so, if need be, to markdown-it).
_SET_ASIDE = re.compile(rf"\[(?<!!\[)(?:{_STAMP_REST}|[^\[\]{{}}\n`\\<&*_~]*\]\{{[^{{}}\n]*\}})")  # "![": an image?
_MARKUP = "`\\<&_~[]{}"  # _NOT_PLAIN's characters; '*' is looked for once bold labels are relabelled
_ENDS_IN_SPACE = re.compile(r"\n\n(?<=\s\n\n)")
_HARD_BREAK = re.compile(r"  +\n[ \t]*")  # _LINE_BREAK's two cases
_SOFT_BREAK = re.compile(r" \n[ \t]*|\n[ \t]+")
_ESCAPED = '&<>"'  # what escapeHtml changes


def _render_simple(body: str, by_name: dict[str, Participant], path: str, doc: str, line_offset: int,
                   tags: dict[str, str], result: Extraction,
                   speaker_label: Callable[[Participant | None], str] | None) -> bool:
    """Render a plain body in a few passes over the whole of it; False (nothing done) when it is not plain.

    The same Extraction as simple_paragraphs + _extract_simple (tests/test_fastpath.py). Labels are replaced in
    the escaped body, so a participant's name must escape to itself; _relabels says what else is not plain.
    """
    simple = _labelled_text(body)
    if simple is None or any(c in name for name in by_name for c in _ESCAPED):
        return False
    lead, text, labels = simple
    speakers = _speakers(labels, by_name)
    relabels = _relabels(speakers, speaker_label)
    if relabels is None:
        return False
    paragraphs = text.split("\n\n")
    relabelled = _relabelled(text, relabels)
    odd = _holding(_SET_ASIDE.sub("x", text), _MARKUP) | _holding(relabelled, "*") | _ending_in_space(text, paragraphs)
    spans = _clean_spans(text, paragraphs, odd, speakers, by_name, tags, line_offset + lead - 1)
    html = _html_paragraphs(relabelled)
    pending, seen_ids = iter(spans), {}

    def mark(match: re.Match) -> str:
        words, classes, explicit, turn, line = next(pending)[1:]
        quote = _add_quote(classes, explicit, words, escapeHtml(words), line, turn, path, doc, tags, seen_ids, result)
        return _mark(quote, words)

    for index in sorted(odd.union(span[0] for span in spans)):  # in order: quote ids count the ones before
        if index not in odd:
            html[index] = _SIMPLE_SPAN.sub(mark, html[index])
            continue
        start = _start(paragraphs, index)
        turn = _turn_before(text, text.rfind("\n\n", 0, start - 2), speakers, by_name)
        html[index] = _render_paragraph(paragraphs[index].strip(), line_offset + lead + text.count("\n", 2, start) + 1,
                                        turn, by_name, path, doc, tags, seen_ids, result, speaker_label)[1]
    result.body_html = "<p>" + "</p>\n<p>".join(html[1:]) + "</p>\n"
    return True


def _relabels(speakers: dict[tuple[str, str], Participant | str],
              speaker_label: Callable[[Participant | None], str] | None) -> dict[str, str] | None:
    """What each label naming a participant becomes in HTML: a bold "\n\n**Name:**" or a plain "\n\nName:".

    None when the body is not plain: a label names someone who is not a participant (_label warns), or a
    published name would be changed by the line-break rules (it holds a line break or starts with white space),
    read as a span (it holds "]{"), or relabelled again (in a plain label, it holds a colon or is another label).
    """
    relabels = {}
    for (strong, written), speaker in speakers.items():
        if speaker is _UNKNOWN:
            return None
        if speaker is _PROSE:
            continue
        name = (strong or written).strip()
        published = name if speaker_label is None else speaker_label(speaker)
        if "\n" in published or published[:1] in (" ", "\t") or "]{" in published:
            return None
        if strong and _PLAIN_BOLD_LABEL.match(f"**{strong}:** "):  # other bold labels stay in odd paragraphs
            published = escapeHtml(f"{strong}:".replace(name, published, 1))
            relabels[f"\n\n**{strong}:**"] = f"\n\n<strong>{published}</strong>"
        elif written:
            if ":" in published:  # "Name: and" would be found as a label in turn
                return None
            relabels[f"\n\n{written}:"] = f"\n\n{escapeHtml(published)}{written[len(name):]}:"
    if any(relabels.get(new, new) != new for new in relabels.values()):
        return None
    return relabels


def _relabelled(text: str, relabels: dict[str, str]) -> str:
    """A _simple_text escaped, its labels relabelled where _PLAIN_BOLD_LABEL and _PLAIN_LABEL find them.

    That is where a space or tab follows (a plain paragraph goes on after its label: it does not end in white space);
    elsewhere, as at the end of a paragraph, a bold label keeps its '*' for _render_simple to find.
    """
    html = escapeHtml(text) if any(c in text for c in _ESCAPED) else text
    tab = "\t" in text
    for label, new in relabels.items():
        html = html.replace(label + " ", new + " ")
        if tab:
            html = html.replace(label + "\t", new + "\t")
    return html


def _holding(text: str, chars: str) -> set[int]:
    """The paragraphs of text (indices in its split at "\n\n") that hold one of chars.

    A str.find for each character is several times faster than one regex search for them all.
    """
    found = set()
    for char in chars:
        position = text.find(char)
        while position != -1:
            found.add(text.count("\n\n", 0, position))
            end = text.find("\n\n", position)
            position = -1 if end == -1 else text.find(char, end)
    return found


def _ending_in_space(text: str, paragraphs: list[str]) -> set[int]:
    """The paragraphs of a _simple_text that end in white space, which markdown-it strips."""
    if _ENDS_IN_SPACE.search(text) or text[-1].isspace():
        return {i for i, paragraph in enumerate(paragraphs) if paragraph[-1:].isspace()}
    return set()


def _clean_spans(text: str, paragraphs: list[str], odd: set[int], speakers: dict[tuple[str, str], Participant | str],
                 by_name: dict[str, Participant], tags: dict[str, str], first_line: int) -> list[tuple]:
    """(paragraph, words, classes, id, turn, line) of the spans outside odd paragraphs; a paragraph with a span
    that is not a clean quote is added to odd. first_line: the line of text[0]."""
    spans, line, counted = [], first_line, 0
    for index in [i for i, paragraph in enumerate(paragraphs) if "]{" in paragraph and i not in odd]:
        start = _start(paragraphs, index)
        turn = _turn_before(text, start - 2, speakers, by_name)
        line += text.count("\n", counted, start)
        counted = start
        found = []
        for match in _SIMPLE_SPAN.finditer(paragraphs[index]):
            attrs = _span_attrs(match[2])
            if attrs is None or not _clean_quote(match[1], attrs[0], turn, tags):
                odd.add(index)
                break
            found.append((index, match[1], *attrs, turn, line + paragraphs[index].count("\n", 0, match.start())))
        else:
            spans += found
    return spans


def _start(paragraphs: list[str], index: int) -> int:
    """Where paragraphs[index] starts in the text they were split from at "\n\n"."""
    return sum(map(len, paragraphs[:index])) + 2 * index


def _html_paragraphs(relabelled: str) -> list[str]:
    """The paragraphs of a _relabelled body, split at "\n\n" (which line breaks keep), line breaks as _LINE_BREAK's."""
    paragraphs = relabelled.split("\n\n")
    if relabelled.count("\n") > 2 * (len(paragraphs) - 1):  # a line break inside a paragraph
        paragraphs = _SOFT_BREAK.sub("\n", _HARD_BREAK.sub("<br />\n", relabelled)).split("\n\n")
    return paragraphs


def _parse_inline(content: str, env: dict) -> list[Token]:
    """Inline tokens of one paragraph, as a full parse would leave them."""
    md = markdown()
    children: list[Token] = []
    md.inline.parse(content, md, env, children)
    for child in children:  # what the core rule text_join does for a full parse
        if child.type == "text_special":
            child.type = "text"
    return children


def _label(content: str, by_name: dict[str, Participant], path: str, line: int,
           diagnostics: list[Diagnostic]) -> _Turn | None:
    if ":" not in content[:90]:
        return None  # both label forms end with a colon within their first 84 characters
    bold = _BOLD_LABEL.match(content)
    match = bold or _PLAIN_LABEL.match(content)
    if match is None:
        return None
    name = match.group("name").strip()
    speaker = _speaker(name, bold is not None, by_name)
    if speaker is _PROSE:
        return None
    if speaker is _UNKNOWN:
        diagnostics.append(_unknown_speaker(path, line, name, by_name))
        speaker = None
    return _Turn(speaker, name, _hhmmss(_TIMESTAMP.match(content, match.end())))


_fold = lru_cache(maxsize=1024)(fold)  # the same few names, thousands of times


def _relabel(token: Token, turn: _Turn, speaker_label: Callable[[Participant | None], str]) -> None:
    for child in token.children or []:
        if child.type == "text" and turn.label in child.content:
            child.content = child.content.replace(turn.label, speaker_label(turn.speaker), 1)
            return


def _collect(token: Token, line: int, turn: _Turn | None, path: str, doc: str, tags: dict[str, str],
             seen_ids: dict[str, int], result: Extraction) -> None:
    children = token.children or []
    depth = 0
    start = 0
    start_line = line
    for position, child in enumerate(children):
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "span_open":
            _drop_attributes(child, path, line, result.diagnostics)
            depth += 1
            if depth == 1:
                start, start_line = position, line
            elif _is_quote_span(child):
                result.diagnostics.append(error(path, line, "a tagged quote cannot sit inside another one"))
        elif child.type == "span_close":
            depth -= 1
            if depth == 0 and _is_quote_span(children[start]):
                _quote(children, start, position, start_line, turn, path, doc, tags, seen_ids, result)


def _drop_attributes(span: Token, path: str, line: int, diagnostics: list[Diagnostic]) -> None:
    """Keep only the attributes a span may publish (markdown.allowed_span_attribute), with a warning for each other
    one written: the span stays (a quote with its tags), its `style`, `onclick`, `target` or other id go (issue 21,
    item 6). An id on a span with no tag is left to misspelt_spans, which says when it meant a tag ({#pain})."""
    written = {**span.attrs, **span.meta.get("insecure_attrs", {})}  # what the attrs plugin itself set aside too
    dropped = [name for name, value in written.items() if not allowed_span_attribute(name, value)]
    for name in dropped:
        if name != "id":
            diagnostics.append(warning(path, line, f"the attribute '{name}' is not published: a span takes only tags "
                                                   "and an id starting with 'q-', as in '{#q-forecast .pain}'; remove it"))
        elif _is_quote_span(span):
            diagnostics.append(warning(path, line, f"the id '#{written['id']}' is not published: an explicit id starts "
                                                   f"with 'q-', as in '{{#q-{written['id']} .pain}}'"))
    if dropped:
        span.attrs = {name: value for name, value in span.attrs.items() if allowed_span_attribute(name, value)}


def _is_quote_span(token: Token) -> bool:
    return bool(str(token.attrs.get("class", "")).strip())


def _quote(children: list[Token], start: int, end: int, line: int, turn: _Turn | None, path: str, doc: str,
           tags: dict[str, str], seen_ids: dict[str, int], result: Extraction) -> None:
    span = children[start]
    words = children[start + 1:end]
    text = "".join(_plain(t) for t in words)
    html = markdown().renderer.renderInline(words, markdown().options, {})
    written = str(span.attrs.get("class", "")).split()
    found = _add_quote(written, span.attrs.get("id"), text, html, line, turn, path, doc, tags, seen_ids, result)
    if found is not None:
        span.tag = children[end].tag = "mark"
        span.attrs = {"id": found.id, "class": "quote", "data-quote-id": found.id, "data-tags": " ".join(found.tags),
                      "dir": "auto"}  # an isolate: a bidirectional control in the words stops at its end


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")  # Trojan Source (issue 21, item 12)


def _add_quote(written: list[str], explicit: object, text: str, html: str, line: int, turn: _Turn | None,
               path: str, doc: str, tags: dict[str, str], seen_ids: dict[str, int],
               result: Extraction) -> RawQuote | None:
    """Check a span's tags and speaker; record it as a quote, or the problems with it."""
    result.spans += 1
    problems = result.diagnostics
    text = " ".join(text.split())  # runs of white space as one space, as re's \s+ and strip() see it, but faster
    bad = () if len(written) == 1 and written[0] in tags else [t for t in written if t not in tags]  # one: usual
    for tag in bad:
        known = ", ".join(sorted(tags))
        problems.append(error(path, line, f"unknown tag '.{tag}'{did_you_mean(tag, tags)} (tags: {known})"))
    if turn is None:
        problems.append(error(path, line, "this tagged quote is outside a speaker turn: start the paragraph with '**Name:**'"))
        return None
    if turn.speaker is None:
        problems.append(error(path, line, f"this tagged quote follows speaker '{turn.label}', who is not in the participants: "
                                          "add them to 'participants' with their role"))
        return None
    if turn.speaker.role == UNRESOLVED:
        return None
    if turn.speaker.role == "internal":
        problems.append(error(path, line, f"'{turn.speaker.name}' is on our side (role 'internal'); "
                                          "only buyers are quoted: remove the tag"))
        return None
    if turn.speaker.role == "unknown":
        problems.append(error(path, line, f"assign a role to {turn.speaker.name} in the front matter "
                                          "(their role is 'unknown', so their words cannot be quoted)"))
        return None
    if bad or not text:
        if not text:
            problems.append(error(path, line, "this tagged quote has no words"))
        return None
    if not text.isascii() and _BIDI_CONTROL.search(text):
        problems.append(warning(path, line, "this quote holds a bidirectional control character (U+202A to U+202E or "
                                            "U+2066 to U+2069), which can show its words in another order than they "
                                            "are written: delete it (pages isolate each quote)"))
    if explicit:
        qid = str(explicit)
    else:
        qid = quote_id(doc, text)
        seen = seen_ids[qid] = seen_ids.get(qid, 0) + 1
        if seen > 1:
            qid = f"{qid}-{seen}"
    quote = RawQuote(qid, bool(explicit), tuple(dict.fromkeys(written)), text, html.strip(), turn.speaker, line,
                     turn.timestamp)
    result.quotes.append(quote)
    return quote


def _plain(token: Token) -> str:
    if token.type in ("text", "text_special", "code_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return " "
    if token.type == "image":
        return "".join(_plain(c) for c in token.children or [])
    return ""


# --- Spans that were surely meant as tagged quotes but are not (a typo must not drop a quote silently) -----------
_SPAN_END = re.compile(r"\]\{([^{}\n]*)\}")  # in text whose escaped brackets _without_code blanked
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
        if token.type != "inline" or "]{" not in token.content or not token.map:
            continue
        content = token.content
        plain = _without_code(content)
        opened = _opened_brackets(plain)
        for match in _SPAN_END.finditer(plain):
            message = _misspelt(match.group(1), match.start() in opened, names)
            if message is not None:
                problems.append(warning(path, line_offset + token.map[0] + content.count("\n", 0, match.start()) + 1,
                                        message))
    return problems


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
