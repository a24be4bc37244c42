"""extract_quotes: a walk over the markdown-it tokens of a transcript body. The definition of a quote.

Spec section 4: a speaker turn starts with a paragraph that opens with a label;
paragraphs without one continue the turn; a tagged quote is `[words]{.tag}`.
quotes_fast.try_extract gives the same answer for most bodies without markdown-it
(tests/test_fastpath.py compares them); misspelt.py warns of spans that tag nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .frontmatter_yaml import fold
from .markdown import allowed_span_attribute, block_markdown, markdown
from .model import Diagnostic, Participant, error, warning
from .suggest import did_you_mean

if TYPE_CHECKING:
    from markdown_it.token import Token

_BOLD_LABEL = re.compile(r"^\*\*(?P<name>[^*\n]{1,80}?)(?::\*\*|\*\*:)[ \t]*")
_PLAIN_LABEL = re.compile(r"^(?P<name>[^\s:*\[\]`#>][^:\n*\[\]`]{0,79}?):(?:[ \t]+|(?=[\n\[])|$)")
"""A plain label: the name, then a colon that white space, the line's end, a bracket (a quote or a timestamp) or the
paragraph's end follows (so that "Https://" or "Q3:2026" opening a paragraph is prose)."""
# A turn's [hh:mm:ss] right after its label; ANY_STAMP is any timestamp that is not a span, link or reference.
TIMESTAMP = re.compile(r"[ \t]*\[(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})\]")

STAMP_REST = r"(?:\d{1,2}:)?\d{1,2}:\d{2}\](?![{(\[])"
ANY_STAMP = r"\[" + STAMP_REST
_NAME_LIKE = re.compile(r"^[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,3}$")
# Words that open a note rather than a turn ("Note: ..."), so never warned about.
_NOT_NAMES = frozenset({"note", "notes", "summary", "context", "agenda", "update", "action items", "next steps",
              "recap", "attendees", "background", "question", "answer", "q", "a", "tl;dr", "edit", "todo"})

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


class Extraction:
    """What the walk over one body found (a plain class: one is made for each of 10,000 transcripts, and a
    dataclass's __init__ costs twice as much)."""

    __slots__ = ("quotes", "diagnostics", "spans", "ends", "body_html")

    def __init__(self) -> None:
        self.quotes: list[RawQuote] = []
        self.diagnostics: list[Diagnostic] = []
        self.spans = 0
        """How many tag spans (`[words]{.tag}`) the walk read, quotes or not: misspelt_spans looks closer only at
        a body with more `]{` than that."""
        self.ends: int | None = None
        """How many `]{` the body holds, when the walk counted them (the fast scan: cheaper than a count of the
        body)."""
        self.body_html: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Extraction) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    __hash__ = None  # type: ignore[assignment]


class Turn(NamedTuple):
    speaker: Participant | None  # None: an unknown label
    label: str
    timestamp: str | None


@dataclass(slots=True)
class Walk:
    """One body's extraction: what it needs besides the text, and what it has found so far (in `result` and
    `seen_ids`, which it fills in)."""

    path: str
    """Names the file in diagnostics."""
    doc: str
    """Names the transcript in quote ids."""
    line_offset: int
    """File lines before the body's first line."""
    tags: dict[str, str]
    by_name: dict[str, Participant]
    """The participants, by folded name."""
    render: bool
    """Also render the body, each quote an anchor."""
    speaker_label: Callable[[Participant | None], str] | None
    """The published name of a speaker (None: a label that is not a participant), so a rendered body honours
    `attribution`."""
    result: Extraction
    seen_ids: dict[str, int]
    """Ids made from words so far, with how often each came up: the same words again get '-2'."""
    date_iso: str = ""
    """The transcript's date (ISO, as written: a date or a date-time), each rendered quote's data-date (spec
    section 6); empty when it has none."""

    @classmethod
    def start(cls, *, path: str, line_offset: int, participants: tuple[Participant, ...], tags: dict[str, str],
              render_body: bool = False, speaker_label: Callable[[Participant | None], str] | None = None) -> Walk:
        """The walk of the body of the transcript at `path` (relative to the source folder): its quote ids name it
        relative to content/ (spec section 6)."""
        return cls(path, path.removeprefix("content/"), line_offset, tags, {fold_name(p.name): p for p in participants},
                   render_body, speaker_label, Extraction(), {})


def quote_id(transcript: str, text: str) -> str:
    """Stable while the words and the transcript stay the same (spec section 6)."""
    digest = hashlib.sha256(f"{transcript}\0{text}".encode()).hexdigest()
    return f"q-{digest[:10]}"


def extract_quotes(body: str, walk: Walk) -> Extraction:
    """Find the tagged quotes of a body; with walk.render, also render it with anchors."""
    result, render_body = walk.result, walk.render
    md = markdown() if render_body else block_markdown()
    env: dict = {}
    tokens = md.parse(body, env)
    turn: Turn | None = None
    for index, token in enumerate(tokens):
        if token.type in ("heading_open", "hr"):
            turn = None
            continue
        if token.type != "inline" or token.map is None:
            continue
        line = walk.line_offset + token.map[0] + 1
        opener = tokens[index - 1] if index else token
        if opener.type == "paragraph_open":  # in a quote block or a list item, only a participant's name is a label
            found = read_label(token.content, walk.by_name, walk.path, line, result.diagnostics, opener.level > 0)
            if found is not None:
                turn = found
                if render_body and walk.speaker_label is not None:
                    relabel(token, found, walk.speaker_label)
        if "]{" not in token.content:
            continue
        if not render_body:
            token.children = parse_inline(token.content, env)
        collect_spans(token, line, turn, walk)
    if render_body:
        result.body_html = md.renderer.render(tokens, md.options, env)
    return result


PROSE, UNKNOWN = "prose", "unknown"


def speaker_of(name: str, bold: bool, by_name: dict[str, Participant]) -> Participant | str:
    """Who a label names: the participant, PROSE ("Next steps:" is not a turn) or UNKNOWN."""
    speaker = by_name.get(fold_name(name))
    if speaker is not None:
        return speaker
    if not bold and (not _NAME_LIKE.match(name) or fold(name) in _NOT_NAMES):
        return PROSE
    return UNKNOWN


def unknown_speaker(path: str, line: int, name: str, by_name: dict[str, Participant]) -> Diagnostic:
    hint = did_you_mean(name, [p.name for p in by_name.values()])
    return warning(path, line, f"speaker '{name}' is not in the participants{hint}")


def hhmmss(stamp: re.Match | None) -> str | None:
    """A TIMESTAMP match as hh:mm:ss."""
    if stamp is None:
        return None
    hours, minutes, seconds = stamp.groups()
    padded = f"{hours or '0':0>2}:{minutes:0>2}:{seconds}"
    # \d takes any decimal digit: int() makes one written in another script an ASCII one
    return padded if padded.isascii() else f"{int(hours or 0):02d}:{int(minutes):02d}:{seconds}"


def parse_inline(content: str, env: dict) -> list[Token]:
    """Inline tokens of one paragraph, as a full parse would leave them."""
    md = markdown()
    children: list[Token] = []
    md.inline.parse(content, md, env, children)
    for child in children:  # what the core rule text_join does for a full parse
        if child.type == "text_special":
            child.type = "text"
    return children


def read_label(content: str, by_name: dict[str, Participant], path: str, line: int,
               diagnostics: list[Diagnostic], participants_only: bool = False) -> Turn | None:
    if ":" not in content[:90]:
        return None  # both label forms end with a colon within their first 84 characters
    bold = _BOLD_LABEL.match(content)
    match = bold or _PLAIN_LABEL.match(content)
    if match is None:
        return None
    name = match.group("name").strip()
    speaker = speaker_of(name, bold is not None, by_name)
    if speaker is PROSE or (participants_only and speaker is UNKNOWN):
        return None
    if speaker is UNKNOWN:
        diagnostics.append(unknown_speaker(path, line, name, by_name))
        speaker = None
    return Turn(speaker, name, hhmmss(TIMESTAMP.match(content, match.end())))


fold_name = lru_cache(maxsize=1024)(fold)  # the same few names, thousands of times


def relabel(token: Token, turn: Turn, speaker_label: Callable[[Participant | None], str]) -> None:
    for child in token.children or []:
        if child.type == "text" and turn.label in child.content:
            child.content = child.content.replace(turn.label, speaker_label(turn.speaker), 1)
            return


def collect_spans(token: Token, line: int, turn: Turn | None, walk: Walk) -> None:
    """The quotes (and problems) of the spans of one paragraph's inline tokens; a quote's span becomes its anchor."""
    children = token.children or []
    depth = 0
    start = 0
    start_line = line
    left_open = 0  # '[' in the paragraph's text before, not closed: a quote after one may start later than written
    first_line, suspect = line, False
    for position, child in enumerate(children):
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "text" and depth == 0 and ("[" in child.content or left_open):
            left_open = open_brackets(child.content, left_open)
        elif child.type == "span_open":
            _drop_attributes(child, walk.path, line, walk.result.diagnostics)
            depth += 1
            if depth == 1:
                start, start_line = position, line
                suspect = suspect or (left_open > 0 and _is_quote_span(child))
            elif _is_quote_span(child):
                walk.result.diagnostics.append(error(walk.path, line, "a tagged quote cannot sit inside another one"))
        elif child.type == "span_close":
            depth -= 1
            if depth == 0 and _is_quote_span(children[start]):
                _quote(children, start, position, start_line, turn, walk)
    for at in _after_unclosed(token.content, first_line) if suspect else ():
        walk.result.diagnostics.append(warning(
            walk.path, at, "a '[' before this quote is never closed, so the quote starts at the next '[' and leaves "
                           "out the words between: close it, or write it as '\\['"))


def _after_unclosed(content: str, line: int) -> list[int]:
    """The lines of the quotes in a paragraph that a '[' of its text comes before and no ']' after closes (as
    markdown-it reads '[We said "[" is bad]{.pain}': the quote is '" is bad'). A '\\[' or '&#91;' is no bracket, so
    the paragraph is read again with those apart (a full parse joins them into its text)."""
    md = markdown()
    children: list[Token] = []
    md.inline.parse(content, md, {}, children)
    left_open, depth, found = 0, 0, []  # found: [line, how many '[' were open before the quote]
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        elif child.type == "text" and depth == 0:
            for bracket in _BRACKET.findall(child.content):
                left_open = left_open + 1 if bracket == "[" else max(left_open - 1, 0)
                found = [quote for quote in found if quote[1] <= left_open]  # a ']' after it closed its '['
        elif child.type == "span_open":
            depth += 1
            if depth == 1 and left_open and _is_quote_span(child):
                found.append([line, left_open])
        elif child.type == "span_close":
            depth -= 1
    return [at for at, _ in found]


_BRACKET = re.compile(r"[\[\]]")


def open_brackets(text: str, depth: int = 0) -> int:
    """How many '[' are left open after text, from `depth` open before it (a ']' with none open closes nothing)."""
    for bracket in _BRACKET.findall(text):
        depth = depth + 1 if bracket == "[" else max(depth - 1, 0)
    return depth


def nested_brackets(text: str) -> bool:
    """Whether a '[' opens inside another in text, links aside (as a quote's '[' after one left open: collect_spans
    warns; a link in a quote is none): the first time open_brackets would reach 2, the bracket before is a '['."""
    return _NESTED.search(text) is not None and _NESTED.search(_LINK.sub("", text)) is not None


_NESTED = re.compile(r"\[[^\[\]]*\[")
_LINK = re.compile(r"\[[^\[\]\n]*\]\([^()\s]*\)")
"""A link whose text holds no bracket, to an address with no space or parenthesis."""


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


def _quote(children: list[Token], start: int, end: int, line: int, turn: Turn | None, walk: Walk) -> None:
    span = children[start]
    words = children[start + 1:end]
    text = "".join(token_text(t) for t in words)
    html = markdown().renderer.renderInline(words, markdown().options, {})
    written = str(span.attrs.get("class", "")).split()
    found = add_quote((written, span.attrs.get("id")), (text, html), line, turn, walk)
    if found is not None:
        span.tag = children[end].tag = "mark"
        span.attrs = {"id": found.id, "class": "quote", "data-quote-id": found.id, "data-tags": " ".join(found.tags),
                      "data-date": walk.date_iso, "dir": "auto"}  # dir: a bidirectional control stops at its end


_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")  # Trojan Source (issue 21, item 12)


def add_quote(attrs: tuple[list[str], object], words: tuple[str, str], line: int, turn: Turn | None,
              walk: Walk) -> RawQuote | None:
    """Check a span's tags and speaker (attrs: its classes and the id written, if any; words: its text and HTML);
    record it as a quote, or the problems with it. (Plain tuples: a quote of each of 10,000 transcripts comes
    here, and a named tuple made for each costs 1% of a build.)"""
    (written, explicit), (text, html) = attrs, words
    path, tags, result = walk.path, walk.tags, walk.result
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
        qid, seen_ids = quote_id(walk.doc, text), walk.seen_ids
        seen = seen_ids[qid] = seen_ids.get(qid, 0) + 1
        if seen > 1:
            qid = f"{qid}-{seen}"
    quote = RawQuote(qid, bool(explicit), tuple(dict.fromkeys(written)), text, html.strip(), turn.speaker, line,
                     turn.timestamp)
    result.quotes.append(quote)
    return quote


def token_text(token: Token) -> str:
    if token.type in ("text", "text_special", "code_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return " "
    if token.type == "image":
        return "".join(token_text(c) for c in token.children or [])
    return ""
