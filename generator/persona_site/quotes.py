"""extract_quotes: a walk over the markdown-it tokens of a transcript body.

Spec section 4: a speaker turn starts with a paragraph that opens with a label;
paragraphs without one continue the turn; a tagged quote is `[words]{.tag}`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from markdown_it.token import Token

from .frontmatter_yaml import fold
from .markdown import block_markdown, markdown
from .model import Diagnostic, Participant, error, warning
from .suggest import did_you_mean

_BOLD_LABEL = re.compile(r"^\*\*(?P<name>[^*\n]{1,80}?)(?::\*\*|\*\*:)[ \t]*")
_PLAIN_LABEL = re.compile(r"^(?P<name>[^\s:*\[\]`#>][^:\n*\[\]`]{0,79}?):[ \t]+")
_TIMESTAMP = re.compile(r"^\[(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})\][ \t]*")
_NAME_LIKE = re.compile(r"^[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){0,3}$")
# Words that open a note rather than a turn ("Note: ..."), so never warned about.
_NOT_NAMES = {"note", "notes", "summary", "context", "agenda", "update", "action items", "next steps",
              "recap", "attendees", "background", "question", "answer", "q", "a", "tl;dr", "edit", "todo"}
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class RawQuote:
    """A quote as found in one transcript, before dates and roles are attached."""

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
    body_html: str | None = None


@dataclass
class _Turn:
    speaker: Participant | None  # None: an unknown label
    label: str
    timestamp: str | None
    line: int


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
) -> Extraction:
    """Find the tagged quotes of a body; with render_body, also render it with anchors.

    path names the file in diagnostics; doc names the transcript in quote ids.
    speaker_label gives the published name of a speaker (None: a label that is
    not a participant), so a rendered body honours `attribution`.
    """
    by_name = {fold(p.name): p for p in participants}
    result = Extraction()
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
            token.children = []
            md.inline.parse(token.content, md, env, token.children)
            for child in token.children:  # what the core rule text_join does for a full parse
                if child.type == "text_special":
                    child.type = "text"
        _collect(token, line, turn, path, doc, tags, seen_ids, result)
    if render_body:
        result.body_html = md.renderer.render(tokens, md.options, env)
    return result


def _label(content: str, by_name: dict[str, Participant], path: str, line: int,
           diagnostics: list[Diagnostic]) -> _Turn | None:
    bold = _BOLD_LABEL.match(content)
    match = bold or _PLAIN_LABEL.match(content)
    if match is None:
        return None
    name = match.group("name").strip()
    rest = content[match.end():]
    stamp = _TIMESTAMP.match(rest)
    timestamp = None
    if stamp:
        timestamp = f"{int(stamp['h'] or 0):02d}:{int(stamp['m']):02d}:{stamp['s']}"
    speaker = by_name.get(fold(name))
    if speaker is not None:
        return _Turn(speaker, name, timestamp, line)
    if not bold and (not _NAME_LIKE.match(name) or fold(name) in _NOT_NAMES):
        return None  # "Next steps: ..." is prose, not a turn
    hint = did_you_mean(name, [p.name for p in by_name.values()])
    diagnostics.append(warning(path, line, f"speaker '{name}' is not in the participants{hint}"))
    return _Turn(None, name, timestamp, line)


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
            depth += 1
            if depth == 1:
                start, start_line = position, line
            elif _is_quote_span(child):
                result.diagnostics.append(error(path, line, "a tagged quote cannot sit inside another one"))
        elif child.type == "span_close":
            depth -= 1
            if depth == 0 and _is_quote_span(children[start]):
                _quote(children, start, position, start_line, turn, path, doc, tags, seen_ids, result)


def _is_quote_span(token: Token) -> bool:
    return bool(str(token.attrs.get("class", "")).strip())


def _quote(children: list[Token], start: int, end: int, line: int, turn: _Turn | None, path: str, doc: str,
           tags: dict[str, str], seen_ids: dict[str, int], result: Extraction) -> None:
    span = children[start]
    words = children[start + 1:end]
    problems = result.diagnostics
    text = _WS.sub(" ", "".join(_plain(t) for t in words)).strip()
    written = str(span.attrs.get("class", "")).split()
    bad = [t for t in written if t not in tags]
    for tag in bad:
        known = ", ".join(sorted(tags))
        problems.append(error(path, line, f"unknown tag '.{tag}'{did_you_mean(tag, tags)} (tags: {known})"))
    if turn is None:
        problems.append(error(path, line, "this tagged quote is outside a speaker turn: start the paragraph with '**Name:**'"))
        return
    if turn.speaker is None:
        problems.append(error(path, line, f"this tagged quote follows speaker '{turn.label}', who is not in the participants: "
                                          "add them to 'participants' with their role"))
        return
    if turn.speaker.role == "internal":
        problems.append(error(path, line, f"'{turn.speaker.name}' is on our side (role 'internal'); "
                                          "only buyers are quoted: remove the tag"))
        return
    if turn.speaker.role == "unknown":
        problems.append(error(path, line, f"assign a role to {turn.speaker.name} in the front matter "
                                          "(their role is 'unknown', so their words cannot be quoted)"))
        return
    if bad or not text:
        if not text:
            problems.append(error(path, line, "this tagged quote has no words"))
        return
    explicit = span.attrs.get("id")
    if explicit:
        qid = str(explicit)
    else:
        qid = quote_id(doc, text)
        seen_ids[qid] = seen_ids.get(qid, 0) + 1
        if seen_ids[qid] > 1:
            qid = f"{qid}-{seen_ids[qid]}"
    html = markdown().renderer.renderInline(words, markdown().options, {}).strip()
    tag_list = tuple(dict.fromkeys(written))
    span.tag = children[end].tag = "mark"
    span.attrs = {"id": qid, "class": "quote", "data-quote-id": qid, "data-tags": " ".join(tag_list)}
    result.quotes.append(RawQuote(qid, bool(explicit), tag_list, text, html, turn.speaker, line, turn.timestamp))


def _plain(token: Token) -> str:
    if token.type in ("text", "text_special", "code_inline"):
        return token.content
    if token.type in ("softbreak", "hardbreak"):
        return " "
    if token.type == "image":
        return "".join(_plain(c) for c in token.children or [])
    return ""
