"""try_extract: quotes.extract_quotes' answer for a plain body in a few passes over the whole of it (issue 5).

Most transcripts are nothing but paragraphs. When no line of a body can start a block other than a
paragraph, its paragraphs are its runs of non-blank lines, exactly as markdown-it would find them; and
when a paragraph's only brackets are simple `[words]{.tag}` spans and timestamps, with no character that
starts inline markup, the spans are exactly what the attrs plugin would find. Anything else is None here,
and quotes.extract_quotes (markdown-it) decides. tests/test_fastpath.py checks the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .markdown import escape_html, markdown
from .model import Diagnostic, Participant
from .quotes import (PROSE, STAMP_REST, TIMESTAMP, UNKNOWN, UNRESOLVED, Extraction, RawQuote, Turn,
                     Walk, add_quote, collect_spans, hhmmss, nested_brackets, parse_inline, read_label, relabel,
                     speaker_of, token_text, unknown_speaker)
from .spans_fast import ANY_TIMESTAMP, SIMPLE_SPAN, simple_spans, span_attrs

if TYPE_CHECKING:
    from markdown_it.token import Token


def try_extract(body: str, walk: Walk) -> Extraction | None:
    """What quotes.extract_quotes gives for this body, when the body is plain; None (and `walk` as it was) when
    markdown-it must decide."""
    done = _render_simple(body, walk) if walk.render else _scan_simple(body, walk)
    result = walk.result
    return result if done else None

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

_WORD_MARKUP = re.compile(r"[`&*_~]")


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
_BARE_LABEL = re.compile(rf"\n\n{_PLAIN_NAME}(?=[^\S \t]|\[|\Z)")
"""A plain label that no space or tab follows (the line ends, a quote or a timestamp follows, the paragraph does, or
other white space that markdown-it may strip: '\u3000'): a body holding one is not plain, and read_label decides."""
# A paragraph opening with white space, blank lines in a row, or a blank line holding spaces: _PARAGRAPH's case.
_ODD_PARAGRAPH = re.compile(r"\n\n(?:\s|\Z)|\n[ \t]+\n")


def _scan_simple(body: str, walk: Walk) -> bool:
    """Quotes of a plain body without a Python step per paragraph; False (nothing done) when it is not plain.

    The same answers as markdown-it's walk (tests/test_fastpath.py). One regex lists the
    labels; when every one names a participant or is prose, no label needs a warning, and only the
    paragraphs holding a `]{` are visited, each looking back for its turn (benchmarks/README.md, item 3).
    """
    simple = _labelled_text(body)
    if simple is None:
        return False
    lead, text, labels = simple
    by_name, line_offset = walk.by_name, walk.line_offset
    speakers = _speakers(labels, by_name)
    if UNKNOWN in speakers.values():
        _warn_unknown(text, by_name, walk.path, line_offset + lead - 1, walk.result.diagnostics)
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
                             _turn_before(text, start, speakers, by_name), walk)
        position = text.find("]{", end)
    walk.result.ends = ends  # every `]{` is in a paragraph visited: text is the body less white space at its ends
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
# _ODD_PARAGRAPH's "\n\n" before white space, and a _BARE_LABEL; its group is never empty. Every alternative starts
# with the "\n" outside them, so re skips to each one fast.


_LINE_STARTS = re.compile(
    rf"\n(?:(?=\n(?:{_BOLD_NAME}|{_PLAIN_NAME}[ \t]+))"
    r"|([^*A-Za-z\n\[]|\*(?:[ \t_-]|$|\*[ \t]*(?:[*_-]|$))|\[[^\]]*\]:|\n(?:\s|\Z)"
    rf"|\n{_PLAIN_NAME.replace('(', '(?:', 1)}(?=[^\S \t]|\[|\Z)))", re.MULTILINE)


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
    if simple is None or _BARE_LABEL.search(simple[1]):
        return None
    return (*simple, set(_TURN_START.findall(simple[1])))


def _speakers(labels: set[tuple[str, str]], by_name: dict[str, Participant]) -> dict[tuple[str, str], Participant | str]:
    """Who each label (_TURN_START's groups) names: each is looked up once."""
    return {label: speaker_of((label[0] or label[1]).strip(), bool(label[0]), by_name) for label in labels}


def _turn_before(text: str, start: int, speakers: dict[tuple, object], by_name: dict[str, Participant]) -> Turn | None:
    """The turn a paragraph (text[start] is the "\n\n" before it) belongs to: its label or the last one before."""
    while start != -1:
        turn = _label_turn(text, _TURN_START.match(text, start), speakers, by_name)
        if turn is not None:
            return turn
        start = text.rfind("\n\n", 0, start)
    return None


def _label_turn(text: str, match: re.Match | None, speakers: dict[tuple, object],
                by_name: dict[str, Participant]) -> Turn | None:
    """The turn a label match starts, or None when it is not one (prose)."""
    if match is None:
        return None
    label = match.groups()
    name = (label[0] or label[1]).strip()
    speaker = speakers.get(label) or speaker_of(name, bool(label[0]), by_name)
    if speaker is PROSE:
        return None
    return Turn(None if speaker is UNKNOWN else speaker, name, hhmmss(TIMESTAMP.match(text, match.end())))


def _warn_unknown(text: str, by_name: dict[str, Participant], path: str, first_line: int,
                  diagnostics: list[Diagnostic]) -> None:
    """read_label's warning for each label naming someone who is not a participant (first_line: text's line 0)."""
    line, counted = first_line, 0
    for match in _TURN_START.finditer(text):
        turn = _label_turn(text, match, {}, by_name)
        if turn is not None and turn.speaker is None:
            line += text.count("\n", counted, match.start() + 2)
            counted = match.start() + 2
            diagnostics.append(unknown_speaker(path, line, turn.label, by_name))


def _words(words: str) -> tuple[str, str]:
    """Plain text and HTML of a span's words."""
    if not _WORD_MARKUP.search(words):
        return words, escape_html(words)
    children = parse_inline(words, {})
    return "".join(token_text(t) for t in children), markdown().renderer.renderInline(children, markdown().options, {})


def _render_paragraph(content: str, line: int, turn: Turn | None, walk: Walk) -> tuple[Turn | None, str]:
    """The turn after one paragraph, and its inline HTML: _plain_html's, or markdown-it's when that gives up."""
    found = read_label(content, walk.by_name, walk.path, line, walk.result.diagnostics)
    if found is not None:
        turn = found
    spans = simple_spans(content) if "]{" in content else []
    inline = None if spans is None else _plain_html(content, spans, found, line, turn, walk)
    if inline is None:
        inline = _markdown_it_paragraph(content, found, line, turn, walk)
    return turn, inline


def _quotes_of_paragraph(content: str, spans: list | None, line: int, turn: Turn | None, walk: Walk) -> None:
    """The quotes of one paragraph: from its simple spans, or from markdown-it when spans is None."""
    if spans is None:
        token = _inline(content)
        collect_spans(token, line, turn, walk)
        return
    for offset, words, classes, explicit in spans:
        text, words_html = _words(words)
        add_quote((classes, explicit), (text, words_html), line + offset, turn, walk)


def _inline(content: str) -> Token:
    """A paragraph as markdown-it's inline token, for markdown-it to decide (it is loaded now)."""
    from markdown_it.token import Token

    return Token("inline", "", 0, content=content, children=parse_inline(content, {}))


def _markdown_it_paragraph(content: str, found: Turn | None, line: int, turn: Turn | None, walk: Walk) -> str:
    token = _inline(content)
    if found is not None and walk.speaker_label is not None:
        relabel(token, found, walk.speaker_label)
    if "]{" in content:
        collect_spans(token, line, turn, walk)
    return markdown().renderer.renderInline(token.children, markdown().options, {})


_PLAIN_BOLD_LABEL = re.compile(r"\*\*(?=\S)([^*\n`\\<&_~\[\]{}]{1,80}?:)\*\*(?=[ \t]|$)")
_NOT_PLAIN = re.compile(r"[`\\<&*_~\[\]{}]")
_LINE_BREAK = re.compile(r"( *)\n[ \t]*")


def _plain_text(text: str) -> str | None:
    """HTML of text with no inline markup but simple emphasis and code (as markdown-it renders it), or None if it
    has other markup."""
    if not _NOT_PLAIN.search(ANY_TIMESTAMP.sub("", text)):
        return _text_html(text)
    if _NOT_PLAIN.search(ANY_TIMESTAMP.sub("", _SIMPLE_MARKUP.sub(" ", text))):  # the markup rendered below, and
        return None  # nothing else
    parts, position = [], 0
    for match in _SIMPLE_MARKUP.finditer(text):
        strong, em, em_, code = match.groups()
        parts.append(_text_html(text[position:match.start()]))
        parts.append(f"<strong>{strong}</strong>" if strong else f"<em>{em or em_}</em>" if em or em_
                     else f"<code>{escape_html(code)}</code>")
        position = match.end()
    parts.append(_text_html(text[position:]))
    return "".join(parts)


def _text_html(text: str) -> str:
    return _LINE_BREAK.sub(lambda m: "<br />\n" if len(m.group(1)) >= 2 else "\n", escape_html(text))


_WORDS = r"[^\W_](?:[^\W_]|[ '-](?=[^\W_]))*"
"""Words: letters and digits, a space, an apostrophe or a hyphen only between two of them (nothing to escape)."""

_SIMPLE_MARKUP = re.compile(  # between a space or a line's start and a space, a line's end or ,.;:!? (not the
    # text's own start or end: what is next to it there is a span's, which decides too)
    rf"(?<=[ \n])(?:\*\*({_WORDS})\*\*|\*({_WORDS})\*|_({_WORDS})_|`([^`\s](?:[^`\n]*[^`\s])?)`)(?=[ \n,.;:!?])")
"""Markup the fast path renders itself: **strong**, *em* and _em_ around plain words, and `code` (no backtick
or line end in it, no space at its ends), each standing alone between spaces or punctuation, where CommonMark's
rules for delimiters leave one answer (tests/test_fastpath.py compares them with markdown-it's)."""


def _plain_html(content: str, spans: list, found: Turn | None, line: int, turn: Turn | None,
                walk: Walk) -> str | None:
    """A paragraph of plain text, a bold label and simple spans, rendered without markdown-it; else None."""
    speaker_label = walk.speaker_label
    parts = []
    position = 0
    label = _PLAIN_BOLD_LABEL.match(content)
    if label:
        strong = label.group(1)
        if found is not None and speaker_label is not None:
            strong = strong.replace(found.label, speaker_label(found.speaker), 1)
        parts.append(f"<strong>{escape_html(strong)}</strong>")
        position = label.end()
    elif found is not None and speaker_label is not None:
        published = speaker_label(found.speaker)
        if _NOT_PLAIN.search(published):  # markdown-it keeps a published name as text, never as markup
            return None
        content = content.replace(found.label, published, 1)
    matches = list(SIMPLE_SPAN.finditer(content, position))
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
    if tail is None or not all(_clean_quote(words, classes, turn, walk.tags) for _, _, words, classes, _ in pending):
        return None  # markdown-it renders (and reports) what is not a clean quote
    for text, offset, words, classes, explicit in pending:
        quote = add_quote((classes, explicit), (words, escape_html(words)), line + offset, turn, walk)
        parts += [text, _mark(quote, words, walk.date_iso)]
    parts.append(tail)
    return "".join(parts)


def _clean_quote(words: str, classes: list[str], turn: Turn | None, tags: dict[str, str]) -> bool:
    """Whether add_quote takes a span as a quote with nothing to report."""
    speaker = turn.speaker if turn is not None else None
    return bool(classes and words.strip() and speaker is not None
                and speaker.role not in ("internal", "unknown", UNRESOLVED) and all(c in tags for c in classes))


def _mark(quote: RawQuote, words: str, date_iso: str) -> str:
    """A quote's words as the anchor its published transcript is linked at."""
    return (f'<mark id="{escape_html(quote.id)}" class="quote" data-quote-id="{escape_html(quote.id)}" '
            f'data-tags="{escape_html(" ".join(quote.tags))}" data-date="{escape_html(date_iso)}" dir="auto">'
            f'{escape_html(words)}</mark>')

# --- Rendering bodies in one pass (benchmarks/README.md, "Rendering bodies in one pass") -----------------------
# _plain_html renders a paragraph with several regex calls of its own; here the plain paragraphs of a body get
# the same HTML from a few calls over the whole body. A paragraph is plain when, its leading bold label, its
# spans and its timestamps set aside, no character is left that starts inline markup, it does not end in white
# space, and each of its spans is a clean quote: then _plain_html would render it, and the calls below do what
# it does. Every other paragraph goes to _render_paragraph (and so, if need be, to markdown-it).


_SET_ASIDE = re.compile(rf"\[(?<!!\[)(?:{STAMP_REST}|[^\[\]{{}}\n`\\<&*_~]*\]\{{[^{{}}\n]*\}})")  # "![": an image?

_MARKUP = "`\\<&_~[]{}"  # _NOT_PLAIN's characters; '*' is looked for once bold labels are relabelled
_ENDS_IN_SPACE = re.compile(r"\n\n(?<=\s\n\n)")
_HARD_BREAK = re.compile(r"  +\n[ \t]*")  # _LINE_BREAK's two cases
_SOFT_BREAK = re.compile(r" \n[ \t]*|\n[ \t]+")
_ESCAPED = '&<>"'  # what escape_html changes


def _render_simple(body: str, walk: Walk) -> bool:
    """Render a plain body in a few passes over the whole of it; False (nothing done) when it is not plain.

    The same Extraction as markdown-it's walk (tests/test_fastpath.py). Labels are replaced in
    the escaped body, so a participant's name must escape to itself; _relabels says what else is not plain.
    """
    simple = _labelled_text(body)
    by_name, line_offset = walk.by_name, walk.line_offset
    if simple is None or any(c in name for name in by_name for c in _ESCAPED):
        return False
    lead, text, labels = simple
    speakers = _speakers(labels, by_name)
    relabels = _relabels(speakers, walk.speaker_label)
    if relabels is None:
        return False
    paragraphs = text.split("\n\n")
    relabelled = _relabelled(text, relabels)
    odd = _holding(_SET_ASIDE.sub("x", text), _MARKUP) | _holding(relabelled, "*") | _ending_in_space(text, paragraphs)
    spans = _clean_spans(text, paragraphs, odd, speakers, walk, line_offset + lead - 1)
    html = _html_paragraphs(relabelled)
    pending = iter(spans)

    def mark(match: re.Match) -> str:
        words, classes, explicit, turn, line = next(pending)[1:]
        quote = add_quote((classes, explicit), (words, escape_html(words)), line, turn, walk)
        return _mark(quote, words, walk.date_iso)

    for index in sorted(odd.union(span[0] for span in spans)):  # in order: quote ids count the ones before
        if index not in odd:
            html[index] = SIMPLE_SPAN.sub(mark, html[index])
            continue
        start = _start(paragraphs, index)
        turn = _turn_before(text, text.rfind("\n\n", 0, start - 2), speakers, by_name)
        html[index] = _render_paragraph(paragraphs[index].strip(), line_offset + lead + text.count("\n", 2, start) + 1,
                                        turn, walk)[1]
    walk.result.body_html = "<p>" + "</p>\n<p>".join(html[1:]) + "</p>\n"
    return True


def _relabels(speakers: dict[tuple[str, str], Participant | str],
              speaker_label: Callable[[Participant | None], str] | None) -> dict[str, str] | None:
    """What each label naming a participant becomes in HTML: a bold "\n\n**Name:**" or a plain "\n\nName:".

    None when the body is not plain: a label names someone who is not a participant (read_label warns), or a
    published name would be changed by the line-break rules (it holds a line break or starts with white space),
    read as a span (it holds "]{"), or relabelled again (in a plain label, it holds a colon or is another label).
    """
    relabels = {}
    for (strong, written), speaker in speakers.items():
        if speaker is UNKNOWN:
            return None
        if speaker is PROSE:
            continue
        name = (strong or written).strip()
        published = name if speaker_label is None else speaker_label(speaker)
        if "\n" in published or published[:1] in (" ", "\t") or "]{" in published:
            return None
        if strong and _PLAIN_BOLD_LABEL.match(f"**{strong}:** "):  # other bold labels stay in odd paragraphs
            published = escape_html(f"{strong}:".replace(name, published, 1))
            relabels[f"\n\n**{strong}:**"] = f"\n\n<strong>{published}</strong>"
        elif written:
            if ":" in published:  # "Name: and" would be found as a label in turn
                return None
            relabels[f"\n\n{written}:"] = f"\n\n{escape_html(published)}{written[len(name):]}:"
    if any(relabels.get(new, new) != new for new in relabels.values()):
        return None
    return relabels


def _relabelled(text: str, relabels: dict[str, str]) -> str:
    """A _simple_text escaped, its labels relabelled where _PLAIN_BOLD_LABEL and _PLAIN_LABEL find them.

    That is where a space or tab follows (a plain paragraph goes on after its label: it does not end in white space);
    elsewhere, as at the end of a paragraph, a bold label keeps its '*' for _render_simple to find.
    """
    html = escape_html(text) if any(c in text for c in _ESCAPED) else text
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
                 walk: Walk, first_line: int) -> list[tuple]:
    """(paragraph, words, classes, id, turn, line) of the spans outside odd paragraphs; a paragraph with a span
    that is not a clean quote is added to odd. first_line: the line of text[0]."""
    spans, line, counted, by_name, tags = [], first_line, 0, walk.by_name, walk.tags
    for index in [i for i, paragraph in enumerate(paragraphs) if "]{" in paragraph and i not in odd]:
        start = _start(paragraphs, index)
        turn = _turn_before(text, start - 2, speakers, by_name)
        line += text.count("\n", counted, start)
        counted = start
        found, paragraph, in_paragraph, counted_in = [], paragraphs[index], 0, 0
        if nested_brackets(paragraph):  # a '[' left open before a span (simple_spans): markdown-it decides
            odd.add(index)
            continue
        for match in SIMPLE_SPAN.finditer(paragraph):
            attrs = span_attrs(match[2])
            if attrs is None or not _clean_quote(match[1], attrs[0], turn, tags):
                odd.add(index)
                break
            in_paragraph += paragraph.count("\n", counted_in, match.start())  # from the last span: linear
            counted_in = match.start()
            found.append((index, match[1], *attrs, turn, line + in_paragraph))
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
