"""The build: read -> extract -> archive -> check -> render, in build_site. Writing is output.py's job.

What is kept between builds (caches, pools, memos) is the engine's business (incremental/): build_site asks
the engine for each stage and never sees how it is done.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol
from types import MappingProxyType

import jinja2

from . import gitmeta
from .archive import Archive
from .basics import Diagnostic, error, fails_strict, notice, warning
from .config import CONFIG_NAME, Config, line_of, read_config
from .content import ContentFiles, decode
from .model import Persona, Reading, Site, transcript_url_path
from .quotes import UNRESOLVED
from .pages_archive import company_collisions
from .reading import ReadInputs
from .render import RenderContext, freshness, template_frame, template_problem, template_problems
from .roles import roles_of
from .theme import Theme, theme_links


@dataclass(frozen=True)
class BuildOptions:
    """How to build, besides the content."""

    base_url: str | None = None
    """Overrides base_url (--base-url; serve's base path)."""
    rev: str | None = None
    """Build the content as it is at this git revision (--rev)."""
    render: bool = True
    """False: read and check only (check, quotes)."""
    live_reload: str = ""
    """The script every page gets (serve)."""
    minute_clock: bool = False
    """The build time to the minute (serve: the footer shows minutes, so a rebuild within the same minute renders
    again only the pages its changes touched)."""


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
        return not self.ok or (strict and any(fails_strict(d, self.config.fail_on_stale) for d in self.diagnostics))


class Engine(Protocol):
    """How the stages are done: incremental.ColdEngine reads everything every time (the reference);
    incremental.PersistentEngine keeps what it can between builds and processes."""

    git: gitmeta.GitRunner
    """How the build asks git."""

    def content(self) -> ContentFiles: ...

    def history(self, head: str | None) -> gitmeta.History | None: ...

    def read_personas(self, files: ContentFiles) -> tuple[list[Persona], list[Diagnostic]]: ...

    def read_transcripts(self, files: ContentFiles, inputs: ReadInputs, problems: list[Diagnostic]) -> Reading: ...

    def archive(self, reading: Reading) -> Archive: ...

    def render(self, site: Site, archive: Archive, ctx: RenderContext, theme: Theme) -> dict[str, bytes]: ...

    def close(self) -> None: ...


def build_site(source: Path, options: BuildOptions, engine: Engine) -> BuildResult:
    """Build a content repository: every output and every problem. The caller writes the outputs."""
    files = engine.content()
    config, problems, usable = read_settings(source, files, options.base_url)
    if not usable:
        return BuildResult(config, problems)
    personas = read_all_personas(files, problems, engine)
    roles = roles_of(personas, problems, files.personas)
    for path in files.personas:  # a persona file that could not be read still names its role: its error is the one
        roles.setdefault(PurePosixPath(path).stem, UNRESOLVED)  # to fix, not every participant of that role
    made_from = provenance(source, files, engine.git)
    history = engine.history(made_from.get("full"))
    now = build_time(config, options.minute_clock)
    theme = Theme.for_site(source, config.theme)
    problems += theme_problems(source, theme, problems, check_templates=not options.render)
    ctx = RenderContext(config, now, {p.slug: p for p in personas}, live_reload=options.live_reload,
                        build_info=made_from, history=history)
    rendering = (theme, ctx) if options.render and not _errors(problems) else None
    inputs = ReadInputs(config, roles, {p.slug: p.title for p in personas}, history,
                        frozenset(made_from.get("dirty_paths", ())), files.is_git, rendering)
    reading = engine.read_transcripts(files, inputs, problems)
    del files  # a revision's raw bytes: tens of MiB that rendering does not need
    site = Site(tuple(sorted(personas, key=lambda p: p.slug)), reading.transcripts, companies=reading.companies)
    archive = engine.archive(reading)
    problems += site_checks(site, archive, config, now)
    result = BuildResult(config, sorted_problems(problems), site, archive, provenance=made_from)
    if options.render and result.ok:
        ctx.published = site.transcripts.by_paths(frozenset)  # the same set while the paths are
        result.outputs, found = render_site(engine, site, archive, ctx, theme)
        result.diagnostics += found
    return result


def build_time(config: Config, minute: bool = False) -> dt.datetime:
    """Now, in the site's zone (to the minute with `minute`); SOURCE_DATE_EPOCH pins it for reproducible builds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        now = dt.datetime.fromtimestamp(int(epoch), config.zone)
    else:
        now = dt.datetime.now(config.zone).replace(microsecond=0)
    return now.replace(second=0) if minute else now


def read_settings(source: Path, files: ContentFiles, base_url: str | None) -> tuple[Config, list[Diagnostic], bool]:
    """The settings, every problem found so far, and whether the content can be checked with these settings
    (config.read_config: a bad setting takes its default, a bad tag vocabulary stops the build here)."""
    problems = list(files.diagnostics)
    config, found, usable = Config(), [], True
    if files.config is not None:
        text, bad = decode(CONFIG_NAME, files.config)
        config, found, usable = (read_config(text.removeprefix("\ufeff"), CONFIG_NAME) if text is not None
                                 else (Config(), [bad], False))
        if usable and config.theme != "default" and not (source / "themes" / config.theme).is_dir():
            found.append(warning(CONFIG_NAME, line_of(text, "theme"),
                                 f"there is no folder themes/{config.theme}, so the built-in theme is used: "
                                 f"make that folder, or set 'theme' to one under themes/"))
    problems += found
    if base_url:
        config = config.with_base_url(base_url)
    return config, problems, usable


def read_all_personas(files: ContentFiles, problems: list[Diagnostic], engine: Engine) -> list[Persona]:
    personas, found = engine.read_personas(files)
    problems += found
    if not files.personas:
        problems.append(error("content/personas", 0, "there are no personas: add one file per buyer role, e.g. content/personas/cfo.md"))
    return personas


def provenance(source: Path, files: ContentFiles, git: gitmeta.GitRunner) -> dict:
    """The commit the site is built from, for page footers and quotes.json (issue 4)."""
    if not files.is_git:
        return {}
    head = gitmeta.head_info(source, files.revision or "HEAD", git)
    if not head:
        return {"dirty": True}
    dirty = sorted(gitmeta.dirty_paths(source, git)) if files.revision is None else []
    return {"commit": head["short"], "full": head["commit"], "commit_date": head["date"], "dirty": bool(dirty),
            "dirty_paths": dirty, "json": {"commit": head["commit"]}}


def theme_problems(source: Path, theme: Theme, problems: list[Diagnostic], check_templates: bool) -> list[Diagnostic]:
    """Links out of the theme (before a template is read: SECURITY.md, items 9 and 40), with or without --rev; with
    `check_templates` (check), what a build would find compiling the site's own templates."""
    found = theme_links(source)  # with --rev too: the theme is read from the work tree (issue 21, item 4)
    if check_templates and not any(d.is_error for d in [*problems, *found] if d.path.startswith("themes")):
        found += template_problems(theme)
    return found


def render_site(engine: Engine, site: Site, archive: Archive, ctx: RenderContext,
                theme: Theme) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The engine's outputs, or the theme's problem as a diagnostic rather than a traceback."""
    try:
        return engine.render(site, archive, ctx, theme), []
    except jinja2.TemplateError as exc:
        return {}, [template_problem(exc, theme)]
    except (UnicodeDecodeError, OSError) as exc:  # a template not saved as UTF-8, or unreadable: which one
        return {}, template_problems(theme) or [error("themes", 0, f"the theme could not be read: {exc}")]
    except Exception as exc:  # {{ 1/0 }}, {{ "a" + 1 }}: Python's error, met in a template's line, is the theme's
        if template_frame(exc) is None:
            raise
        return {}, [template_problem(exc, theme)]


def site_checks(site: Site, archive: Archive, config: Config, now: dt.datetime) -> list[Diagnostic]:
    """What only the whole site shows: pages that collide, quote ids used twice, personas nobody quotes, and (a
    notice: news, not a broken build) personas gone stale."""
    problems = _output_collisions(site) if config.publish_transcripts else []
    problems += company_collisions(site, config)  # two companies, one page (issue 18)
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
            problems.append(notice(where, 1, f"stale: the last quote from '{persona.slug}' is {fresh.days_ago} days old "
                                              f"(stale after {config.stale_after_days}); time for a new conversation"))
    return problems


def _output_collisions(site: Site) -> list[Diagnostic]:
    """Acme.md and acme.md, or NFC and NFD café.md, would be one page on many disks: say so."""
    return list(site.transcripts.by_paths(_collisions))


def _collisions(paths: Iterable[str]) -> tuple[Diagnostic, ...]:
    seen: dict[str, str] = {}
    problems = []
    for path in paths:
        key = _page_key(path)
        if key in seen:
            problems.append(error(f"content/{path}", 1, f"this transcript and content/{seen[key]} would publish "
                                                        f"to the same page ({transcript_url_path(path)}): rename one"))
        else:
            seen[key] = path
    return tuple(problems)


@functools.lru_cache(maxsize=1 << 18)  # a pure function of the path, asked by every build for every transcript
def _page_key(path: str) -> str:
    """What two transcripts whose pages would be one on a case-folding, normalizing disk have in common."""
    return unicodedata.normalize("NFC", transcript_url_path(path)).casefold()


def sorted_problems(problems: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(dict.fromkeys(problems), key=lambda d: (d.path, d.line, _RANK.get(d.severity, 3)))


_RANK = MappingProxyType({"error": 0, "warning": 1, "notice": 2})


def _errors(problems: list[Diagnostic]) -> bool:
    return any(d.is_error for d in problems)
