"""The plain data that flows through the pipeline: frozen, filled in once.

Quotes, transcripts, participants and diagnostics are named tuples rather than
frozen dataclasses: the build cache holds tens of thousands of them, and a named
tuple loads from a pickle five times faster than a dataclass, whose state goes
through a dict per object (benchmarks/README.md, issue 5). Both are immutable and
read by attribute; change one with `_replace`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import pickle
from collections.abc import Callable, KeysView
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple, Protocol, SupportsBytes, TypeVar
from zoneinfo import ZoneInfo

from .basics import Diagnostic, error, loaded_in_c, moved, warning  # noqa: F401 (the model's names, where they were)

T = TypeVar("T")

if TYPE_CHECKING:
    from .pages_archive import CompanyIndex


@dataclass(frozen=True)
class Persona:
    """A buyer role, read from content/personas/<role>.md."""

    slug: str
    """The role slug: the file stem."""
    title: str
    """Display name, e.g. 'Head of Revenue Operations'."""
    summary: str
    """One sentence under the title; may be empty."""
    aliases: tuple[str, ...]
    """Further role slugs that mean this persona."""
    match_titles: tuple[str, ...]
    """Job-title words that `import` maps to this role."""
    facts: tuple[tuple[str, object], ...]
    """Every other front matter key, in file order, shown as the persona's facts."""
    sketch_html: str
    """The Markdown body rendered to HTML (raw HTML escaped)."""
    path: str
    """Source path relative to the content repository."""


class Participant(NamedTuple):
    """A speaker named in a transcript's front matter."""

    name: str
    """The name as written in the front matter."""
    role: str
    """The canonical role slug, 'internal', or 'unknown'."""
    title: str | None
    """Their real job title, when given."""


class Quote(NamedTuple):
    """A tagged span in a speaker turn."""

    id: str
    """Stable id: explicit `{#id}` or 'q-' + a hash of transcript and words."""
    role: str
    """Canonical persona slug of the speaker."""
    tags: tuple[str, ...]
    """Tag slugs from the vocabulary, in the order written."""
    text: str
    """Plain text: Markdown stripped, whitespace folded."""
    html: str
    """Inline HTML rendering of the words."""
    date: dt.datetime
    """The transcript's date as an aware date-time (midnight for a plain date)."""
    date_only: bool
    """True when the transcript gave a plain date (no time of day)."""
    company: str | None
    """The transcript's company."""
    speaker: str
    """The speaker's name (published only with attribution = 'name')."""
    speaker_title: str | None
    """The speaker's job title from the participants, if any."""
    transcript: str
    """Source path of the transcript, relative to the content repository."""
    line: int
    """1-based line of the quote in the transcript file."""
    timestamp: str | None
    """Recording timestamp of the turn, as hh:mm:ss."""
    added_in: tuple[str, str] | None = None
    """(sha, ISO date) of the commit that first added the quote's line; None when uncommitted."""


class Transcript(NamedTuple):
    """One call or interview, read from content/transcripts/**/*.md."""

    path: str
    """Source path relative to the content repository."""
    title: str
    """The front matter title, or one made from the file name."""
    date: dt.datetime
    """Aware date-time of the call (midnight in the site's zone for a plain date)."""
    date_only: bool
    """True when only a day is known."""
    company: str | None
    """The buyer's company."""
    recording: str | None
    """Link to the recording (http or https only)."""
    participants: tuple[Participant, ...]
    """Everyone named in the front matter."""
    meta: tuple[tuple[str, object], ...] = ()
    """Other front matter keys, kept for templates."""
    quotes: tuple[Quote, ...] = ()
    """The tagged quotes, in file order."""
    body_html: str | None = None
    """Full rendering of the body, only when transcripts are published."""
    company_line: int | None = None
    """The front matter line of `company:` (where two companies that share a page are reported)."""


@loaded_in_c
class QuoteRef(NamedTuple):
    """What the archive needs of a quote without loading its transcript: its place in spec order, what
    filters it, and its line in the `*.json` files. Sorting refs sorts quotes in spec order: (order, transcript,
    line, index) is one quote's alone, so no comparison reaches `encoded`, which is bytes in a ref made by a read and
    an int in one loaded from the cache (two refs of one quote are never in one list: a patched list takes out the
    old ref, the very object, before the new one goes in)."""

    order: float
    """Minus the date's timestamp: newest first."""
    transcript: str
    """Source path of the transcript (relative to content/), then..."""
    line: int
    """...the line, then..."""
    index: int
    """...the quote's place in its transcript (two quotes on one line keep their order)."""
    id: str
    role: str
    tags: tuple[str, ...]
    encoded: bytes | int
    """The quote's JSON line (`json`), or where `lines` keeps it."""
    company: str | None
    """The quote's company, when the site publishes companies (attribution is not 'role'): the company pages and
    filters ask for it without reading the JSON."""
    digest: bytes
    """The SHA-256 of `json`: what stands for the quote where a key must tell a group of quotes from another (a month
    page's, a query shard's, "in their words" counted by month), 32 bytes hashed rather than its line (36 MB of
    lines hashed by every rebuild at 10,000 transcripts)."""
    lines: LineSource | None
    """Where its line is kept when not held (the build cache's file: a rebuild of 100,000 transcripts reads the lines
    of the months it writes again, not 300,000 of them), else None. An equal ref of the other form is not == to it."""

    @property
    def json(self) -> bytes:
        """The quote as one line of JSON (spec section 6), UTF-8."""
        lines = self.lines
        return self.encoded if lines is None else lines.line(self.encoded, self.digest)  # type: ignore[return-value]

    def held(self) -> QuoteRef:
        """The same quote with its line held: what a copy (a pickle) carries, never the file it came from."""
        return self if self.lines is None else QuoteRef((*self[:7], self.json, self.company, self.digest, None))


class LineSource(Protocol):
    """Where quotes' JSON lines are kept (incremental.cache.ShardParts): each found by where it is, checked by its
    digest."""

    def line(self, at: int, digest: bytes) -> bytes: ...


QuoteRef.__getnewargs__ = lambda self: (tuple(self.held()),)  # type: ignore[method-assign]


class TranscriptHead(NamedTuple):
    """What the company pages and their check ask of every transcript, kept beside its pickle: 10,000 are not
    unpickled for it."""

    path: str
    title: str
    date: dt.datetime
    company: str | None
    company_line: int | None
    roles: tuple[str, ...]
    """The personas met, in front matter order (no 'internal' or 'unknown')."""
    quotes: int
    """How many quotes it has."""
    version: bytes
    """A digest of the transcript as the build keeps it (its frozen form): another whenever anything of it
    changes, so that a page of many transcripts (a company's) is known unchanged by their heads alone."""


def head_of(transcript: Transcript, frozen: bytes | None = None) -> TranscriptHead:
    """`frozen`: freeze(transcript), when made already."""
    roles = tuple(dict.fromkeys(p.role for p in transcript.participants if p.role not in ("internal", "unknown")))
    version = hashlib.sha1(frozen if frozen is not None else freeze(transcript)).digest()
    return TranscriptHead(transcript.path, transcript.title, transcript.date, transcript.company,
                          transcript.company_line, roles, len(transcript.quotes), version)


@loaded_in_c
class Parsed(NamedTuple):
    """What reading one transcript file gave, as the build cache keeps it."""

    transcript: SupportsBytes | None
    """The Transcript, frozen (bytes, or the cache's FrozenAt, read from its file when asked): unpickled only when a
    page shows it (None: the file did not read)."""
    diagnostics: tuple[Diagnostic, ...]
    quotes: tuple[QuoteRef, ...]
    head: TranscriptHead | None
    """Its head (None when it did not read)."""


@dataclass(frozen=True)
class Site:
    """Everything read from a content repository: the input of rendering."""

    personas: tuple[Persona, ...]
    """Every persona, sorted by title."""
    transcripts: "Transcripts"
    """Every transcript, by path."""
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    """Every problem found while reading."""
    companies: CompanyIndex | None = field(default=None, compare=False)
    """Its companies as its engine keeps them between builds (None: grouped from the transcripts when asked)."""


class Transcripts:
    """Every transcript of a build, by path, each unpickled only when something asks for it: a rebuild
    of 10,000 transcripts shows a few hundred quotes on its pages and needs only their transcripts."""

    def __init__(self, stored: dict[str, SupportsBytes | Transcript], earlier: "Transcripts | None" = None,
                 heads: dict[str, TranscriptHead] | None = None) -> None:
        """`heads`: each transcript's head, where reading kept it (else made from the transcript when asked)."""
        self._stored = stored
        """Path -> the transcript, or its pickle (bytes, or what gives them: the cache's FrozenAt)."""
        self._heads = heads or {}
        self._loaded: dict[str, tuple[SupportsBytes, Transcript]] = {}
        """Path -> (pickle, transcript) for each one asked for."""
        self._earlier = earlier._loaded if earlier is not None else {}
        """An earlier build's: a transcript it unpickled from the very same bytes is not unpickled again (serve)."""
        self._newest: tuple[list[TranscriptHead], tuple[tuple, ...]] | None = None
        """newest_first(), once asked for."""
        self._by_paths: dict[Callable, object] = {}
        """by_paths(make) -> what it made."""
        self.patched_from: tuple[Transcripts, frozenset[str]] | None = None
        """The transcripts these were patched from, and the paths patched (serve's rebuilds)."""

    def patched(self, changed: dict[str, tuple[SupportsBytes | Transcript, TranscriptHead]]) -> Transcripts:
        """These transcripts with some of them replaced, each by (its transcript or pickle, its head): the same
        paths in the same order (serve's rebuilds: two dicts copied, not two made anew from 100,000 entries)."""
        new = Transcripts({**self._stored, **{path: found[0] for path, found in changed.items()}}, self,
                          {**self._heads, **{path: found[1] for path, found in changed.items()}})
        if self._newest is not None:
            new._newest = _moved(self._newest, [(self.head(path), found[1]) for path, found in changed.items()])
        if changed.keys() <= self._stored.keys():  # the same paths (a path that came makes a new Transcripts)
            new._by_paths, new.patched_from = self._by_paths, (self, frozenset(changed))
        return new

    def by_paths(self, make: Callable[[KeysView[str]], T]) -> T:
        """make(self.paths), made once for these paths: a patched one has the same paths, and keeps it (the pages
        of 100,000 published transcripts, listed, and checked for two with one page)."""
        found = self._by_paths.get(make)
        if found is None:
            found = self._by_paths[make] = make(self.paths)
        return found  # type: ignore[return-value]

    def newest_first(self) -> tuple[list[TranscriptHead], tuple[tuple, ...]]:
        """Every transcript's head in the site's order (newest first, then by path), and each one's row as the list
        of transcripts shows it: made once (a patched one moves its changed heads: 100,000 sorted took 0.25 s)."""
        if self._newest is None:
            heads = sorted(map(self.head, self.paths), key=_newest_key)
            self._newest = (heads, tuple(map(_row, heads)))
        return self._newest

    def __len__(self) -> int:
        return len(self._stored)

    @property
    def paths(self) -> KeysView[str]:
        return self._stored.keys()

    def stored(self, path: str) -> SupportsBytes | Transcript:
        """The transcript as the build has it: its pickle (the same object while the file is unchanged)."""
        return self._stored[path]

    def get(self, path: str) -> Transcript:
        found = self._stored[path]
        if type(found) is Transcript:
            return found
        loaded = self._loaded.get(path) or self._earlier.get(path)
        if loaded is None or loaded[0] is not found:
            loaded = (found, thaw(found))
        self._loaded[path] = loaded
        return loaded[1]

    def head(self, path: str) -> TranscriptHead:
        found = self._heads.get(path)
        return found if found is not None else head_of(self.get(path))

    def quote(self, ref: QuoteRef) -> Quote:
        return self.get(ref.transcript).quotes[ref.index]


def _newest_key(head: TranscriptHead) -> tuple[float, str]:
    return -head.date.timestamp(), head.path


def _row(head: TranscriptHead) -> tuple:
    """What the list of transcripts shows of one (its page's key is these rows)."""
    return head.path, head.title, head.date, head.company, head.roles, head.quotes


def _moved(newest: tuple[list[TranscriptHead], tuple[tuple, ...]],
           changed: list[tuple[TranscriptHead, TranscriptHead]]) -> tuple[list[TranscriptHead], tuple[tuple, ...]] | None:
    """newest_first() with each (old, new) head moved by bisection to where the new one goes; None when an old
    one is not where its key says (never: each path is listed once)."""
    heads, rows = newest[0][:], list(newest[1])
    for old, new in changed:
        places = moved(heads, old, new, _newest_key)
        if places is None:
            return None
        del rows[places[0]]
        rows.insert(places[1], _row(new))
    return heads, tuple(rows)


class Reading(NamedTuple):
    """What reading every transcript gave."""

    transcripts: Transcripts
    """Every transcript that read, by path relative to content/."""
    parsed: dict[str, Parsed]
    """The same paths -> what reading each file gave (its quote refs, for the archive)."""
    companies: CompanyIndex | None = None
    """The companies they name, where the engine patched the last build's (else grouped when asked)."""


@functools.lru_cache(maxsize=1 << 18)  # asked for every transcript by every build of a published site: 100,000
def transcript_url_path(doc_path: str) -> str:
    """Where a published transcript's page lives: transcripts/2026/acme.md -> transcripts/2026/acme/ (a transcript
    is always a .md file; string methods, as PurePosixPath took half a second for 10,000 published transcripts)."""
    folder, _, name = doc_path.rpartition("/")
    stem = name.rpartition(".")[0] if name.rfind(".") > 0 else name
    return f"{folder}/{stem}/" if folder else f"{stem}/"


def transcript_page_path(doc_path: str) -> str:
    """The file of a published transcript's page: transcripts/2026/acme.md -> transcripts/2026/acme/index.html."""
    return transcript_url_path(doc_path) + "index.html"


def transcript_id(doc_path: str) -> str:
    """What a published quote names its transcript by when companies are withheld (attribution = "role"): imported
    files are named after the company, so a short hash of the path, stable while the file keeps its name (issue 21,
    item 7)."""
    return "t-" + hashlib.sha256(f"persona-site transcript\0{doc_path}".encode("utf-8", "surrogateescape")).hexdigest()[:12]


def freeze(transcript: Transcript) -> bytes:
    """A transcript as the cache keeps it and a worker sends it: its fields as plain tuples, pickled.

    A pickle of the named tuples themselves names each class, and a datetime its zone, by import path: for a
    transcript that costs three times what its text does (benchmarks/README.md, "The fifth round"). The fields
    each quote shares with its transcript (date, company, path) are kept once. A transcript whose quotes do
    not share them (none that reading makes) is pickled as it is.
    """
    date, company, path = transcript.date, transcript.company, transcript.path
    zone = date.tzinfo
    quotes = transcript.quotes
    if type(zone) is not ZoneInfo or zone.key is None or any(q.date is not date or q.company != company or q.transcript != path
                                         or q.date_only != transcript.date_only for q in quotes):
        return pickle.dumps(transcript, pickle.HIGHEST_PROTOCOL)
    return pickle.dumps((path, transcript.title, (date.year, date.month, date.day, date.hour, date.minute, date.second,
                                                  date.microsecond, date.fold), zone.key, transcript.date_only, company,
                         transcript.recording, tuple(map(tuple, transcript.participants)), transcript.meta,
                         tuple((q.id, q.role, q.tags, q.text, q.html, q.speaker, q.speaker_title, q.line, q.timestamp,
                                q.added_in) for q in quotes), transcript.body_html, transcript.company_line),
                        pickle.HIGHEST_PROTOCOL)


def thaw(frozen: SupportsBytes) -> Transcript:
    """The transcript `freeze` gave: its bytes, or what gives them (bytes(frozen): the cache's FrozenAt reads them
    from its file). `frozen` is never from outside: it was made by `freeze` in this process or a worker it forked, or
    loaded from the cache only after the cache's seal was checked (incremental/signing.py), as unpickling runs code."""
    found = pickle.loads(frozen if type(frozen) is bytes else bytes(frozen))
    if type(found) is Transcript:
        return found
    path, title, parts, zone, date_only, company, recording, participants, meta, quotes, body_html, *company_line = found
    year, month, day, hour, minute, second, microsecond, fold = parts
    date = dt.datetime(year, month, day, hour, minute, second, microsecond, ZoneInfo(zone), fold=fold)
    return Transcript(path, title, date, date_only, company, recording, tuple(Participant._make(p) for p in participants),
                      meta, tuple(Quote(qid, role, tags, text, html, date, date_only, company, speaker, title_, path, line,
                                        timestamp, added_in)
                                  for qid, role, tags, text, html, speaker, title_, line, timestamp, added_in in quotes),
                      body_html, *company_line)  # no line: frozen before it was kept
