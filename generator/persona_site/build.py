"""build: read -> extract -> archive -> render. Writing is output.py's job."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .archive import Archive
from .config import CONFIG_NAME, Config, parse_config
from . import cache, gitmeta
from .content import LINK_OUT, ContentFiles, decode, read_revision, read_work_tree
from .model import Diagnostic, Participant, Persona, Site, Transcript, error, warning
from .reader import Undated, read_personas, read_transcript
from .render import Renderer, RenderContext, Theme, freshness, transcript_url_path
from .suggest import did_you_mean


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
                 progress: Callable[[str, int, int], None] | None = None) -> None:
        self.source = source
        self.base_url = base_url
        self.live_reload = live_reload
        self.rev = rev
        self._cache_folder = cache.cache_folder(source) if cache_dir == "auto" else cache_dir
        self._save_cache = save_cache
        self._progress = progress
        state = cache.load(self._cache_folder)
        self._cache: dict[tuple, tuple[Transcript | None, list[Diagnostic]]] = state.get("transcripts", {})
        self._history: gitmeta.History | None = state.get("git")
        self._saved = (len(self._cache), self._history)
        self._fresh_entries = 0
        self._renderer: tuple[tuple, Renderer | None] = ((), None)

    def load(self) -> ContentFiles:
        """The files to build: the work tree, or the revision given (gitmeta.GitError if it is bad)."""
        return read_revision(self.source, self.rev) if self.rev else read_work_tree(self.source)

    def _renderer_for(self, theme: Theme) -> Renderer:
        """One Jinja environment across builds (it reloads edited templates itself; serve's rebuilds
        are twice as fast); a new one when the theme's template files come or go."""
        key = (theme, tuple(sorted(str(p) for folder in theme.folders for p in (folder / "templates").rglob("*"))))
        if self._renderer[0] != key:
            self._renderer = (key, Renderer(theme))
        return self._renderer[1]

    def build(self, files: ContentFiles | None = None, *, render: bool = True) -> BuildResult:
        files = files or self.load()
        config, problems = self._config(files)
        if any(d.is_error for d in problems):
            return BuildResult(config, problems)
        personas = self._personas(files, problems)
        roles = _roles(personas, problems)
        titles = {p.slug: p.title for p in personas}
        provenance = self._provenance(files)
        history = self._git_history(provenance.get("full"))
        transcripts = self._transcripts(files, history, config, roles, titles, problems)
        edited = [p for p in provenance.get("dirty_paths", ()) if history and p in history.added]
        transcripts = self._with_history(transcripts, files, history, gitmeta.uncommitted_lines(self.source, edited))
        revision = files.revision
        del files  # the raw bytes of every file: tens of MiB that rendering does not need
        site = Site(tuple(sorted(personas, key=lambda p: p.slug)), tuple(transcripts))
        archive = Archive(q for t in transcripts for q in t.quotes)
        now = build_time(config)
        problems += _site_checks(site, archive, config, now)
        if revision is None:
            problems += theme_links(self.source)
        result = BuildResult(config, _sorted(problems), site, archive, provenance=provenance)
        self._persist()
        if result.ok and render:
            ctx = RenderContext(config, now, {p.slug: p for p in personas},
                                published={t.path for t in transcripts}, live_reload=self.live_reload,
                                build_info=provenance)
            theme = Theme.for_site(self.source, config.theme)
            try:
                result.outputs = self._renderer_for(theme).render(site, archive, ctx)
            except jinja2.TemplateError as exc:
                result.diagnostics.append(_template_problem(exc, theme))
        return result

    def _persist(self) -> None:
        """Save parsed transcripts and git history for the next process, when anything changed."""
        now = (len(self._cache), self._history)
        if self._save_cache and (now != self._saved or self._fresh_entries):
            cache.save(self._cache_folder, {"transcripts": self._cache, "git": self._history})
            self._saved = now

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

    @staticmethod
    def _with_history(transcripts: list[Transcript], files: ContentFiles, history: gitmeta.History | None,
                      uncommitted: dict[str, set[str]]) -> list[Transcript]:
        """Attach to each quote the commit that first added its line (None for a line not committed yet)."""
        if history is None:
            return transcripts
        result = []
        for transcript in transcripts:
            source_path = f"content/{transcript.path}"
            added = history.added.get(source_path)
            if not transcript.quotes or added is None:
                result.append(transcript)
                continue
            if source_path in history.lines or source_path in uncommitted:  # edited since it was added
                text = files.transcripts[source_path].decode("utf-8").removeprefix("\ufeff").splitlines()
                new = uncommitted.get(source_path, set())
                found = [history.line_commit(source_path, text[q.line - 1])
                         if q.line <= len(text) and text[q.line - 1] not in new else None for q in transcript.quotes]
            else:
                found = [added] * len(transcript.quotes)
            quotes = tuple(q._replace(added_in=commit) for q, commit in zip(transcript.quotes, found))
            result.append(transcript._replace(quotes=quotes))
        return result

    def _config(self, files: ContentFiles) -> tuple[Config, list[Diagnostic]]:
        problems = list(files.diagnostics)
        config, found = Config(), []
        if files.config is not None:
            text, bad = decode(CONFIG_NAME, files.config)
            config, found = parse_config(text.removeprefix("\ufeff"), CONFIG_NAME) if text is not None else (Config(), [bad])
        problems += found
        if self.base_url:
            config = config.with_base_url(self.base_url)
        return config, problems

    def _personas(self, files: ContentFiles, problems: list[Diagnostic]) -> list[Persona]:
        personas, found = read_personas(files.personas)
        problems += found
        if not files.personas:
            problems.append(error("content/personas", 0, "there are no personas: add one file per buyer role, e.g. content/personas/cfo.md"))
        return personas

    def _transcripts(self, files: ContentFiles, history: gitmeta.History | None, config: Config,
                     roles: dict[str, str], titles: dict[str, str], problems: list[Diagnostic]) -> list[Transcript]:
        context = (tuple(config.tags), tuple(sorted(roles.items())), config.timezone, config.publish_transcripts,
                   config.attribution, tuple(sorted(titles.items())))
        transcripts, kept, jobs = [], {}, []
        for path, data in files.transcripts.items():
            undated = self._undated(files, history, path)
            key = (hashlib.sha256(data).digest(), path, context, undated)
            if key in self._cache:
                kept[key] = self._cache[key]
            else:
                jobs.append((key, path, data, undated))
        self._fresh_entries = len(jobs)
        for job, parsed in zip(jobs, parse_transcripts(jobs, config, roles, titles, self._progress)):
            kept[job[0]] = parsed
        for key in sorted(kept, key=lambda k: k[1]):
            transcript, found = kept[key]
            problems += found
            if transcript:
                transcripts.append(transcript)
        self._cache = kept  # a renamed or deleted file drops out here
        return sorted(transcripts, key=lambda t: t.path)

    @staticmethod
    def _undated(files: ContentFiles, history: gitmeta.History | None, path: str) -> Undated:
        added = history.added_date(path) if history is not None else None
        if added is not None:
            return Undated(added, None)
        why = "this transcript is not committed to git yet" if files.is_git else "this folder is not a git repository"
        return Undated(files.mtimes.get(path, dt.datetime.now(dt.timezone.utc)),
                       f"no 'date' in the front matter and {why}: using the file's modification time; add 'date: YYYY-MM-DD'")



POOL_MIN_FILES = 300
"""Below this many files to parse, a process pool costs more than it saves (benchmarks/README.md)."""
_worker_context: tuple = ()


def parse_transcripts(jobs: list[tuple], config: Config, roles: dict[str, str], titles: dict[str, str],
                      progress: Callable[[str, int, int], None] | None = None) -> list[tuple]:
    """Parse (key, path, data, undated) jobs: on every core for a large repository, in-process for a small one."""
    cores = os.cpu_count() or 1
    if len(jobs) < POOL_MIN_FILES or cores < 2 or threading.active_count() > 1:
        # Threads (the dev server's) and fork do not mix; serve's rebuilds are small anyway.
        return [read_one(path, data, undated, config, roles, titles) for _, path, data, undated in jobs]
    size = max(50, len(jobs) // (cores * 8))
    chunks = [[(path, data, undated) for _, path, data, undated in jobs[i:i + size]] for i in range(0, len(jobs), size)]
    results: list[tuple] = []
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("fork"),
                             initializer=_init_worker, initargs=(config, roles, titles)) as pool:
        for chunk in pool.map(_parse_chunk, chunks):
            results.extend(chunk)
            if progress:
                progress("Reading transcripts", len(results), len(jobs))
    return results


def _init_worker(config: Config, roles: dict[str, str], titles: dict[str, str]) -> None:
    global _worker_context
    _worker_context = (config, roles, titles)


def _parse_chunk(chunk: list[tuple]) -> list[tuple]:
    return [read_one(path, data, undated, *_worker_context) for path, data, undated in chunk]


def read_one(path: str, data: bytes, undated: Undated, config: Config, roles: dict[str, str],
             titles: dict[str, str]) -> tuple[Transcript | None, list[Diagnostic]]:
    """Decode and read one transcript file."""
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
                           render_body=config.publish_transcripts, speaker_label=speaker_label)


def _roles(personas: list[Persona], problems: list[Diagnostic]) -> dict[str, str]:
    """Every slug and alias -> its persona's slug; an alias claimed twice is an error."""
    roles = {p.slug: p.slug for p in personas}
    for persona in personas:
        for alias in persona.aliases:
            if alias in roles and roles[alias] != persona.slug:
                problems.append(error(f"content/{persona.path}", 1,
                                      f"the alias '{alias}' already means the persona '{roles[alias]}'"))
            elif alias in ("internal", "unknown"):
                problems.append(error(f"content/{persona.path}", 1, f"'{alias}' is a reserved role and cannot be an alias"))
            else:
                roles[alias] = persona.slug
    return roles


def _site_checks(site: Site, archive: Archive, config: Config, now: dt.datetime) -> list[Diagnostic]:
    problems = _output_collisions(site) if config.publish_transcripts else []
    explicit = Counter(q.id for t in site.transcripts for q in t.quotes)
    for quote in (q for t in site.transcripts for q in t.quotes):
        if explicit[quote.id] > 1:
            others = [f"content/{q.transcript}:{q.line}" for q in archive.latest() if q.id == quote.id and q is not quote]
            problems.append(error(f"content/{quote.transcript}", quote.line,
                                  f"the quote id '{quote.id}' is used again at {', '.join(others)}: ids must be unique"))
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
    for transcript in site.transcripts:
        key = unicodedata.normalize("NFC", transcript_url_path(transcript.path)).casefold()
        if key in seen:
            problems.append(error(f"content/{transcript.path}", 1,
                                  f"this transcript and content/{seen[key]} would publish to the same page "
                                  f"({transcript_url_path(transcript.path)}): rename one"))
        else:
            seen[key] = transcript.path
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


def _template_problem(exc: jinja2.TemplateError, theme: Theme) -> Diagnostic:
    """A theme bug as a diagnostic pointing at the template, not a traceback."""
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "theme"
    line = getattr(exc, "lineno", None) or 0
    return error(str(name), line, f"the theme template failed: {exc.message or exc}")
