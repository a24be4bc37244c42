"""Readers: the text of one file in, one model object plus diagnostics out."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from .content import decode
from .frontmatter_yaml import FrontMatter, FrontMatterError, fold, split_front_matter
from .markdown import render
from .model import Diagnostic, Participant, Persona, Quote, Transcript, error
from .roles import RESERVED as SPECIAL_ROLES
from .misspelt import SPACED_SPAN, misspelt_spans
from .quotes import UNRESOLVED, Walk, extract_quotes
from .quotes_fast import try_extract
from .quotejson import iso_date
from .suggest import did_you_mean_role, new_persona_hint

_PERSONA_KEYS = ("title", "summary", "aliases", "match_titles")
_TRANSCRIPT_KEYS = ("title", "date", "company", "participants", "recording")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_SAFE_URL = re.compile(r"^(https?://[^\s]+|/[^/\s][^\s]*|\./[^\s]*|[A-Za-z0-9_][^\s:]*)$")


@dataclass(frozen=True)
class Undated:
    """Where an undated transcript's date comes from when front matter has none."""

    date: dt.datetime
    """The commit's author date, or the file's modification time."""
    warning: str | None
    """Set when the date is a guess the user should fix (uncommitted file)."""


def _front_matter(path: str, text: str) -> tuple[FrontMatter | None, list[Diagnostic]]:
    try:
        return split_front_matter(text), []
    except FrontMatterError as exc:
        return None, [error(path, exc.line, str(exc))]


def _text_list(value: object) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def read_persona(path: str, text: str) -> tuple[Persona | None, list[Diagnostic]]:
    """Read content/personas/<role>.md; the file stem is the role slug."""
    fm, problems = _front_matter(path, text)
    if fm is None:
        return None, problems
    meta, lines = fm.meta, fm.key_lines
    slug = PurePosixPath(path).stem
    if not _SLUG.match(slug):
        problems.append(error(path, 1, f"rename the file: a role slug is lower-case letters, digits and '-' (not '{slug}')"))
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.append(error(path, lines.get("title", 1), "a persona needs a 'title', e.g. 'title: Head of Revenue Operations'"))
    summary = meta.get("summary") or ""
    if not isinstance(summary, str):
        problems.append(error(path, lines.get("summary", 1), "'summary' must be one line of text"))
    lists = {key: _text_list(meta.get(key)) for key in ("aliases", "match_titles")}
    for key, value in lists.items():
        if value is None:
            problems.append(error(path, lines.get(key, 1), f"'{key}' must be a list of words, e.g. [a, b]"))
    for alias in lists["aliases"] or ():
        if not _SLUG.match(alias):
            problems.append(error(path, lines.get("aliases", 1), f"alias '{alias}' must be a role slug: lower-case letters, digits and '-'"))
    if any(d.is_error for d in problems):
        return None, problems
    facts = tuple((k, v) for k, v in meta.items() if k not in _PERSONA_KEYS)
    persona = Persona(slug, str(title).strip(), str(summary).strip(), lists["aliases"] or (),
                      lists["match_titles"] or (), facts, render(fm.body), path.removeprefix("content/"))
    return persona, problems


def read_personas(files: dict[str, bytes]) -> tuple[list[Persona], list[Diagnostic]]:
    """Every persona of content/personas/*.md (path -> bytes) that reads cleanly, and the problems."""
    personas, problems = [], []
    for path, data in files.items():
        text, bad = decode(path, data)
        if bad:
            problems.append(bad)
            continue
        persona, found = read_persona(path, text)
        problems += found
        if persona:
            personas.append(persona)
    return personas, problems


def parse_date(value: object, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, bool] | None:
    """'2026-10-14' or an ISO date-time -> (aware date-time, date_only); None when invalid."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        if _DAY.fullmatch(value):
            day = dt.date.fromisoformat(value)
            return dt.datetime(day.year, day.month, day.day, tzinfo=zone), True
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=zone)), False


@dataclass(frozen=True)
class Rules:
    """What a transcript is read against: the site's vocabulary, personas and zone, and how its body is published."""

    tags: dict[str, str]
    """The tag vocabulary: slug -> label."""
    roles: Mapping[str, str]
    """Every persona slug and alias -> its persona's slug."""
    zone: zoneinfo.ZoneInfo
    """For dates without a zone."""
    render_body: bool = False
    """Also render the body (published transcripts)."""
    speaker_label: Callable[[Participant | None], str] | None = None
    """The published name of a speaker in a rendered body (only what `attribution` allows)."""


def read_transcript(path: str, text: str, rules: Rules, undated: Undated | None,
                    added_in: tuple[str, str] | None = None) -> tuple[Transcript | None, list[Diagnostic]]:
    """Read one transcript and extract its quotes.

    path is relative to the source folder (for diagnostics); quotes name the
    transcript relative to content/ (spec section 6). added_in is every quote's
    commit, when the file is as git added it.
    """
    tags, roles, zone = rules.tags, rules.roles, rules.zone
    doc = path.removeprefix("content/")
    fm, problems = _front_matter(path, text)
    if fm is None:
        return None, problems
    meta, lines = fm.meta, fm.key_lines
    strings = {}
    for key in ("title", "company", "recording"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            problems.append(error(path, lines.get(key, 1), f"'{key}' must be text, not a list or mapping"))
            value = None
        strings[key] = unicodedata.normalize("NFC", value.strip()) if value else None  # as a Mac or a PC typed it
    if strings["recording"] and not _SAFE_URL.match(strings["recording"]):
        problems.append(error(path, lines["recording"], "'recording' must be an http:// or https:// link"))
        strings["recording"] = None
    date = _transcript_date(path, meta, lines, zone, undated, problems)
    participants, unresolved = _participants(path, meta.get("participants"), lines, roles, problems)
    walk = Walk.start(path=path, line_offset=fm.body_line, tags=tags, render_body=rules.render_body,
                      participants=participants + unresolved if unresolved else participants,
                      speaker_label=rules.speaker_label)
    walk.date_iso = iso_date(*date) if date else ""
    found = try_extract(fm.body, walk) or extract_quotes(fm.body, walk)
    problems += found.diagnostics
    if found.spans < (fm.body.count("]{") if found.ends is None else found.ends) \
            or SPACED_SPAN.search(fm.body):  # a `]{` that tagged nothing, or a `] {` that meant to
        problems += misspelt_spans(fm.body, tags, path, fm.body_line)
    if date is None:
        return None, problems
    # With other errors the build fails, but the quotes that did read count for `check`'s other findings (a quote
    # id used twice, a persona's freshness) and for `quotes`.
    when, date_only = date
    title = strings["title"] or _title_from_path(path)
    quotes = tuple(
        Quote(q.id, q.speaker.role, q.tags, q.text, q.html, when, date_only, strings["company"],
              q.speaker.name, q.speaker.title, doc, q.line, q.timestamp, added_in)
        for q in found.quotes
    )
    meta_rest = tuple((k, v) for k, v in meta.items() if k not in _TRANSCRIPT_KEYS)
    transcript = Transcript(doc, title, when, date_only, strings["company"], strings["recording"],
                            participants, meta_rest, quotes, found.body_html,
                            lines.get("company") if strings["company"] else None)
    return transcript, problems


def _title_from_path(path: str) -> str:
    stem = re.sub(r"^\d{4}-\d{2}-\d{2}-?", "", PurePosixPath(path).stem)
    words = stem.replace("_", " ").replace("-", " ").strip() or PurePosixPath(path).stem
    return words[:1].upper() + words[1:]


def _transcript_date(path: str, meta: dict, lines: dict, zone: zoneinfo.ZoneInfo, undated: Undated | None,
                     problems: list[Diagnostic]) -> tuple[dt.datetime, bool] | None:
    if meta.get("date") is not None:
        parsed = parse_date(meta["date"], zone)
        if parsed is None:
            problems.append(error(path, lines.get("date", 1),
                                  f"'{meta['date']}' is not a valid date: write YYYY-MM-DD, e.g. 2026-10-14"))
        return parsed
    if undated is None:
        problems.append(error(path, 1, "add a 'date: YYYY-MM-DD' line to the front matter"))
        return None
    if undated.warning:
        problems.append(Diagnostic(path, 1, "warning", undated.warning))
    local = undated.date.astimezone(zone)
    return dt.datetime(local.year, local.month, local.day, tzinfo=zone), True


def _participants(path: str, value: object, lines: dict, roles: Mapping[str, str],
                  problems: list[Diagnostic]) -> tuple[tuple[Participant, ...], tuple[Participant, ...]]:
    """The participants, and those whose role no persona defines (role UNRESOLVED: reported here; their labels
    still name them)."""
    if value is None:
        return (), ()
    if not isinstance(value, dict):
        problems.append(error(path, lines.get("participants", 1),
                              "'participants' must map each name to a role, e.g. 'Dana Whitfield: head-of-revops'"))
        return (), ()
    result, unresolved, seen = [], [], {}
    for name, spec in value.items():
        line = lines.get(f"participants.{name}", lines.get("participants", 1))
        if (first := seen.setdefault(fold(str(name)), str(name))) != str(name):  # issue 21, item 8
            problems.append(error(path, line, f"'{name}' is '{first}' again (names are compared ignoring case and "
                                              "Unicode form): one person, one line; keep the one with the right role"))
            continue
        title = None
        if isinstance(spec, dict):
            title = spec.get("title")
            if title is not None and not isinstance(title, str):
                problems.append(error(path, line, f"the title of '{name}' must be text"))
                title = None
            # `{role: x, title: VP Sales, EMEA}` is YAML for title 'VP Sales' plus a key 'EMEA':
            # give the writer back the title they wrote (the spec's own example does this).
            spill = [k for k, v in spec.items() if k not in ("role", "title") and v is None]
            if title and spill:
                title = ", ".join([title, *spill])
            spec = spec.get("role")
        if not isinstance(spec, str) or not spec.strip():
            problems.append(error(path, line, f"give '{name}' a role: a persona slug, 'internal' or 'unknown'"))
            unresolved.append(Participant(str(name), UNRESOLVED, None))
            continue
        role = spec.strip()
        canonical = role if role in SPECIAL_ROLES else roles.get(role)
        if canonical is None or canonical == UNRESOLVED:
            # A persona file with an error of its own (its role UNRESOLVED) may define this role, as a slug or an
            # alias: its error is the one to fix, not one for each participant it would have named.
            if canonical is None and UNRESOLVED not in roles.values():
                hint = did_you_mean_role(role, roles, SPECIAL_ROLES) + new_persona_hint(role)
                problems.append(error(path, line, f"no persona defines the role '{role}'{hint}"))
            unresolved.append(Participant(str(name), UNRESOLVED, None))
            continue
        result.append(Participant(str(name), canonical, title.strip() if title else None))
    return tuple(result), tuple(unresolved)
