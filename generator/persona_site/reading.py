"""One transcript file -> what reading it gave (model.Parsed): decoded, read, its quotes extracted and dated.

Both build engines (incremental/) call these for every transcript they read; they differ only in which
files they read again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from . import gitmeta
from .basics import Diagnostic, error
from .config import Config
from .content import MAX_FILE_BYTES, ContentFiles, decode, read_file, too_large
from .model import Parsed, Participant, Transcript, freeze, head_of, thaw
from .reader import Rules, Undated, read_transcript
from .quotejson import quote_refs
from .render import RenderContext
from .theme import Theme


@dataclass(frozen=True)
class ReadInputs:
    """Everything reading a transcript depends on besides its bytes."""

    config: Config
    roles: dict[str, str]
    """Every persona slug and alias -> its persona's slug."""
    titles: dict[str, str]
    """Persona slug -> title (a published transcript's speaker labels)."""
    history: gitmeta.History | None
    """What git says of the transcripts (None: not a repository, or no commit)."""
    dirty: frozenset[str]
    """Paths git lists as changed in the work tree."""
    is_git: bool = True
    render: tuple[Theme, RenderContext] | None = None
    """The theme and context the build will render with (when it renders and has no error so far): an engine may
    compile templates as transcripts are read, and render a published transcript where it read the file."""


def parse_file(path: str, data: bytes, undated: Undated, added: tuple[str, str] | None,
               inputs: ReadInputs) -> tuple[Parsed, Transcript | None]:
    """What reading one transcript file gave, and the transcript when it read; `added`: every quote's commit,
    when the file is as git added it."""
    if len(data) > MAX_FILE_BYTES:
        return unread(too_large(path, len(data))), None
    transcript, problems = read_one(path, data, undated, inputs, added)
    if transcript is None:
        return Parsed((None, tuple(problems), (), None)), None
    return parsed_of(transcript, problems, inputs.config), transcript


def read_bytes(source: Path | None, path: str, data: bytes | None) -> bytes | Parsed:
    """A transcript's bytes: those given (a revision), else the work tree's; a Parsed with the error when unreadable."""
    if data is not None:
        return data
    try:
        return read_file(source, path)
    except OSError as exc:
        return unread(error(path, 0, f"this file could not be read: {exc.strerror or exc}"))


def unread(problem: Diagnostic) -> Parsed:
    return Parsed((None, (problem,), (), None))


def parsed_of(transcript: Transcript, problems: list[Diagnostic] | tuple[Diagnostic, ...], config: Config) -> Parsed:
    """A transcript as the build keeps it: frozen (model.freeze), its quotes as refs with their JSON."""
    frozen = freeze(transcript)
    return Parsed((frozen, tuple(problems), quote_refs(transcript, config), head_of(transcript, frozen)))


def read_one(path: str, data: bytes, undated: Undated, inputs: ReadInputs,
             added: tuple[str, str] | None = None) -> tuple[Transcript | None, list[Diagnostic]]:
    """Decode and read one transcript file; `added`: every quote's commit."""
    text, bad = decode(path, data)
    if bad:
        return None, [bad]
    config = inputs.config
    rules = Rules(config.tags, inputs.roles, config.zone, config.publish_transcripts,
                  _speaker_label(inputs) if config.publish_transcripts else None)
    return read_transcript(path, text, rules, undated, added)


def _speaker_label(inputs: ReadInputs) -> Callable[[Participant | None], str]:
    """The name a published transcript gives a speaker: only what `attribution` allows (spec section 2)."""
    attribution, titles = inputs.config.attribution, inputs.titles

    def speaker_label(who: Participant | None) -> str:
        if who is None:
            return "Speaker"
        if attribution == "name":
            return who.name
        if who.role == "internal":
            return "Our team"
        return who.title or titles.get(who.role) or "Speaker"

    return speaker_label


def undated_for(path: str, files: ContentFiles, history: gitmeta.History | None) -> Undated:
    """The date of a transcript whose front matter has none: the commit that added it, else the file's mtime."""
    added = history.added_date(path) if history is not None else None
    if added is not None:
        return Undated(added, None)
    why = "this transcript is not committed to git yet" if files.is_git else "this folder is not a git repository"
    stat = files.stats.get(path)
    return Undated(stat.mtime if stat else dt.datetime.now(dt.timezone.utc),
                   f"no 'date' in the front matter and {why}: using the file's modification time; add 'date: YYYY-MM-DD'")


def added_commit(path: str, inputs: ReadInputs) -> tuple[str, str] | None:
    """The commit that added a transcript, when every quote in it dates from then (it was not edited since)."""
    history = inputs.history
    if history is None or path in history.lines or path in inputs.dirty:
        return None
    return history.added.get(path)


def edited_since_added(source: Path, parsed: dict[str, Parsed],
                       inputs: ReadInputs) -> Iterator[tuple[str, str, Parsed, frozenset[str]]]:
    """The transcripts with quotes edited since git added them, whose quotes are dated line by line (line_dated):
    (path relative to content/, path relative to the source, what reading gave, its lines not committed yet)."""
    history = inputs.history
    edited = [p for p in inputs.dirty if history and p in history.added]
    uncommitted = gitmeta.uncommitted_lines(source, edited)  # one `git diff` for all of them
    if history is None:
        return
    for source_path in sorted(p for p in history.lines.keys() | uncommitted.keys() if p in history.added):
        path = source_path.removeprefix("content/")
        found = parsed.get(path)
        if found is not None and found.quotes:
            yield path, source_path, found, frozenset(uncommitted.get(source_path, ()))


def line_dated(found: Parsed, data: bytes, history: gitmeta.History, source_path: str, uncommitted: set[str],
               config: Config) -> Parsed:
    """A transcript edited since git added it, each quote with the commit that first added its line (None for a
    line not committed yet); `data` is the file's bytes."""
    transcript = thaw(found.transcript)
    text = data.decode("utf-8").removeprefix("\ufeff").splitlines()
    commits = [history.line_commit(source_path, text[q.line - 1])
               if q.line <= len(text) and text[q.line - 1] not in uncommitted else None for q in transcript.quotes]
    quotes = tuple(q._replace(added_in=commit) for q, commit in zip(transcript.quotes, commits))
    return parsed_of(transcript._replace(quotes=quotes), found.diagnostics, config)
