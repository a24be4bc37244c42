"""What reading transcripts gave, kept between builds and processes: each file read again only when it changed.

The cache key of a transcript is its content hash, git's blob id (pool.blob_id), and everything else its result
depends on (pool.Job.key), never its stat. A file is read only when neither tells its hash: its stat the same as
when its hash was taken, or git's index vouching for its blob (ContentFiles.blobs: a fresh CI clone with the
cache restored reads no file git has). The last scan (Scan) lets the next build look again at only the files
whose stat changed (serve's rebuilds, and a new process after an edit).
"""

from __future__ import annotations

import gc
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..basics import Diagnostic
from ..content import RACY_NS, ContentFiles, Stat
from ..model import Parsed, Persona, Quote, Transcript
from ..reading import ReadInputs, added_commit, undated_for
from . import cache
from .pool import POOL_MIN_FILES, Job, Work, blob_id, parse_transcripts

if TYPE_CHECKING:
    import multiprocessing.process

    from ..gitmeta import History

SAVE_AFTER = 20
"""A build that read fewer files than this (counting those git vouched for by their blob ids, their stats new),
changed fewer cache entries, and came fewer commits after the saved history, leaves the cache as it was."""


class Scan(NamedTuple):
    """What the last build's read found, for the next to patch."""

    keyed_for: tuple
    dirty: frozenset[str]
    stats: dict[str, Stat]
    """The files' stats as that build saw them."""
    keys: dict[str, tuple]
    """Path -> cache key, by path."""
    parsed: dict[str, Parsed]
    """Path relative to content/ -> what reading it gave, by path: the transcripts that read cleanly."""
    problems: dict[str, tuple[Diagnostic, ...]]
    """Path -> its diagnostics, by path, for the files with any."""
    unstated: frozenset[str] | None = None
    """The paths of keys whose stat the store does not remember (read in git's racy window: looked at again by
    the next build); None: not counted yet."""

    def saved(self) -> tuple:
        """What the cache keeps: parsed and problems are the cache's entries under keys."""
        return self.keyed_for, self.dirty, self.stats, self.keys

    @classmethod
    def of(cls, saved: object, entries: dict[tuple, Parsed]) -> Scan | None:
        """The scan the cache kept, with its entries; None when there is none or an entry is gone (a lost shard)."""
        try:
            keyed_for, dirty, stats, keys = saved  # type: ignore[misc]
            found = [(path, entries[key]) for path, key in keys.items()]
        except (TypeError, ValueError, KeyError, AttributeError):
            return None
        parsed = {_relative(path, entry): entry for path, entry in found if entry.transcript is not None}
        problems = {path: entry.diagnostics for path, entry in found if entry.diagnostics}
        return cls(keyed_for, dirty, stats, keys, parsed, problems)


def _save(folder: Path | None, state: dict, unchanged: set[int]) -> None:
    """cache.save, git's history keyed by the stats' own path strings: pickled once, loaded once (13 MB at 100,000
    transcripts)."""
    history = state["git"]
    if history is not None and state["stats"]:
        same = {path: path for path in state["stats"]}.get

        def rekeyed(by_path: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
            return {same(path, path): commit for path, commit in by_path.items()}

        state = {**state, "git": replace(history, added=rekeyed(history.added), changed=rekeyed(history.changed))}
    cache.save(folder, state, unchanged)


def _relative(path: str, entry: Parsed) -> str:
    """A path relative to content/: its head's own string where it is that (100,000 strings not made again)."""
    kept = entry.head.path if entry.head is not None else ""
    if len(path) == len(kept) + 8 and path.startswith("content/") and path.endswith(kept):
        return kept
    return path.removeprefix("content/")


class _Round(NamedTuple):
    """One read in progress: what it starts from and fills in."""

    keys: dict[str, tuple]
    kept: dict[tuple, Parsed]
    stats: dict[str, tuple]
    parsed: dict[str, Parsed]
    found: dict[str, tuple[Diagnostic, ...]]
    paths: list[str]
    """The files to look at."""
    patched: bool
    """Whether the round starts from the last scan (paths: only those whose stat changed)."""
    gone: tuple[str, ...] = ()
    """The files of the last scan that are gone (a patched round's)."""
    unstated: frozenset[str] = frozenset()
    """The last scan's (a patched round's)."""
    replaced: frozenset[tuple] = frozenset()
    """The keys the paths looked at again had (a patched round's): each one no path keeps drops out."""
    added: bool = False
    """Whether a path looked at again is new to the last scan (a patched round's)."""


class Made(NamedTuple):
    """What the workers that read transcripts make of each as they go (None: nothing)."""

    page: Callable[[Transcript], bytes] | None = None
    """A published transcript's page."""
    cards: Callable[[Transcript], list[tuple[Quote, str]]] | None = None
    """Its quotes' cards."""


class TranscriptStore:
    """Parsed transcripts keyed by content hash (git's blob id), their stats, and the last scan; loaded from and
    saved to the cache folder (None: kept in this process only)."""

    def __init__(self, source: Path, folder: Path | None, save: bool = True,
                 progress: Callable[[str, int, int], None] | None = None, left_out: frozenset[str] = frozenset()) -> None:
        """`left_out`: shard files not to load (found damaged: their transcripts are parsed again)."""
        self.source, self.folder, self._save, self._progress = source, folder, save, progress
        with cache.collector_paused():  # the loaded objects go to gc.freeze's generation without being scanned
            state = cache.load(folder, left_out)
            self._freeze = gc.get_freeze_count() == 0
            """This process has frozen nothing yet: its first read may freeze what it loads and parses (once only:
            freezing later would keep earlier builds' cyclic garbage, a Renderer and its templates, for good)."""
            if self._freeze:
                gc.freeze()
        self.entries: dict[tuple, Parsed] = state.get("transcripts", {})
        """Cache key (Job.key) -> what reading that file gave."""
        self._stats: dict[str, tuple] = state.get("stats", {})
        """Path -> (Stat, content hash) as last read: a file with the same stat is not read again."""
        self.history = state.get("git")
        """What git said at the last build (gitmeta.History), for the next to continue from."""
        self._scan: Scan | None = Scan.of(state.get("scan"), self.entries)
        kept = state.get("personas")
        self._personas: dict[tuple[str, bytes], tuple] = kept if isinstance(kept, dict) else {}
        """(path, blob id) -> what reading that persona file gave (reader.read_personas of it alone)."""
        self._saved = (set(self.entries), dict(self._stats), self.history, set(self._personas))
        """What the last save wrote (or the load read): a copy of the stats, which a patched read changes in place."""
        self._repair = bool(left_out)
        """A damaged cache file's entries were dropped or left out: the next save writes their shards, however few."""
        self._saving: multiprocessing.process.BaseProcess | None = None
        self.read_count = 0
        """How many files the last read parsed (their stats were new)."""
        self.vouched_count = 0
        """How many files the last read knew by git's blob ids, their stats new to the cache (a fresh clone's: the
        next build there reads each again, unless the cache is saved with them)."""
        self.patched_from: dict[str, Parsed] | None = None
        """The parsed transcripts of the read before the last, when the last patched them (else None)."""
        self.looked_at: frozenset[str] | None = None
        """The paths (relative to content/) the last read looked at again or found gone, when it patched the scan
        before it (serve's rebuilds); None when it looked at every file."""

    def read(self, files: ContentFiles, inputs: ReadInputs, problems: list[Diagnostic], made: Made = Made(),
             meanwhile: Callable[[], None] | None = None,
             patched: tuple[dict, frozenset[str]] | None = None) -> tuple[dict[str, Parsed], dict[str, bytes], dict]:
        """What reading each transcript gave, by path relative to content/ (those that read), the published
        pages and the quotes' cards made as the files were parsed (by `made`, in the worker that read them); only
        new or changed files are parsed, and a file whose stat is unchanged since the last build is not even read.
        `patched`: the stats `files` were patched from and the paths looked at again (serve's watcher's): no other
        path's stat is compared."""
        started = time.time_ns()
        keyed_for = (_context(inputs), inputs.history.head if inputs.history else None, files.is_git, files.revision)
        round_ = self._patch(files, keyed_for, inputs, patched) \
            or _Round({}, {}, {}, {}, {}, list(files.transcripts), False)
        try:
            jobs = self._jobs(round_, files, inputs, keyed_for[0])
            pages, cards = {}, {}
            work = Work(inputs, self.entries.keys(), None if files.revision else self.source, made.page, made.cards)
            results = parse_transcripts(jobs, work, self._progress, meanwhile, freeze=self._freeze)
            self._freeze = False
            for job, (found, done, html, quote_cards) in zip(jobs, results):
                round_.keys[job.path] = key = job.key(found)
                if html is not None:
                    pages[job.path.removeprefix("content/")] = html
                cards.update(quote_cards)
                round_.kept[key] = self.entries[key] if done is None else done  # None: cached bytes (a touch)
                stat = files.stats.get(job.path)
                if stat is not None and found is not None and stat.mtime_ns < started - RACY_NS:
                    round_.stats[job.path] = (stat, found)
            self._finish(round_, files, keyed_for, inputs.dirty, len(jobs))
        except BaseException:
            if round_.patched:
                self._scan = None  # its dicts were changed in place (_patch): the next read looks at every file
            raise
        for diagnostics in self._scan.problems.values():
            problems += diagnostics
        return self._scan.parsed, pages, cards

    def _patch(self, files: ContentFiles, keyed_for: tuple, inputs: ReadInputs,
               patched: tuple[dict, frozenset[str]] | None) -> _Round | None:
        """The last build's answer, with only the files whose stat changed to look at again (serve's rebuilds: set
        operations in C, not a Python step for each of 10,000 files, and with `patched` the paths it names only),
        and those that commits since its history touched; None when a whole scan is shorter."""
        last, dirty = self._scan, inputs.dirty
        moved = _moved_since(last.keyed_for, keyed_for, inputs.history) if last is not None else None
        if moved is None or files.revision is not None:
            return None
        before, now = last.stats.get, files.stats
        if patched is not None and patched[0] is last.stats:  # only these paths' stats may differ
            todo = {path for path in patched[1] if path in now and before(path) != now[path]}
            gone = {path for path in patched[1] if path in last.keys and path not in now}
        else:
            todo = {path for path, stat in now.items() if before(path) is not stat and before(path) != stat}
            gone = last.keys.keys() - now.keys()
        unstated = last.keys.keys() - self._stats.keys() if last.unstated is None else last.unstated
        todo |= unstated | ((dirty ^ last.dirty) & now.keys()) | (moved & now.keys())
        todo -= gone
        if len(todo) + len(gone) > 10 + len(files.stats) // 20:
            return None
        # The last scan's keys and the store's entries and stats are changed in place (copying 100,000 of each
        # took 20 ms of a serve rebuild): read() forgets that scan if the read stops before it ends
        keys, kept, stats = last.keys, self.entries, self._stats
        parsed, found = dict(last.parsed), dict(last.problems)
        for path in gone:
            kept.pop(keys.pop(path), None)
            parsed.pop(path.removeprefix("content/"), None)
            found.pop(path, None)
            stats.pop(path, None)
        # A file looked at again keeps its place in keys, parsed and found; its entry stays until its new key is known
        replaced = frozenset(keys[path] for path in todo if path in keys)
        return _Round(keys, kept, stats, parsed, found, sorted(todo), True, tuple(gone), unstated, replaced,
                      len(replaced) < len(todo))

    def _jobs(self, round_: _Round, files: ContentFiles, inputs: ReadInputs, context: bytes) -> list[Job]:
        """The files to parse; those the cache has (by the hash remembered for their stat) go straight to kept."""
        jobs, self.vouched_count = [], 0
        undated_by_commit: dict[tuple[str, str], tuple] = {}  # a commit adds many files
        history = inputs.history
        for path in round_.paths:
            data, stat = files.transcripts[path], files.stats.get(path)
            commit = history.added.get(path) if history is not None else None
            memo = undated_by_commit.get(commit) if commit else None
            if memo is None:  # a committed file's undated date is its commit's
                undated = undated_for(path, files, history)
                memo = (undated, undated.date.timestamp())
                if commit:
                    undated_by_commit[commit] = memo
            undated, when = memo
            added = added_commit(path, inputs)
            known, vouched = self._known_digest(path, data, stat, files.blobs)
            round_.stats.pop(path, None)  # remembered again below if it is still so (a patched round's is _stats)
            round_.keys[path] = key = (known, path, context, when, undated.warning, added)  # Job.key
            hit = self.entries.get(key) if known is not None else None
            if hit is not None:
                round_.kept[key] = hit
                self.vouched_count += vouched
                if stat is not None:
                    round_.stats[path] = (stat, known)
            else:
                jobs.append(Job(path, data, undated, added, key[1:]))
        return jobs

    def _finish(self, round_: _Round, files: ContentFiles, keyed_for: tuple, dirty: frozenset[str], read: int) -> None:
        """The round's answers into parsed and found, by path; the store keeps them as the last scan."""
        keys, parsed, found = round_.keys, round_.parsed, round_.found
        unordered = False  # a path new to keys, parsed or found went in at the end
        for path in round_.paths:
            entry, relative = round_.kept[keys[path]], path.removeprefix("content/")
            if entry.diagnostics:
                unordered |= path not in found
                found[path] = entry.diagnostics
            else:
                found.pop(path, None)
            if entry.transcript is not None:
                unordered |= relative not in parsed
                parsed[relative] = entry
            else:
                parsed.pop(relative, None)
        if round_.patched and (unordered or round_.added):
            keys, parsed, found = (dict(sorted(d.items())) for d in (keys, parsed, found))  # back in order by path
        self.entries, self._stats = round_.kept, round_.stats  # a renamed or deleted file drops out
        self.read_count = read
        self.patched_from = self._scan.parsed if round_.patched else None
        self.looked_at = frozenset(path.removeprefix("content/") for path in (*round_.paths, *round_.gone)) \
            if round_.patched else None
        if round_.patched:  # only the round's paths' stats and entries changed
            for key in round_.replaced - {keys[path] for path in round_.paths}:
                round_.kept.pop(key, None)
            looked = {*round_.paths, *round_.gone}
            unstated = frozenset(round_.unstated - looked | {path for path in round_.paths if path not in round_.stats})
        else:
            unstated = frozenset(keys.keys() - round_.stats.keys())
        self._scan = Scan(keyed_for, frozenset(dirty), files.stats, keys, parsed, found, unstated)

    def _known_digest(self, path: str, data: bytes | None, stat: Stat | None,
                      blobs: dict[str, bytes]) -> tuple[bytes | None, bool]:
        """The content hash without reading the file: of the bytes given (a revision), the one remembered for
        this exact stat, or the blob id git vouches for; None when only reading the file can tell. And whether it
        is git's (the stat new to the cache)."""
        if data is not None:
            return blob_id(data), False
        remembered = self._stats.get(path)
        if remembered is not None and remembered[0] == stat:
            return remembered[1], False
        vouched = blobs.get(path)
        return vouched, vouched is not None

    def persist(self, always: bool = False) -> None:
        """Save parsed transcripts and git history for the next process, when anything changed: unless
        `always`, not for a few files or commits (SAVE_AFTER: a save takes 0.1-0.2 s at 10,000 transcripts;
        skipping it costs the next build a read of those few files and a `git log` over those few commits, and
        they add up until a build saves them)."""
        different = self.entries.keys() ^ self._saved[0]
        if not always and not self._repair and self._saved[0] and _few_commits_since(self.history, self._saved[2]) \
                and self.read_count + self.vouched_count < SAVE_AFTER and len(different) < SAVE_AFTER \
                and self._personas.keys() == self._saved[3]:
            return
        if not self._save or (self.entries.keys(), self._stats, self.history, self._personas.keys()) == self._saved:
            return
        state = {"transcripts": self.entries, "stats": self._stats, "git": self.history,
                 "scan": self._scan.saved() if self._scan is not None else None, "personas": self._personas}
        unchanged = set(range(cache.SHARDS)) - {cache.shard_of(key) for key in different}
        to_write = len(self.entries) * (cache.SHARDS - len(unchanged)) // cache.SHARDS  # about that many to pickle
        if to_write >= POOL_MIN_FILES and threading.active_count() == 1:
            import multiprocessing  # here: a build that saves little, or nothing, never needs it (13 ms)

            # Pickling 10,000 transcripts takes as long as rendering them: a forked copy of this process
            # saves while this one renders (the command waits for it as it ends: finish()).
            self._saving = multiprocessing.get_context("fork").Process(target=_save,
                                                                       args=(self.folder, state, unchanged))
            self._saving.start()
        else:
            _save(self.folder, state, unchanged)
        self._saved = (set(self.entries), dict(self._stats), self.history, set(self._personas))
        self._repair = False

    def forget_damaged(self, damaged: cache.CacheDamaged) -> bool:
        """Drop every entry whose frozen transcript lies in the damaged cache file: the next read parses those
        transcripts again, and the next save writes their shards again. False when no entry lies there."""
        self.finish()  # a save begun meanwhile leaves out what it finds damaged; this one's save follows it
        dropped = {key for key, entry in self.entries.items()
                   if type(entry.transcript) is cache.FrozenAt and entry.transcript.file.path == damaged.path}
        if not dropped:
            return False
        self.entries = {key: entry for key, entry in self.entries.items() if key not in dropped}
        self._saved = (self._saved[0] - dropped, *self._saved[1:])  # their shards differ from the files on disk
        self._scan, self._repair = None, True
        return True

    def read_personas(self, files: dict[str, bytes]) -> tuple[list[Persona], list[Diagnostic]]:
        """reader.read_personas, each file read again only when its bytes changed: a build whose persona files are
        the same renders no sketch and loads neither markdown-it nor PyYAML for them (35-40 ms of a one-file
        rebuild)."""
        from ..reader import read_personas

        personas, problems, kept = [], [], {}
        for path, data in files.items():
            key = (path, blob_id(data))
            found = self._personas.get(key)
            if found is None:
                found = read_personas({path: data})
            kept[key] = found
            personas += found[0]
            problems += found[1]
        self._personas = kept
        return personas, problems

    def finish(self) -> None:
        """Wait until the last save is done."""
        if self._saving is not None:
            self._saving.join()
            self._saving = None


def _moved_since(was: tuple, now: tuple, history: History | None) -> frozenset[str] | None:
    """The transcripts whose keys may differ from those of a scan keyed for `was`, now keyed for `now`, by their
    history alone: none for the same keying; the paths the commits since touched when only git's head moved and
    `history` was continued from the scan's (a new commit, in CI or after `git commit`); None otherwise."""
    if was == now:
        return frozenset()
    since = history.since if history is not None else None
    if since is None or was[1] != since.head or (was[0], *was[2:]) != (now[0], *now[2:]):
        return None
    return since.paths


def _few_commits_since(history: History | None, saved: History | None) -> bool:
    """Whether `history` is the saved one, or was continued from it over fewer than SAVE_AFTER commits: the next
    process continues the saved one again (git's logs over those few commits), and reads again the files they
    changed (which read_count counts), rather than this one saving the cache for it."""
    if history is saved:
        return True
    since = history.since if history is not None else None
    return since is not None and saved is not None and since.head == saved.head and since.commits < SAVE_AFTER


def _context(inputs: ReadInputs) -> bytes:
    """A hash of all a transcript's reading depends on besides its own bytes, path and dates."""
    config = inputs.config
    return hashlib.sha256(repr((tuple(config.tags), sorted(inputs.roles.items()), config.timezone,
                                config.publish_transcripts, config.attribution,
                                sorted(inputs.titles.items()))).encode()).digest()
