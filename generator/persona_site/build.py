"""build: read -> extract -> archive -> render. Writing is output.py's job."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import jinja2

from .archive import Archive
from .config import CONFIG_NAME, Config, line_of, read_config
from . import cache, gitmeta, pages_archive
from .content import LINK_OUT, MAX_FILE_BYTES, RACY_NS, ContentFiles, Stat, decode, read_file, read_revision, read_work_tree, too_large
from .model import (Diagnostic, Parsed, Participant, Persona, Quote, QuoteRef, Site, Transcript, Transcripts, error,
                    freeze, thaw, warning)
from .reader import Undated, read_personas, read_transcript
from .render import (BUILTIN_THEME, Renderer, RenderContext, Theme, freshness, make_environment, quote_refs,
                     transcript_url_path)
from .suggest import did_you_mean

if TYPE_CHECKING:
    import multiprocessing.process


@dataclass
class BuildResult:
    """What one build produced: outputs to write (when there are no errors) and every problem."""

    config: Config
    diagnostics: list[Diagnostic]
    site: Site | None = None
    archive: Archive | None = None
    outputs: dict[str, bytes] = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    """The commit built from: commit (short), commit_date, dirty, json (extra keys for quotes.json)."""

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def failed(self, strict: bool) -> bool:
        return not self.ok or (strict and bool(self.diagnostics))


def build_time(config: Config) -> dt.datetime:
    """Now, in the site's zone; SOURCE_DATE_EPOCH pins it for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return dt.datetime.fromtimestamp(int(epoch), config.zone)
    return dt.datetime.now(config.zone).replace(microsecond=0)


class Builder:
    """Builds a content repository; keeps parsed transcripts between builds (keyed by content hash)."""

    def __init__(self, source: Path, *, base_url: str | None = None, live_reload: str = "",
                 rev: str | None = None, cache_dir: Path | None | str = "auto", save_cache: bool = True,
                 progress: Callable[[str, int, int], None] | None = None, preview: bool = False) -> None:
        self.source = source
        self.preview = preview
        """Build for serve: the build time is taken to the minute (the footer shows minutes, and a rebuild within
        the same minute need not render again the pages its changes did not touch), and the JSON files are
        outputs made when first asked for (render.Deferred)."""
        self.base_url = base_url
        self.live_reload = live_reload
        self.rev = rev
        self._cache_folder = cache.cache_folder(source) if cache_dir == "auto" else cache_dir
        self._save_cache = save_cache
        self._progress = progress
        self._may_freeze = not _frozen
        """The first Builder of a process: its first build may freeze what it parsed too (_freeze_once)."""
        with cache.collector_paused():  # the loaded objects go to gc.freeze's generation without being scanned
            state = cache.load(self._cache_folder)
            _freeze_once()
        self._cache: dict[tuple, Parsed] = state.get("transcripts", {})
        """Cache key (Job.key) -> what reading that file gave."""
        self._stats: dict[str, tuple] = state.get("stats", {})
        """Path -> (Stat, content hash) as last read: a file with the same stat is not read again."""
        self._history: gitmeta.History | None = state.get("git")
        self._saved = (set(self._cache), self._stats, self._history)
        self._saving: multiprocessing.process.BaseProcess | None = None
        self._renderer: tuple[tuple, Renderer | None] = ((), None)
        self._last_archive: tuple[dict[str, Parsed], Archive | None] = ({}, None)
        """The last build's transcripts and archive, for the next build to patch."""
        self._built = False
        """Whether this Builder has built once."""
        self._read = 0
        """How many files the last build read (their stats were new)."""
        self._scan: _Scan | None = _Scan.of(state.get("scan"), self._cache)
        """What the last build's _transcripts found (the cache keeps it: a rebuild by a new process takes the
        same short way as serve's)."""
        self._transcripts_seen: Transcripts | None = None
        """The last build's transcripts: those its pages unpickled need not be unpickled again."""
        self._dated: dict[str, tuple] = {}
        """Path -> (Parsed, its inputs, the Parsed with its lines' commits) for transcripts edited since added."""

    def load(self) -> ContentFiles:
        """The files to build: the work tree, or the revision given (gitmeta.GitError if it is bad)."""
        if self.rev:
            return read_revision(self.source, self.rev)
        if self.preview:  # serve: its watcher patches this answer, and must know every hard link (links)
            return read_work_tree(self.source)
        from .worktree import files  # here: it imports the cache's writer

        return files(self.source, self._cache_folder, save=self._save_cache)

    def _renderer_for(self, theme: Theme) -> Renderer:
        """One Jinja environment across builds (it reloads edited templates itself; serve's rebuilds
        are twice as fast); a new one when the theme's template files come or go."""
        key = (theme, tuple(sorted(str(p) for folder in theme.folders for p in (folder / "templates").rglob("*"))))
        if self._renderer[0] != key:
            compiled = self._cache_folder / "templates" if self._cache_folder and self._save_cache else None
            self._renderer = (key, Renderer(theme, compiled))
        return self._renderer[1]

    def build(self, files: ContentFiles | None = None, *, render: bool = True) -> BuildResult:
        self.finish()
        files = files or self.load()
        config, problems, usable = self._config(files)
        if not usable:
            return BuildResult(config, problems)
        personas = self._personas(files, problems)
        roles = _roles(personas, problems, files.personas)
        titles = {p.slug: p.title for p in personas}
        provenance = self._provenance(files)
        history = self._git_history(provenance.get("full"))
        dirty = set(provenance.get("dirty_paths", ()))
        now = build_time(config)
        if self.preview:
            now = now.replace(second=0)
        theme = Theme.for_site(self.source, config.theme)
        if files.revision is None:
            problems += theme_links(self.source)  # before a template is read (SECURITY.md, item 9)
        if not render and not any(d.is_error for d in problems if d.path.startswith("themes/")):
            problems += template_problems(theme)  # check: what a build would find compiling them
        ctx = RenderContext(config, now, {p.slug: p for p in personas}, live_reload=self.live_reload,
                            build_info=provenance)
        page = renderer = None
        if render and not any(d.is_error for d in problems):
            renderer = self._renderer_for(theme)
            if config.publish_transcripts:
                renderer.compile("transcript.html")  # once, before the workers that render these pages fork
                page = lambda transcript: renderer.transcript_page(transcript, ctx)  # noqa: E731
        parsed, pages = self._transcripts(files, history, dirty, config, roles, titles, problems, page,
                                          renderer.compile if renderer else None)
        if not self.preview or not self._built:  # serve saves its first build's, then when idle (save())
            self._persist(always=self.preview)  # now: a forked saver then works while this process goes on
        self._built = True
        edited = [p for p in dirty if history and p in history.added]
        parsed = self._with_history(parsed, files, history, gitmeta.uncommitted_lines(self.source, edited), config)
        del files  # a revision's raw bytes: tens of MiB that rendering does not need
        transcripts = self._transcripts_seen = Transcripts({path: found.transcript for path, found in parsed.items()},
                                                           self._transcripts_seen)
        site = Site(tuple(sorted(personas, key=lambda p: p.slug)), transcripts)
        archive = self._archive(parsed, transcripts.quote)
        problems += _site_checks(site, archive, config, now)
        result = BuildResult(config, _sorted(problems), site, archive, provenance=provenance)
        if result.ok and render:
            ctx.published = set(transcripts.paths)
            try:
                result.outputs = self._renderer_for(theme).render(site, archive, ctx, pages, defer=self.preview)
            except jinja2.TemplateError as exc:
                result.diagnostics.append(_template_problem(exc, theme))
            except (UnicodeDecodeError, OSError) as exc:  # a template not saved as UTF-8, or unreadable: which one
                result.diagnostics += template_problems(theme) or [error("themes", 0, f"the theme could not be read: {exc}")]
        return result

    def _archive(self, parsed: dict[str, Parsed], load: Callable[[QuoteRef], Quote]) -> Archive:
        """The archive of these transcripts: the last build's, patched where transcripts changed (serve's
        rebuilds), when few did; else sorted anew."""
        last, archive = self._last_archive
        if archive is not None:
            changed = [path for path, found in parsed.items() if last.get(path) is not found]
            changed += last.keys() - parsed.keys()
            if len(changed) <= 10 + len(parsed) // 20:  # patching costs a few µs a ref, sorting 60 ms a 30,000
                archive = archive.patched([ref for path in changed if path in last for ref in last[path].quotes],
                                          [ref for path in changed if path in parsed for ref in parsed[path].quotes],
                                          load)
                self._last_archive = (parsed, archive)
                return archive
        archive = Archive((ref for found in parsed.values() for ref in found.quotes), load)
        self._last_archive = (parsed, archive)
        return archive

    def finish(self) -> None:
        """Wait until the cache of the last build is saved."""
        if self._saving is not None:
            self._saving.join()
            self._saving = None

    def save(self) -> None:
        """Save the cache now if the last builds changed it (serve, when idle or stopping)."""
        self.finish()
        self._persist(always=True)
        self.finish()

    def _persist(self, always: bool = False) -> None:
        """Save parsed transcripts and git history for the next process, when anything changed: unless
        `always`, not for a few files (a save takes 0.1-0.2 s at 10,000 transcripts; skipping it costs the
        next build a read of those few files, and the changes add up until a build saves them)."""
        now = (self._cache.keys(), self._stats, self._history)
        different = self._cache.keys() ^ self._saved[0]
        if not always and self._saved[0] and self._history is self._saved[2] and self._read < SAVE_AFTER \
                and len(different) < SAVE_AFTER:
            return
        if self._save_cache and now != self._saved:
            state = {"transcripts": self._cache, "stats": self._stats, "git": self._history,
                     "scan": self._scan.saved() if self._scan is not None else None}
            changed = {cache.shard_of(key) for key in different}
            unchanged = set(range(cache.SHARDS)) - changed
            to_write = len(self._cache) * len(changed) // cache.SHARDS  # about that many entries to pickle
            if to_write >= POOL_MIN_FILES and threading.active_count() == 1:
                import multiprocessing  # here: a build that saves little, or nothing, never needs it (13 ms)

                # Pickling 10,000 transcripts takes as long as rendering them: a forked copy of this process
                # saves while this one renders (multiprocessing waits for it when the command exits).
                self._saving = multiprocessing.get_context("fork").Process(target=cache.save,
                                                                           args=(self._cache_folder, state, unchanged))
                self._saving.start()
            else:
                cache.save(self._cache_folder, state, unchanged)
            self._saved = (set(self._cache), self._stats, self._history)

    def _provenance(self, files: ContentFiles) -> dict:
        """The commit the site is built from, for page footers and quotes.json (issue 4)."""
        if not files.is_git:
            return {}
        head = gitmeta.head_info(self.source, files.revision or "HEAD")
        if not head:
            return {"dirty": True}
        dirty = sorted(gitmeta.dirty_paths(self.source)) if files.revision is None else []
        return {"commit": head["short"], "full": head["commit"], "commit_date": head["date"], "dirty": bool(dirty),
                "dirty_paths": dirty, "json": {"commit": head["commit"]}}

    def _git_history(self, head: str | None) -> gitmeta.History | None:
        """Dates and line provenance from git: one `git log -p`, incremental from the last build's."""
        if head is None:
            return None
        self._history = gitmeta.history(self.source, head, self._history)
        return self._history

    def _with_history(self, parsed: dict[str, Parsed], files: ContentFiles, history: gitmeta.History | None,
                      uncommitted: dict[str, set[str]], config: Config) -> dict[str, Parsed]:
        """Quotes of transcripts edited since git added them: the commit that first added each quote's line
        (None for a line not committed yet). The others got their commit as they were read (_added)."""
        if history is None:
            return parsed
        parsed = dict(parsed)  # the one read keeps what reading gave (_Scan): the memo below compares with it
        dated = {}
        for source_path in history.lines.keys() | uncommitted.keys():  # the transcripts edited since added
            path = source_path.removeprefix("content/")
            found = parsed.get(path)
            if found is None or not found.quotes or source_path not in history.added:
                continue
            new = frozenset(uncommitted.get(source_path, ()))
            done = self._dated.get(path)
            if done is not None and done[0] is found and done[1] == (history.head, new):
                parsed[path], dated[path] = done[2], done  # the same object as last time: the archive keeps it
                continue
            transcript = thaw(found.transcript)
            data = files.transcripts.get(source_path) or read_file(self.source, source_path)
            text = data.decode("utf-8").removeprefix("\ufeff").splitlines()
            commits = [history.line_commit(source_path, text[q.line - 1])
                       if q.line <= len(text) and text[q.line - 1] not in new else None for q in transcript.quotes]
            quotes = tuple(q._replace(added_in=commit) for q, commit in zip(transcript.quotes, commits))
            parsed[path] = parsed_of(transcript._replace(quotes=quotes), found.diagnostics, config)
            dated[path] = (found, (history.head, new), parsed[path])
        self._dated = dated
        return parsed

    def _config(self, files: ContentFiles) -> tuple[Config, list[Diagnostic], bool]:
        """The settings, every problem found so far, and whether the content can be checked with these settings
        (config.read_config: a bad setting takes its default, a bad tag vocabulary stops the build here)."""
        problems = list(files.diagnostics)
        config, found, usable = Config(), [], True
        if files.config is not None:
            text, bad = decode(CONFIG_NAME, files.config)
            config, found, usable = (read_config(text.removeprefix("\ufeff"), CONFIG_NAME) if text is not None
                                     else (Config(), [bad], False))
            if usable and config.theme != "default" and not (self.source / "themes" / config.theme).is_dir():
                found.append(warning(CONFIG_NAME, line_of(text, "theme"),
                                     f"there is no folder themes/{config.theme}, so the built-in theme is used: "
                                     f"make that folder, or set 'theme' to one under themes/"))
        problems += found
        if self.base_url:
            config = config.with_base_url(self.base_url)
        return config, problems, usable

    def _personas(self, files: ContentFiles, problems: list[Diagnostic]) -> list[Persona]:
        personas, found = read_personas(files.personas)
        problems += found
        if not files.personas:
            problems.append(error("content/personas", 0, "there are no personas: add one file per buyer role, e.g. content/personas/cfo.md"))
        return personas

    def _transcripts(self, files: ContentFiles, history: gitmeta.History | None, dirty: set[str], config: Config,
                     roles: dict[str, str], titles: dict[str, str], problems: list[Diagnostic],
                     page: Callable[[Transcript], bytes] | None,
                     meanwhile: Callable[[], None] | None = None) -> tuple[dict[str, Parsed], dict[str, bytes]]:
        """What reading each transcript gave, by path relative to content/ (those that read cleanly), and the
        published pages rendered as the files were parsed (by `page`, in the worker that read them); only new
        or changed files are parsed.

        A file whose stat is unchanged since the last build is not even read (its content hash is
        remembered); the hash, never the stat, is the cache key, so a fresh CI checkout reuses the cache.
        """
        context = hashlib.sha256(repr((tuple(config.tags), sorted(roles.items()), config.timezone,
                                       config.publish_transcripts, config.attribution, sorted(titles.items()))).encode()).digest()
        started = time.time_ns()
        keyed_for = (context, history.head if history else None, files.is_git, files.revision)
        cache = self._cache
        last, todo = self._scan, None
        if last is not None and last.keyed_for == keyed_for and files.revision is None:
            # The last build's answer, with only the files whose stat changed looked at again (serve's rebuilds:
            # set operations in C, not a Python step for each of 10,000 files).
            before = last.stats.get
            todo = ({path for path, stat in files.stats.items() if before(path) is not stat and before(path) != stat}
                    | (last.keys.keys() - self._stats.keys()) | ((dirty ^ last.dirty) & files.stats.keys()))
            gone = last.keys.keys() - files.stats.keys()
            todo -= gone
            if len(todo) + len(gone) > 10 + len(files.stats) // 20:
                todo = None
        if todo is not None:
            keys, kept, stats = dict(last.keys), dict(cache), dict(self._stats)
            parsed, found = dict(last.parsed), dict(last.problems)
            for path in gone:
                kept.pop(keys.pop(path), None)
                parsed.pop(path.removeprefix("content/"), None)
                found.pop(path, None)
            for path in todo | gone:  # a file looked at again keeps its place in keys, parsed and found
                kept.pop(keys.get(path), None)
                stats.pop(path, None)
            paths = sorted(todo)
        else:
            keys, kept, stats, parsed, found = {}, {}, {}, {}, {}
            paths = files.transcripts
        # keys: path -> its cache key, by path; found: path -> its diagnostics, for those with any.
        jobs = []
        undated_by_commit: dict[tuple[str, str], tuple[Undated, float]] = {}  # a commit adds many files
        for path in paths:
            data = files.transcripts[path]
            stat = files.stats.get(path)
            commit = history.added.get(path) if history is not None else None
            memo = undated_by_commit.get(commit) if commit else None
            if memo is None:  # a committed file's undated date is its commit's
                undated = self._undated(files, history, path)
                memo = (undated, undated.date.timestamp())
                if commit:
                    undated_by_commit[commit] = memo
            undated, when = memo
            added = _added(history, path, dirty)
            digest = self._known_digest(path, data, stat)
            keys[path] = key = (digest, path, context, when, undated.warning, added)  # Job.key
            hit = cache.get(key) if digest is not None else None
            if hit is not None:
                kept[key] = hit
                if stat is not None:
                    stats[path] = (stat, digest)
            else:
                jobs.append(Job(path, data, undated, added, key[1:]))
        pages = {}
        for job, (digest, done, html) in zip(jobs, parse_transcripts(jobs, config, roles, titles, cache.keys(),
                                                                      None if self.rev else self.source, page,
                                                                      self._progress, meanwhile,
                                                                      freeze=self._may_freeze and not self._built)):
            keys[job.path] = key = job.key(digest)
            if html is not None:
                pages[job.path.removeprefix("content/")] = html
            kept[key] = cache[key] if done is None else done  # None: cached bytes (a checkout, a touch)
            stat = files.stats.get(job.path)
            if stat is not None and digest is not None and stat.mtime_ns < started - RACY_NS:
                stats[job.path] = (stat, digest)
        unordered = False  # a path new to keys, parsed or found went in at the end
        for path in paths:
            entry, relative = kept[keys[path]], path.removeprefix("content/")
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
        if todo is not None and (unordered or not todo <= last.keys.keys()):
            keys, parsed, found = (dict(sorted(d.items())) for d in (keys, parsed, found))  # back in order by path
        self._cache, self._stats = kept, stats  # a renamed or deleted file drops out
        self._read = len(jobs)
        self._scan = _Scan(keyed_for, frozenset(dirty), files.stats, keys, parsed, found)
        for diagnostics in found.values():
            problems += diagnostics
        return parsed, pages

    def _known_digest(self, path: str, data: bytes | None, stat: Stat | None) -> bytes | None:
        """The content hash without reading the file: of the bytes given (a revision), or the one remembered
        for this exact stat; None when only reading the file can tell."""
        if data is not None:
            return _digest(data)
        remembered = self._stats.get(path)
        return remembered[1] if remembered is not None and remembered[0] == stat else None

    @staticmethod
    def _undated(files: ContentFiles, history: gitmeta.History | None, path: str) -> Undated:
        added = history.added_date(path) if history is not None else None
        if added is not None:
            return Undated(added, None)
        why = "this transcript is not committed to git yet" if files.is_git else "this folder is not a git repository"
        stat = files.stats.get(path)
        return Undated(stat.mtime if stat else dt.datetime.now(dt.timezone.utc),
                       f"no 'date' in the front matter and {why}: using the file's modification time; add 'date: YYYY-MM-DD'")


class _Scan(NamedTuple):
    """What _transcripts found in the last build, for the next to patch."""

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

    def saved(self) -> tuple:
        """What the cache keeps: parsed and problems are the cache's entries under keys."""
        return self.keyed_for, self.dirty, self.stats, self.keys

    @classmethod
    def of(cls, saved: object, cache: dict[tuple, Parsed]) -> _Scan | None:
        """The scan the cache kept, with its entries; None when there is none or an entry is gone (a lost shard)."""
        try:
            keyed_for, dirty, stats, keys = saved  # type: ignore[misc]
            entries = [(path, cache[key]) for path, key in keys.items()]
        except (TypeError, ValueError, KeyError, AttributeError):
            return None
        parsed = {path.removeprefix("content/"): entry for path, entry in entries if entry.transcript is not None}
        problems = {path: entry.diagnostics for path, entry in entries if entry.diagnostics}
        return cls(keyed_for, dirty, stats, keys, parsed, problems)


def _freeze_once() -> None:
    """gc.freeze() after the first cache is loaded: the collector need not scan it again (it is freed all the
    same). Only in a process's first Builder (and its first build: parse_transcripts): freezing later would keep
    earlier builds' cyclic garbage (a Renderer and its templates) alive for good."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True


_frozen = False



def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=20).digest()


def _added(history: gitmeta.History | None, path: str, dirty: set[str]) -> tuple[str, str] | None:
    """The commit that added a transcript, when every quote in it dates from then (it was not edited since)."""
    if history is None or path in history.lines or path in dirty:
        return None
    return history.added.get(path)


class Job(NamedTuple):
    """One transcript to read and parse, with everything its result depends on besides its bytes."""

    path: str
    """Path relative to the source."""
    data: bytes | None
    """The bytes (from a revision), or None to read the file from the work tree."""
    undated: Undated
    """The date to use when the front matter has none."""
    added: tuple[str, str] | None
    """The commit that added the file, for every quote's added_in; None when _with_history decides."""
    inputs: tuple
    """What the result depends on besides the bytes: path, a hash of the config and personas, the undated
    date's timestamp and its warning, added (_transcripts makes them once, with the key)."""

    def key(self, digest: bytes | None) -> tuple:
        """The cache key: the bytes' hash and everything else the result depends on."""
        return (digest, *self.inputs)


SAVE_AFTER = 20
"""A build that read fewer files than this, and changed fewer cache entries, leaves the cache as it was."""

POOL_MIN_FILES = 300
"""Below this many files to parse, a process pool costs more than it saves (benchmarks/README.md)."""
_worker_context: tuple = ()


def parse_transcripts(jobs: list[Job], config: Config, roles: dict[str, str], titles: dict[str, str],
                      cached: Collection[tuple], source: Path | None, page: Callable[[Transcript], bytes] | None = None,
                      progress: Callable[[str, int, int], None] | None = None,
                      meanwhile: Callable[[], None] | None = None, freeze: bool = False) -> list[tuple]:
    """(digest, Parsed or None when cached, page or None) per job: on every core for a large repository,
    in-process for a small one. Workers read their own files and render their pages; the main process
    runs `meanwhile` as they do.

    The workers' results arrive with the collector paused (plain tuples, no cycles: at 10,000 transcripts its
    passes over them took 90 ms), and with `freeze` go to gc.freeze's generation, never scanned again (40 ms
    more)."""
    context = (config, roles, titles, cached, source, page)
    cores = os.cpu_count() or 1
    if len(jobs) < POOL_MIN_FILES or cores < 2 or threading.active_count() > 1:
        # Threads (the dev server's) and fork do not mix; serve's rebuilds are small anyway.
        if meanwhile:
            meanwhile()
        return [_parse_job(job, *context) for job in jobs]
    import multiprocessing  # here, as in _persist: only a large build starts processes
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(jobs) // (cores * 8))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    results: list[tuple] = []
    # Forked workers inherit the context (the cache's keys included) without pickling it.
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("fork"),
                             initializer=_init_worker, initargs=context) as pool:
        parsing = pool.map(_parse_chunk, chunks)
        if meanwhile:
            meanwhile()
        with cache.collector_paused():
            for chunk in parsing:
                results.extend(chunk)
                if progress:
                    progress("Reading transcripts", len(results), len(jobs))
            if freeze:
                gc.freeze()
    return results


def _init_worker(*context) -> None:
    global _worker_context
    _worker_context = context


def _parse_chunk(chunk: list[Job]) -> list[tuple]:
    return [_parse_job(job, *_worker_context) for job in chunk]


def _parse_job(job: Job, config: Config, roles: dict[str, str], titles: dict[str, str], cached: Collection[tuple],
               source: Path | None, page: Callable[[Transcript], bytes] | None) -> tuple:
    data = job.data
    if data is None:
        try:
            data = read_file(source, job.path)
        except OSError as exc:
            return None, _unread(error(job.path, 0, f"this file could not be read: {exc.strerror or exc}")), None
    digest = _digest(data)
    if job.key(digest) in cached:
        return digest, None, None
    if len(data) > MAX_FILE_BYTES:
        return digest, _unread(too_large(job.path, len(data))), None
    transcript, problems = read_one(job.path, data, job.undated, config, roles, titles, job.added)
    if transcript is None:
        return digest, Parsed((None, tuple(problems), ())), None
    return digest, parsed_of(transcript, problems, config), _page(page, transcript)


def _unread(problem: Diagnostic) -> Parsed:
    return Parsed((None, (problem,), ()))


def parsed_of(transcript: Transcript, problems: list[Diagnostic] | tuple[Diagnostic, ...], config: Config) -> Parsed:
    """A transcript as the cache keeps it: frozen (model.freeze), its quotes as refs with their JSON."""
    return Parsed((freeze(transcript), tuple(problems), quote_refs(transcript, config)))


def _page(page: Callable[[Transcript], bytes] | None, transcript: Transcript) -> bytes | None:
    """The transcript's published page; None when not published, or when the theme fails (the main
    process renders it again and reports the template's problem)."""
    try:
        return page(transcript) if page else None
    except (jinja2.TemplateError, UnicodeDecodeError, OSError):
        return None


def read_one(path: str, data: bytes, undated: Undated, config: Config, roles: dict[str, str],
             titles: dict[str, str], added: tuple[str, str] | None = None) -> tuple[Transcript | None, list[Diagnostic]]:
    """Decode and read one transcript file; `added`: every quote's commit (Job.added)."""
    text, bad = decode(path, data)
    if bad:
        return None, [bad]

    def speaker_label(who: Participant | None) -> str:
        # Published transcripts name speakers only as `attribution` allows (spec section 2).
        if who is None:
            return "Speaker"
        if config.attribution == "name":
            return who.name
        if who.role == "internal":
            return "Our team"
        return who.title or titles.get(who.role) or "Speaker"

    return read_transcript(path, text, tags=config.tags, roles=roles, zone=config.zone, undated=undated,
                           render_body=config.publish_transcripts, speaker_label=speaker_label, added_in=added)


def _roles(personas: list[Persona], problems: list[Diagnostic], files: dict[str, bytes] | None = None) -> dict[str, str]:
    """Every slug and alias -> its persona's slug; an alias claimed twice is an error (at its persona's `aliases`
    line, found in `files`, the personas' bytes by path)."""
    roles = {p.slug: p.slug for p in personas}
    for persona in personas:
        where = f"content/{persona.path}"
        for alias in persona.aliases:
            if alias in roles and roles[alias] != persona.slug:
                problems.append(error(where, _aliases_line(files, where),
                                      f"the alias '{alias}' already means the persona '{roles[alias]}'"))
            elif alias in ("internal", "unknown"):
                problems.append(error(where, _aliases_line(files, where), f"'{alias}' is a reserved role and cannot be an alias"))
            else:
                roles[alias] = persona.slug
    return roles


def _aliases_line(files: dict[str, bytes] | None, path: str) -> int:
    """The line of a persona file's `aliases:` key; 1 when it cannot be told."""
    data = (files or {}).get(path, b"")
    found = re.search(rb"^aliases[ \t]*:", data, re.MULTILINE)
    return data.count(b"\n", 0, found.start()) + 1 if found else 1


def _site_checks(site: Site, archive: Archive, config: Config, now: dt.datetime) -> list[Diagnostic]:
    problems = _output_collisions(site) if config.publish_transcripts else []
    problems += pages_archive.company_collisions(site, config)  # issue 18: two companies, one page
    twice = archive.reused_ids
    refs = archive.refs() if twice else []
    for ref in sorted(ref for ref in refs if ref.id in twice):
        others = [f"content/{r.transcript}:{r.line}" for r in refs if r.id == ref.id and r is not ref]
        problems.append(error(f"content/{ref.transcript}", ref.line,
                              f"the quote id '{ref.id}' is used again at {', '.join(others)}: ids must be unique"))
    for persona in site.personas:
        fresh = freshness(archive, persona.slug, now, config)  # the index's stale flag and this warning agree
        where = f"content/{persona.path}"
        if fresh.last_heard is None:
            problems.append(warning(where, 1, f"no transcript quotes '{persona.slug}' yet: tag a quote by someone with this role"))
        elif fresh.stale:
            problems.append(warning(where, 1, f"stale: the last quote from '{persona.slug}' is {fresh.days_ago} days old "
                                              f"(stale after {config.stale_after_days}); time for a new conversation"))
    return problems


def _output_collisions(site: Site) -> list[Diagnostic]:
    """Acme.md and acme.md, or NFC and NFD café.md, would be one page on many disks: say so."""
    seen: dict[str, str] = {}
    problems = []
    for path in site.transcripts.paths:
        key = unicodedata.normalize("NFC", transcript_url_path(path)).casefold()
        if key in seen:
            problems.append(error(f"content/{path}", 1, f"this transcript and content/{seen[key]} would publish "
                                                        f"to the same page ({transcript_url_path(path)}): rename one"))
        else:
            seen[key] = path
    return problems


def theme_links(source: Path) -> list[Diagnostic]:
    """A link in a theme that leads outside the repository (SECURITY.md, item 9; content/ is checked as it is read)."""
    root = source.resolve()
    problems = []
    for dirpath, dirnames, filenames in os.walk(source / "themes"):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.append(error(path.relative_to(source).as_posix(), 0, LINK_OUT))
    return problems


def _sorted(problems: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(problems), key=lambda d: (d.path, d.line, d.severity != "error"))


def resolve_role(role: str, personas: tuple[Persona, ...]) -> tuple[str | None, str]:
    """A slug or alias -> the persona slug, or (None, did-you-mean text)."""
    names = _roles(list(personas), [])
    return names.get(role), did_you_mean(role, names)


def template_problems(theme: Theme) -> list[Diagnostic]:
    """The syntax errors `check` reports in a theme of the site's own (a build reports them as it renders): each
    of its templates compiled as a build compiles it, none rendered. The built-in templates are not compiled
    again: they are tested with the tool (and compiling all of them would add 0.2 s to every check)."""
    own = {path.relative_to(folder / "templates").as_posix(): path for folder in theme.folders if folder != BUILTIN_THEME
           for path in sorted((folder / "templates").rglob("*"))
           if path.is_file() and path.suffix in TEMPLATE_SUFFIXES and not path.name.startswith(".")}
    if not own:
        return []
    env = make_environment(theme)
    problems = []
    for name, path in own.items():
        try:
            env.get_template(name)
        except jinja2.TemplateError as exc:
            problems.append(_template_problem(exc, theme))
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(error(_theme_path(theme, str(path)), 0, f"this template could not be read: {exc}"))
    return problems


TEMPLATE_SUFFIXES = (".html", ".htm", ".xml", ".j2", ".jinja", ".jinja2")
"""What check compiles in a theme's templates/ folder: notes, editor files and .DS_Store are no templates."""


def _template_problem(exc: jinja2.TemplateError, theme: Theme) -> Diagnostic:
    """A theme bug as a diagnostic pointing at the template, not a traceback."""
    name = _theme_path(theme, str(getattr(exc, "filename", None) or getattr(exc, "name", None) or "theme"))
    line = getattr(exc, "lineno", None) or 0
    return error(name, line, f"the theme template failed: {exc.message or exc}")


def _theme_path(theme: Theme, name: str) -> str:
    """A file of the site's own theme as themes/<name>/templates/x.html, relative to the source as every path is;
    any other name as it is."""
    for folder in theme.folders:
        if folder != BUILTIN_THEME and Path(name).is_relative_to(folder):
            return (Path("themes") / folder.name / Path(name).relative_to(folder)).as_posix()
    return name
