"""The transcript file an import writes (spec section 4): front matter, then one turn per paragraph."""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

from .call import Turn

TRANSCRIPTS = PurePosixPath("content/transcripts")

# Plain YAML only for text that every YAML reader reads back as the same text; the rest is quoted.
_PLAIN = re.compile(r"[^\W_][\w .'&()/+@-]*")
_PLAIN_URL = re.compile(r"https?://[\w.~%/?=&+@!$'()*;-]+")
_ESCAPE = re.compile(r"([\\`*_\[\]<~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


@dataclass(frozen=True)
class Speaker:
    """A participant as the front matter lists them."""

    name: str
    """The name, as in the turn labels."""
    role: str
    """A persona slug, 'internal' or 'unknown'."""
    title: str | None = None
    """Their job title, when the export gives it."""


@dataclass(frozen=True)
class Transcript:
    """Everything an imported transcript file holds."""

    title: str
    day: dt.date
    company: str | None
    speakers: tuple[Speaker, ...]
    recording: str | None
    turns: tuple[Turn, ...]


def yaml_scalar(value: str) -> str:
    """value as a YAML scalar: plain when unambiguous, else double-quoted (`No`, `1.10`, titles with commas)."""
    plain = (_PLAIN.fullmatch(value) or _PLAIN_URL.fullmatch(value)) and not value.endswith(" ")
    if plain and yaml.safe_load(value) == value:
        return value
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def escape_markdown(text: str) -> str:
    """Spoken words stay words: no emphasis, links, code, quote spans or headings by accident."""
    text = _ENTITY.sub(r"\\&", _ESCAPE.sub(r"\\\1", text))
    return "\\" + text if text[:1] in ("#", ">") else text


STAMPED_UNDER = 100 * 3600
"""A turn's start is written as [hh:mm:ss] when it is under 100 hours: a transcript's timestamp has one or two digits
of hours (spec section 4), so a longer one would be read as no time at all."""


def clock(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def render(doc: Transcript) -> str:
    """The Markdown text of the transcript file."""
    lines = ["---", f"title: {yaml_scalar(doc.title)}", f"date: {doc.day.isoformat()}"]
    if doc.company:
        lines.append(f"company: {yaml_scalar(doc.company)}")
    lines.append("participants:")
    for speaker in doc.speakers:
        value = speaker.role
        if speaker.title:
            value = f"{{role: {speaker.role}, title: {yaml_scalar(speaker.title)}}}"
        lines.append(f"  {yaml_scalar(speaker.name)}: {value}")
    if doc.recording:
        lines.append(f"recording: {yaml_scalar(doc.recording)}")
    lines += ["---", ""]
    for turn in doc.turns:
        stamp = f" [{clock(turn.start)}]" if turn.start is not None and turn.start < STAMPED_UNDER else ""
        lines += [f"**{turn.speaker}:**{stamp} {escape_markdown(turn.text)}", ""]
    return "\n".join(lines)


def slugify(text: str, limit: int = 60) -> str:
    """'Acme Corp — Discovery' -> 'acme-corp-discovery' (ASCII, at most limit characters, cut at a '-')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > limit:
        slug = slug[:limit + 1].rsplit("-", 1)[0] if "-" in slug[:limit + 1] else slug[:limit]
    return slug


def transcript_path(day: dt.date, company: str | None, title: str) -> PurePosixPath:
    """content/transcripts/YYYY/YYYY-MM-DD-<company>-<title>.md, the company not repeated."""
    parts = [day.isoformat()]
    company_slug, title_slug = slugify(company or ""), slugify(title)
    if company_slug:
        parts.append(company_slug)
        if title_slug == company_slug or title_slug.startswith(company_slug + "-"):
            title_slug = title_slug[len(company_slug) + 1:]
    parts.append(title_slug)
    return TRANSCRIPTS / f"{day.year:04d}" / ("-".join(p for p in parts if p) + ".md")


def numbered(path: PurePosixPath, n: int) -> PurePosixPath:
    """The n-th alternative name for a path that is taken: name-2.md, name-3.md ..."""
    return path.with_name(f"{path.stem}-{n}{path.suffix}")
