"""The command line: thin click commands over the pipeline. Only this module knows click."""

from __future__ import annotations

import csv
import functools
import gc
import importlib
import datetime as dt
import io
import os
import re
import shlex
import shutil
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .gitmeta import GitError
from .basics import Diagnostic, fails_strict

if TYPE_CHECKING:
    from .build import BuildResult
    from .incremental import PersistentEngine
    from .query import Query
# The pipeline (jinja2, markdown-it, PyYAML) is imported inside the commands that need it,
# so `persona-site --help` and a no-change `build` start in a blink.

source_option = click.option(
    "--source", "-s", "source", type=click.Path(file_okay=False, path_type=Path), default=".",
    show_default=True, help="The content repository (the folder with content/ and persona-site.toml).",
)
strict_option = click.option("--strict/--no-strict", default=False, help="Treat warnings as errors.")
rev_option = click.option("--rev", default=None, metavar="REV",
                          help="Use the content as it was at a git commit, branch or tag (e.g. HEAD~3, v2026-q3).")


# What content must not send to a terminal: control characters but line feed and tab (ESC ] 0; sets the window title,
# ESC [ 2J clears the screen, CR overwrites a line, C1's CSI is ESC [), and the bidirectional controls that reorder
# what is shown (issue 21, items 11 and 12).
_NOT_SHOWN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown(text: str) -> str:
    """text as a terminal may show it: each control character written as an escape, \\x1b or \\u202e."""
    return _NOT_SHOWN.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


def print_diagnostics(diagnostics: list[Diagnostic], strict: bool = False, fail_on_stale: bool = False) -> None:
    """Every problem as path:line: severity: message, plus GitHub annotations in Actions; with `strict`, warnings
    (and notices, with `fail_on_stale`) are shown, annotated and counted as the errors --strict makes them; a
    notice is news (a stale persona), shown and annotated as ::notice (spec section 5)."""
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    made_errors = strict and any(not d.is_error and fails_strict(d, fail_on_stale) for d in diagnostics)
    if made_errors:
        diagnostics = [d._replace(severity="error") if fails_strict(d, fail_on_stale) else d for d in diagnostics]
    for d in diagnostics:
        color = {"error": "red", "warning": "yellow"}.get(d.severity, "cyan")
        click.echo(click.style(shown(str(d)), fg=color), err=True)
        if github:  # escaped as GitHub's toolkit escapes a message, and a property (its end at ',' or ':')
            message = shown(_github_escaped(d.message))
            line = f",line={d.line}" if d.line else ""
            click.echo(f"::{d.severity} file={shown(_github_escaped(d.path, property=True))}{line}::{message}")
    if diagnostics:
        counts = {severity: sum(d.severity == severity for d in diagnostics) for severity in ("error", "warning", "notice")}
        click.echo(", ".join(_count(n, word) for word, n in counts.items() if n), err=True)
    if made_errors:
        what = "warnings and stale personas (fail_on_stale = true)" if fail_on_stale else "warnings"
        click.echo(f"--strict makes {what} errors: fix them, or run without --strict.", err=True)


def _github_escaped(text: str, property: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def check_source(source: Path) -> None:
    """A usage error unless source is a content repository."""
    if not source.is_dir():
        raise click.UsageError(f"there is no folder {source}")
    if not (source / "content").is_dir():
        raise click.UsageError(f"{source} has no content/ folder: run this in your persona repository, "
                               "pass --source DIR, or start one with 'persona-site init DIR'")


def _engine(source: Path, rev: str | None, save: bool = True, progress: Progress | None = None) -> PersistentEngine:
    """The engine a command builds with, closed when the command ends (the cache may still be saving in a
    forked process while the site is written: a caller in the same process, such as a test, then finds it
    saved). Before the work tree is looked at, the folder is checked."""
    if rev is None:
        check_source(source)
    from .incremental.git_ahead import GitAhead  # begun first: git answers while the engine's modules load

    git = GitAhead(source) if rev is None else None
    from .incremental import PersistentEngine

    engine = PersistentEngine.for_command(source, rev=rev, save=save, progress=progress, git=git)
    engine.leave_out(click.get_current_context().meta.get(_DAMAGED, ()))
    click.get_current_context().call_on_close(engine.close)
    return engine


_DAMAGED = "persona_site.damaged"
"""The click context's record of the cache files an attempt at this command found damaged (_recovering)."""


def _recovering(command: Callable[..., None]) -> Callable[..., None]:
    """A command that reads the cache, run once more whenever it stops at a frozen transcript of the cache that is not
    what was frozen (incremental.cache.CacheDamaged, never unpickled): from the start, with a new engine that leaves
    that file out and parses its transcripts again (a build's save then writes it whole), a new spool and nothing of
    the attempt kept, as if the cache had never held them. Wherever the damage is found: in the build, in writing
    the site, in listing quotes.

    The collector is paused for the whole command: a build leaves next to nothing in cycles (the same peak memory
    at 10,000 transcripts, publish on or off), and its passes over what the build makes cost 4-5% of the CPU of a
    build that parses 10,000 transcripts, 9-15% at 30,000; once the build is made, a pass over it as the site is
    written took 0.2 s of a one-file rebuild at 100,000 (a one-file rebuild loads the cache with it paused already).
    Under run() it is never resumed: the process ends with the command, and a pass then would only delay its end."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        from .incremental.cache import CacheDamaged, collector_paused

        if isinstance(click.get_current_context().find_root().obj, list):  # under run(), which ends the process
            gc.disable()
        damaged = click.get_current_context().meta.setdefault(_DAMAGED, set())
        while True:
            try:
                with collector_paused():
                    return command(*args, **kwargs)
            except CacheDamaged as exc:
                if exc.path in damaged:  # left out, and found again: not this cache's doing
                    click.echo(click.style(f"error: {exc}; delete the folder it is in and build again", fg="red"), err=True)
                    sys.exit(1)
                damaged.add(exc.path)

    return run


class Progress:
    """A progress bar on a terminal, shown only once a build has taken about a second; never in CI logs."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or (not self.shown and time.monotonic() - self.start < 1.0):
            return
        self.shown = True
        width = 30
        filled = width * done // max(total, 1)
        click.echo(f"\r{stage:<22} [{'#' * filled}{'-' * (width - filled)}] {done:,}/{total:,}", nl=False, err=True)
        if done == total:
            click.echo("\r\033[K", nl=False, err=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def _build(source: Path, engine: PersistentEngine, base_url: str | None = None, render: bool = True,
           rev: str | None = None) -> BuildResult:
    """Build (or only read and check, without render); check and quotes read the cache but never write it (the
    collector is paused: _recovering)."""
    from .build import BuildOptions, build_site

    try:
        result = build_site(source, BuildOptions(base_url=base_url, rev=rev, render=render), engine)
    except GitError as exc:
        click.echo(click.style(f"error: {exc}", fg="red"), err=True)
        sys.exit(1)
    kept = click.get_current_context().find_root().obj
    if isinstance(kept, list):  # under run(): see there
        kept[:] = (engine, result)
    return result


def run() -> None:
    """The console script (and `python -m persona_site`): the command line, then, after a build, an exit that
    leaves the build's objects to the operating system rather than freeing them one by one (60 ms for the
    cache's 30,000 quote refs at 10,000 transcripts, issue 5). Output is flushed first; the exit code is
    the command's."""
    kept: list = []  # the last build's engine and result, kept until the process ends (_build)
    try:
        main(prog_name="persona-site", obj=kept)
    except SystemExit as exc:
        if not kept:
            raise
        code = exc.code
    else:
        return
    if code is not None and not isinstance(code, int):
        click.echo(code, err=True)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:  # None: started with the stream closed (cron, `>&-`)
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (persona-site quotes | head): nothing more to say
            pass
    os._exit(code or 0)


class _Commands(click.Group):
    """Commands that live in their own modules load when used, so they may import this one."""

    lazy = {"serve": ("persona_site.serve", "serve"), "init": ("persona_site.init", "init"),
            "import": ("persona_site.importer", "import_command")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy:
            module, attribute = self.lazy[name]
            return getattr(importlib.import_module(module), attribute)
        return super().get_command(ctx, name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["--help", "-h"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="persona-site")
def main() -> None:
    """Buyer personas that update themselves from tagged call transcripts.

    Commit transcripts to content/transcripts/, tag what matters with
    [words]{.pain}, and build a site with one page per buyer role.

    Example:

    \b
        persona-site build && persona-site serve
    """


@main.command()
@source_option
@strict_option
@click.option("--out", "-o", type=click.Path(path_type=Path), default=None,
              help="Where to write the site.  [default: SOURCE/site]")
@click.option("--base-url", default=None, callback=lambda ctx, param, value: _base_url(value),
              help="Override base_url, e.g. /personas/ or https://example.com/personas/.")
@rev_option
@click.option("--quiet/--no-quiet", "-q", default=False, help="Print only problems: no progress, no summary.")
@_recovering
def build(source: Path, strict: bool, out: Path | None, base_url: str | None, rev: str | None, quiet: bool) -> None:
    """Build the site into site/ (or --out).

    The previous site stays as it was unless the build succeeds.

    Example:

    \b
        persona-site build --strict --base-url /team-personas/
    """
    progress = Progress(not quiet)
    engine = _engine(source, rev, progress=progress)  # first: git answers while the rest is imported
    from .output import OutputRefused, WriteFailed, check_output, spooled, write_site

    out = out if out is not None else source / "site"
    try:
        check_output(out, source)
    except OutputRefused as exc:
        raise click.UsageError(str(exc)) from None
    stamp, fingerprint = engine.up_to_date(out, {"base_url": base_url, "rev": rev})
    if stamp is not None:  # nothing a build reads has changed since the last one
        diagnostics = [Diagnostic(*d) for d in stamp["diagnostics"]]
        fail_on_stale = bool(stamp.get("fail_on_stale"))
        print_diagnostics(diagnostics, strict, fail_on_stale)
        if strict and any(fails_strict(d, fail_on_stale) for d in diagnostics):
            click.echo("The build failed; the previous site is unchanged.", err=True)
            sys.exit(1)
        if not quiet:
            click.echo(f"Nothing changed since the last build ({stamp['summary']}); {out} is up to date.", err=True)
        return
    with spooled(out) as spool:  # the pages go to disk as they are made; gone with the build unless written
        engine.spool_to(spool)
        result = _build(source, engine, base_url, rev=rev)
        print_diagnostics(result.diagnostics, strict, result.config.fail_on_stale)
        if result.failed(strict):
            click.echo("The build failed; the previous site is unchanged.", err=True)
            sys.exit(1)
        try:
            write_site(result.outputs, out, source, lambda done, total: progress("Writing pages", done, total), spool)
        except OutputRefused as exc:
            raise click.UsageError(str(exc)) from None
        except WriteFailed as exc:  # a full disk, a path too long: a message, not a traceback (issue 21, item 15)
            click.echo(click.style(f"error: {exc.strerror}", fg="red"), err=True)
            sys.exit(1)
    pages = sum(1 for name in result.outputs if name.endswith(".html"))
    summary = (f"{_count(len(result.site.transcripts), 'transcript')}, {_count(len(result.archive), 'quote')}, "
               f"{_count(len(result.site.personas), 'persona')}, {_count(pages, 'page')}")
    engine.record(fingerprint, out, result.diagnostics, summary, result.config.fail_on_stale)
    if not quiet:
        click.echo(f"{summary} in {progress.elapsed():.1f} s: {out}", err=True)
        click.echo(_how_to_look(source, out, result.config.base_url), err=True)


def _how_to_look(source: Path, out: Path, base_url: str) -> str:
    """The last line of a build: how to look at the site it made (issue 19, item 9)."""
    if "://" in base_url:
        return f"Publish {out} at {base_url} to see it there; to look at it here first: {_serve_command(source)}"
    return f"To look at it: {_serve_command(source)} (then open http://127.0.0.1:8000{base_url})"


def _serve_command(source: Path) -> str:
    here = source.resolve() == Path.cwd().resolve()
    return "persona-site serve" if here else f"persona-site serve --source {shlex.quote(str(source))}"


def _base_url(value: str | None) -> str | None:
    """--base-url, held to base_url's rule (spec section 2): a usage error otherwise."""
    from .config import base_url_problem

    if value is not None and (problem := base_url_problem(value)):
        raise click.BadParameter(problem, param_hint="--base-url")
    return value


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


@main.command()
@source_option
@strict_option
@rev_option
@_recovering
def check(source: Path, strict: bool, rev: str | None) -> None:
    """Check the content for problems; writes nothing.

    Example:

    \b
        persona-site check --strict
    """
    result = _build(source, _engine(source, rev, save=False), render=False, rev=rev)
    print_diagnostics(result.diagnostics, strict, result.config.fail_on_stale)
    if result.failed(strict):
        sys.exit(1)
    counted = f"{_count(len(result.site.transcripts), 'transcript')} and {_count(len(result.site.personas), 'persona')}"
    if any(d.severity == "warning" for d in result.diagnostics):  # warnings (--strict would have failed)
        click.echo(f"No errors in {counted}; the warnings above are worth a look.", err=True)
    elif result.diagnostics:  # notices only: news, such as a stale persona
        click.echo(f"No problems in {counted}; the notices above are news for the team.", err=True)
    else:
        click.echo(f"No problems in {counted}.", err=True)


def _period(value: str, now: dt.datetime, option: str) -> tuple[dt.datetime, dt.datetime]:
    from .query import TimeWordError, period

    try:
        return period(value, now)
    except TimeWordError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


@dataclass(frozen=True)
class QuoteSearch:
    """What `quotes` was asked, as typed: the query's options, and how to show its answer."""

    role: str | None
    """--role: a persona slug or alias."""
    tags: tuple[str, ...]
    """--tag: quotes with any of these tags."""
    since: str | None
    """--since: time words (query.period)."""
    until: str | None
    """--until: time words."""
    company: str | None
    """--company: only this company's quotes."""
    text: str | None
    """--text: words every quote shown holds."""
    limit: int | None
    """--limit: at most this many quotes."""
    fmt: str
    """--format: text, json or csv."""


@main.command()
@source_option
@click.option("--role", "-r", help="A persona slug or alias, e.g. head-of-revops.")
@click.option("--tag", "-t", "tags", multiple=True, help="A tag, e.g. pain; repeat it for quotes with any of several.")
@click.option("--since", metavar="WHEN", help="On or after: 30d, 2w, 3m, this-month, last-month, this-quarter, "
              "last-quarter, this-year, 2026, 2026-11 or 2026-11-15 (in the site's timezone).")
@click.option("--until", metavar="WHEN", help="On or before the end of: the same words as --since (--until last-month).")
@click.option("--company", "-c", help="Only this company's quotes (capitals don't matter).")
@click.option("--text", "-q", metavar="WORDS", help="Quotes with every one of these words, in their text or company "
              "(capitals and accents don't matter).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=None, help="At most this many quotes.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
@rev_option
@_recovering
def quotes(source: Path, rev: str | None, **asked: Any) -> None:
    """Print the quotes a query finds, newest first, then how many and the same search on the site.

    Example: what is the head of RevOps saying this month?

    \b
        persona-site quotes --role head-of-revops --since this-month

    Pain and objections from Acme Corp last quarter, with a word:

    \b
        persona-site quotes --tag pain --tag objection --company "Acme Corp" --since last-quarter --until last-quarter --text rollout

    And what was the CFO saying at the end of last quarter?

    \b
        persona-site quotes --role cfo --rev v2026-q3
    """
    from .config import CONFIG_NAME
    from .query import select

    search = QuoteSearch(**asked)
    result = _build(source, _engine(source, rev, save=False), render=False, rev=rev)
    if result.site is None or any(d.is_error and d.path == CONFIG_NAME for d in result.diagnostics):
        print_diagnostics(result.diagnostics)  # a setting with an error (such as attribution) decides what is shown
        sys.exit(1)
    query, now = _query(search, result)
    matching = select(result.archive, query, now)
    listed = matching[:search.limit] if search.limit is not None else matching
    _print_quotes(listed, search.fmt, result, now)
    # The count and the same query on the site: after the quotes in text, on stderr beside JSON or CSV.
    newest = f", the newest {len(listed):,} shown" if len(listed) < len(matching) else ""
    click.echo(f"{_count(len(matching), 'quote')}{newest}. On the site: {result.config.base_url}{query.address()}",
               err=search.fmt != "text")
    # Only what bears on the answer: a stale or unquoted persona is `check`'s news, not this query's (issue 19).
    related = [d for d in result.diagnostics if d.is_error or (d.severity == "warning"
                                                               and not d.path.startswith("content/personas/"))]
    if related:
        print_diagnostics(related)
    if not result.ok:
        sys.exit(1)


def _query(search: QuoteSearch, result: BuildResult) -> tuple[Query, dt.datetime]:
    """The query the options ask, and now in the site's zone; a usage error for an option the site cannot
    answer (a persona or tag it does not have, a company it does not publish, time words it does not know)."""
    from .build import build_time
    from .config import CONFIG_NAME
    from .query import Query
    from .roles import resolve_role, roles_of
    from .suggest import did_you_mean, did_you_mean_role

    config, role = result.config, search.role
    if role is not None:
        slug, hint = resolve_role(role, result.site.personas)
        broken = sorted({d.path for d in result.diagnostics if d.is_error and d.path.startswith("content/personas/")})
        named = [path for path in broken if path == f"content/personas/{role}.md"]
        if slug is None and named:
            raise click.BadParameter(f"no persona '{role}' could be read: {named[0]} has an error (persona-site "
                                     "check shows where)", param_hint="--role")
        if slug is None and broken:  # a persona file that could not be read may define it (as an alias)
            close = did_you_mean_role(role, roles_of(result.site.personas))
            raise click.BadParameter(f"no persona '{role}'{close}; {', '.join(broken)} has an error, and may define "
                                     "it (persona-site check shows where)", param_hint="--role")
        if slug is None:
            raise click.BadParameter(f"no persona '{role}'{hint}", param_hint="--role")
        role = slug
    for tag in search.tags:
        if tag not in config.tags:
            raise click.BadParameter(f"no tag '{tag}'{did_you_mean(tag, config.tags)}", param_hint="--tag")
    if search.company is not None and config.attribution == "role":
        raise click.BadParameter('companies are not published on this site (attribution = "role" in '
                                 f"{CONFIG_NAME})", param_hint="--company")
    now = build_time(config)
    for value, option in ((search.since, "--since"), (search.until, "--until")):
        if value:
            _period(value, now, option)
    return Query(role, tuple(dict.fromkeys(search.tags)), search.since or None, search.until or None,
                 search.company or None, search.text or None), now


def _print_quotes(refs: list, fmt: str, result: BuildResult, now: dt.datetime) -> None:
    """The quotes listed, as `fmt` asks: JSON (quotes.json's shape), CSV or text."""
    from .quotejson import quotes_document

    if fmt == "json":
        click.echo(quotes_document(refs, now, result.provenance.get("json")).decode(), nl=False)
        return
    loaded = [result.archive.load(ref) for ref in refs]
    if fmt == "csv":
        click.echo(_csv(loaded, result.config), nl=False)
    else:
        _print_text(loaded, result)


def _csv(quotes: list, config) -> str:
    from .quotejson import quote_json

    buffer = io.StringIO()
    columns = ["id", "date", "role", "tags", "company", "speaker", "title", "text", "transcript", "line", "timestamp"]
    writer = csv.DictWriter(buffer, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for quote in quotes:
        row = quote_json(quote, config)
        row["tags"] = " ".join(row["tags"])
        writer.writerow({column: _cell(value) for column, value in row.items()})
    return buffer.getvalue()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @, tab or CR gets a leading ' (OWASP's
    advice on CSV injection), so `=HYPERLINK(...)` in a quote is not run when the file is opened (issue 21, item 10)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _print_text(quotes: list, result: BuildResult) -> None:
    from .quotejson import quote_json

    if not quotes:
        return
    titles = {p.slug: p.title for p in result.site.personas}
    width = min(shutil.get_terminal_size((88, 20)).columns, 100)
    for quote in quotes:
        data = quote_json(quote, result.config)
        who = shown(" · ".join(x for x in (titles.get(quote.role, quote.role), data["speaker"], data["company"]) if x))
        tags = " ".join(f"[{t}]" for t in quote.tags)
        day = f"{quote.date.astimezone(result.config.zone):%Y-%m-%d}"  # its day on the site's clock, as pages show it
        click.echo(click.style(f"{day}  {who}", bold=True) + "  " + click.style(tags, fg="cyan"))
        for line in textwrap.wrap(f"“{shown(quote.text)}”", width=width - 2):
            click.echo(f"  {line}")
        click.echo(click.style(shown(f"  content/{quote.transcript}:{quote.line}"), dim=True))
        click.echo()



