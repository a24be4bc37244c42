"""`persona-site import`: call-recorder exports in, transcript files ready to tag out.

The parsing is in persona_site.importers (pure: text in, turns out); this module
reads the inputs, asks on a terminal, writes the files and reports.
"""

from __future__ import annotations

import datetime as dt
import sys
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import click

from .roles import roles_of
from .config import Config, load_config
from .content import MAX_FILE_BYTES, read_persona_files
from .frontmatter_yaml import fold
from .importers import FORMATS, Call, ExportError, decode_export, detect_format, from_file_name, parse_export
from .importers.call import clean_text
from .importers.document import Speaker, Transcript, numbered, render, transcript_path
from .importers.gong import GongCall, kind_of, load_json, read_gong_calls
from .importers.roles import assign_roles
from .importers.write import write_new
from .model import Diagnostic, Persona, error, warning
from .reader import SPECIAL_ROLES, Rules, parse_date, read_personas, read_transcript
from .suggest import did_you_mean_role, new_persona_hint


@dataclass(frozen=True)
class _Options:
    company: str | None
    title: str | None
    day: dt.date | None
    roles: dict[str, str]
    """Folded speaker name -> role, from --role."""
    internal: frozenset[str]
    """Folded speaker names from --internal."""
    suffix: bool
    dry_run: bool


@dataclass(frozen=True)
class _Asked:
    """import's options as typed (besides the files, --source and --format)."""

    company: str | None
    day: str | None
    """--date: YYYY-MM-DD."""
    title: str | None
    roles: tuple[str, ...]
    """--role: NAME=ROLE, each."""
    internal: tuple[str, ...]
    """--internal: a name, each."""
    suffix: bool
    dry_run: bool

    def options(self, personas: tuple[Persona, ...]) -> _Options:
        """The options checked and parsed (a usage error for a bad date or role)."""
        return _Options(_clean(self.company), _clean(self.title), _parse_day(self.day),
                        _given_roles(self.roles, personas), frozenset(fold(name) for name in self.internal),
                        self.suffix, self.dry_run)


@dataclass
class _Run:
    source: Path
    personas: tuple[Persona, ...]
    config: Config
    options: _Options
    ask: _Asker | None
    """None when stdin is not a terminal: nothing is asked."""
    diagnostics: list[Diagnostic] = field(default_factory=list)
    planned: set[Path] = field(default_factory=set)
    """Paths a dry run would have written."""
    speakers: set[str] = field(default_factory=set)
    """Every folded speaker name imported, to check --role and --internal against."""


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "-s", "source", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The content repository (the folder with content/ and persona-site.toml).")
@click.option("--format", "fmt", type=click.Choice(["auto", *FORMATS]), default="auto", show_default=True,
              help="The export's format; auto tells from the content.")
@click.option("--company", help="The buyer's company, e.g. 'Acme Corp'.")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The date of the call, when the export does not say.")
@click.option("--title", help="The call's title, e.g. 'Discovery call'.")
@click.option("--role", "roles", multiple=True, metavar="NAME=ROLE",
              help="A speaker's role: a persona, 'internal' or 'unknown'. Repeat for each speaker.")
@click.option("--internal", multiple=True, metavar="NAME", help="A speaker from our side (never quoted). Repeatable.")
@click.option("--suffix/--no-suffix", default=True, show_default=True,
              help="When the file name is taken, add -2, -3 ... (or, with --no-suffix, stop with an error).")
@click.option("--dry-run/--no-dry-run", default=False, help="Print the transcripts instead of writing them.")
def import_command(files: tuple[Path, ...], source: Path, fmt: str, **asked: Any) -> None:
    """Turn call-recorder exports into transcripts ready to tag.

    Reads Zoom, Microsoft Teams and Google Meet captions (.vtt), Teams and
    Google Meet transcripts saved as text, Otter (.srt or .txt), Gong (.json)
    and plain 'Name: text' files, and writes each call
    to content/transcripts/YYYY/. Speakers get their role from --role, from
    the personas' match_titles, or are asked for on a terminal; the rest are
    'unknown' until you assign them in the front matter.

    Example:

    \b
        persona-site import acme-call.vtt --company "Acme Corp" --internal "Sam Ortiz"
    """
    from .cli import check_source, print_diagnostics  # cli.py registers this module: import it late

    check_source(source)
    typed = _Asked(**asked)
    personas = _read_personas(source)
    options = typed.options(personas)
    config, _ = load_config(source)
    run = _Run(source, personas, config, options, _Asker(personas) if _stdin_is_terminal() else None)
    _import_all(files, fmt, run)
    _check_names([("--role", value.rpartition("=")[0]) for value in typed.roles]
                 + [("--internal", name) for name in typed.internal], run)
    print_diagnostics(run.diagnostics)
    if any(d.is_error for d in run.diagnostics):
        sys.exit(1)


def _import_all(files: tuple[Path, ...], fmt: str, run: _Run) -> None:
    inputs, details = _read_inputs(files, fmt, run)
    for file, text, kind in inputs:
        try:
            calls = parse_export(text, kind, details)
        except ExportError as exc:
            run.diagnostics.append(error(str(file), 0, str(exc)))
            continue
        for call in calls:
            _import_call(file, call, run)


def _check_names(named: list[tuple[str, str]], run: _Run) -> None:
    """A --role or --internal name that nobody in the imports has is most likely a typo."""
    for option, name in named:
        if run.speakers and fold(name) not in run.speakers:
            run.diagnostics.append(warning(f"{option} {name}", 0,
                                           "nobody by this name speaks in the imported files: check the spelling"))


def _stdin_is_terminal() -> bool:
    """Whether to ask; tests pass obj={'stdin_is_terminal': lambda: True} to take the terminal path."""
    ctx = click.get_current_context()
    check = ctx.obj.get("stdin_is_terminal") if isinstance(ctx.obj, dict) else None
    return bool(check()) if check else sys.stdin.isatty()


def _read_personas(source: Path) -> tuple[Persona, ...]:
    """Every persona that reads cleanly; `persona-site check` reports the others."""
    files, _ = read_persona_files(source)
    return tuple(read_personas(files)[0])


def _clean(value: str | None) -> str | None:
    return clean_text(value) or None if value is not None else None


def _parse_day(value: str | None) -> dt.date | None:
    if value is None:
        return None
    parsed = parse_date(value, zoneinfo.ZoneInfo("UTC"))
    if parsed is None or not parsed[1]:
        raise click.BadParameter(f"'{value}' is not a date: write YYYY-MM-DD, e.g. 2026-10-14", param_hint="--date")
    return parsed[0].date()


def _resolve(role: str, personas: tuple[Persona, ...]) -> tuple[str | None, str]:
    """A slug, alias, 'internal' or 'unknown' -> the role to write, or (None, did-you-mean text)."""
    if role in SPECIAL_ROLES:
        return role, ""
    names = roles_of(personas)
    return names.get(role), did_you_mean_role(role, names, SPECIAL_ROLES) + new_persona_hint(role)


def _given_roles(values: tuple[str, ...], personas: tuple[Persona, ...]) -> dict[str, str]:
    given = {}
    for value in values:
        name, sep, role = value.rpartition("=")
        if not sep or not name.strip() or not role.strip():
            raise click.BadParameter(f"write NAME=ROLE, e.g. --role \"Dana Whitfield=head-of-revops\" (not '{value}')",
                                     param_hint="--role")
        slug, hint = _resolve(role.strip(), personas)
        if slug is None:
            raise click.BadParameter(f"no persona '{role.strip()}'{hint}", param_hint="--role")
        given[fold(name)] = slug
    return given


def _read_export(file: Path) -> bytes:
    """The bytes of an export, read no further than the size limit: a device such as /dev/zero, or a file that
    grows, says its size is 0 (issue 21, item 15)."""
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise ExportError(f"this file is {size / 1e6:.1f} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ExportError(f"this file cannot be read: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise ExportError(f"this file holds more than the limit of {MAX_FILE_BYTES // 2**20} MB: split it")
    return data


def _read_inputs(files: tuple[Path, ...], fmt: str,
                 run: _Run) -> tuple[list[tuple[Path, str, str]], dict[str, GongCall]]:
    """(file, text, format) of each transcript export; Gong call details given as files of their own."""
    inputs, details, detail_files = [], {}, []
    for file in files:
        try:
            text, note = decode_export(_read_export(file))
            if note:
                run.diagnostics.append(warning(str(file), 0, note))
            kind = detect_format(text) if fmt == "auto" else fmt
            if fmt == "gong" and kind_of(load_json(text)) == "gong-parties":
                kind = "gong-parties"
        except ExportError as exc:
            run.diagnostics.append(error(str(file), 0, str(exc)))
            continue
        if kind == "gong-parties":
            details.update(read_gong_calls(load_json(text)))
            detail_files.append(str(file))
        else:
            inputs.append((file, text, kind))
    if detail_files and not any(kind == "gong" for _, _, kind in inputs):
        run.diagnostics.append(error(", ".join(detail_files), 0, "Gong call details (parties) without a Gong "
                                                                 "transcript: import them together with the transcript JSON"))
    return inputs, details


def _import_call(file: Path, call: Call, run: _Run) -> None:
    where, options = str(file), run.options
    file_day, file_title = from_file_name(file)
    # A recorder's own time stamp keeps its own calendar day; a time in UTC (Zoom's GMT file name, Gong's Unix
    # time) says nothing about where the call was, so it is read in the site's zone.
    day = options.day or _day_of(call.started, run.config.zone) or _day_of(file_day, run.config.zone)
    if day is None and run.ask:
        day = run.ask.day(file)
    if day is None:
        run.diagnostics.append(error(where, 0, "the export does not say when the call was: pass --date YYYY-MM-DD"))
        return
    company = options.company or clean_text(call.company or "") or None
    title = options.title or clean_text(call.title or file_title or "") or (f"{company} call" if company else "Call")
    roles, notes = assign_roles(call, run.personas, options.roles, options.internal)
    titles = {p.name: p.title for p in call.parties}
    for name, role in roles.items():
        if role is None and run.ask:
            roles[name] = run.ask.role(name, titles.get(name), file)
    speakers = tuple(Speaker(name, roles[name] or "unknown", titles.get(name)) for name in call.speakers)
    run.speakers.update(fold(s.name) for s in speakers)
    run.diagnostics += [warning(where, 0, note) for note in (*call.notes, *notes)]
    unknown = [s.name for s in speakers if s.role == "unknown"]
    if unknown:
        run.diagnostics.append(warning(where, 0, f"no role yet for {', '.join(map(_quoted, unknown))}: set it under "
                                                 "'participants' in the front matter before you tag their words"))
    recording = call.recording if call.recording and call.recording.startswith(("https://", "http://")) else None
    doc = Transcript(title, day, company, speakers, recording, call.turns)
    _save(where, transcript_path(day, company, title), render(doc), run)


def _quoted(name: str) -> str:
    """A name in double quotes, so a list of names stays clear when one holds a comma ("Inglis, Jake")."""
    return '"' + name.replace('"', '\\"') + '"'


def _day_of(value: dt.datetime | dt.date | None, zone: zoneinfo.ZoneInfo) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return (value.astimezone(zone) if value.utcoffset() == dt.timedelta(0) else value).date()
    return value


def _save(where: str, rel: PurePosixPath, text: str, run: _Run) -> None:
    """Write the transcript under a free name (rel, rel-2, ...) and print its path."""
    problem = _reads_back(str(rel), text, run)
    if problem:
        run.diagnostics.append(error(where, 0, f"import made a transcript that does not read back ({problem}): "
                                               "please report this as a bug"))
        return
    for n in range(1, 1000 if run.options.suffix else 2):
        path = run.source / (rel if n == 1 else numbered(rel, n))
        if run.options.dry_run:
            if path.exists() or path in run.planned:
                continue
            run.planned.add(path)
            click.echo(f"{path} (dry run: not written)")
            click.echo(text)
            return
        try:
            write_new(path, text)
        except FileExistsError:
            continue
        click.echo(str(path))
        return
    hint = "pass another --title" + ("" if run.options.suffix else ", or leave out --no-suffix to add a number")
    run.diagnostics.append(error(where, 0, f"{run.source / rel} already exists: {hint}"))


def _reads_back(rel: str, text: str, run: _Run) -> str | None:
    """The first problem `persona-site check` would have with the file, if any."""
    roles = {p.slug: p.slug for p in run.personas} | {a: p.slug for p in run.personas for a in p.aliases}
    _, problems = read_transcript(rel, text, Rules(run.config.tags, roles, run.config.zone), None)
    return str(problems[0]) if problems else None


class _Asker:
    """Questions on the terminal: the call's date, and the role of each speaker nothing else assigned."""

    def __init__(self, personas: tuple[Persona, ...]) -> None:
        self.personas = personas
        self.menu_shown = False

    def day(self, file: Path) -> dt.date:
        return click.prompt(f"{file} does not say when the call was. Date (YYYY-MM-DD)",
                            value_proc=lambda value: _parse_day(value.strip()), err=True)

    def role(self, name: str, title: str | None, file: Path) -> str:
        if not self.menu_shown:
            self._menu()
        who = f"{name} ({title})" if title else name
        return click.prompt(f"Role of {who} in {file.name}", default="unknown", value_proc=self._answer,
                            err=True)

    def _menu(self) -> None:
        self.menu_shown = True
        click.echo("Roles: a number, a persona, 'internal' (our side) or 'unknown' (decide later).", err=True)
        for n, persona in enumerate(self.personas, 1):
            click.echo(f"  {n:>2}  {persona.slug:<24} {persona.title}", err=True)
        click.echo(f"   i  {'internal':<24} our side: never quoted", err=True)
        click.echo(f"   u  {'unknown':<24} decide later in the front matter", err=True)

    def _answer(self, value: str) -> str:
        value = value.strip()
        shortcuts = {"i": "internal", "u": "unknown", "": "unknown"}
        if value in shortcuts:
            return shortcuts[value]
        if value.isdigit() and 1 <= int(value) <= len(self.personas):
            return self.personas[int(value) - 1].slug
        slug, hint = _resolve(value, self.personas)
        if slug is None:
            raise click.BadParameter(f"no persona '{value}'{hint}")
        return slug
