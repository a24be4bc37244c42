"""From the bytes of an export to its text, its format and what its file name says."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePath

from ..content import decode
from .call import ExportError, split_label
from .captions import TIMING
from .gong import kind_of, load_json
from .text import is_otter_header

FORMATS = ("vtt", "srt", "otter", "gong", "text")

_OTTER_NAME = re.compile(r"^(?P<d>\d{8})[ _](?P<t>\d{4})\s*-\s*(?P<title>.+)$")  # '20261014 1530 - Acme call'
_ZOOM_NAME = re.compile(r"GMT(?P<d>\d{8})-(?P<t>\d{6})")  # 'GMT20261014-150000_Recording.transcript'
_DAY = re.compile(r"(?<!\d)(?P<y>20\d{2})-?(?P<m>[01]\d)-?(?P<d>[0-3]\d)(?!\d)")
_NOISE = {"recording", "transcript", "captions", "caption", "subtitles", "audio", "gmt"}


def decode_export(data: bytes) -> tuple[str, str | None]:
    """The text of an export, plus a warning when it was not UTF-8 (Windows-1252 exports are common)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None
    if b"\x00" in data:
        raise ExportError("this is not a text file (an audio or video file?): import the transcript export")
    text, problem = decode("", data)
    if problem is None:
        return text.removeprefix("\ufeff"), None
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text, "this file is not UTF-8: read it as Windows-1252; check accented names in the result"


def detect_format(text: str) -> str:
    """'vtt', 'srt', 'otter', 'gong', 'gong-parties' or 'text', from the content; ExportError when unclear."""
    stripped = text.strip()
    if not stripped:
        raise ExportError("the file is empty")
    if stripped.startswith("WEBVTT"):
        return "vtt"
    if stripped[0] in "{[":
        kind = kind_of(load_json(stripped))
        if kind is None:
            raise ExportError("this JSON is not a Gong transcript: expected a 'callTranscripts' list")
        return kind
    lines = [line.strip() for line in stripped.splitlines()]
    for line in lines[:50]:
        if match := TIMING.match(line):
            return "srt" if "," in match["start"] else "vtt"
    first = next(line for line in lines if line)
    if is_otter_header(first):
        return "otter"
    if any(split_label(line) for line in lines[:50]):
        return "text"
    raise ExportError("cannot tell what kind of export this is: pass --format vtt, srt, otter, gong or text")


def from_file_name(path: PurePath) -> tuple[dt.datetime | dt.date | None, str | None]:
    """The call's date (and title) from names like Otter's '20261014 1530 - Acme call.txt' or Zoom's 'GMT20261014-150000_...'."""
    stem = path.stem
    if match := _OTTER_NAME.match(stem):
        return _day(match["d"]), match["title"].strip() or None
    if match := _ZOOM_NAME.search(stem):
        when = dt.datetime.strptime(match["d"] + match["t"], "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
        return when, None
    match = _DAY.search(stem)
    day = _day(match["y"] + match["m"] + match["d"]) if match else None
    rest = _DAY.sub(" ", stem) if day else stem
    words = [w for w in re.split(r"[\s_.]+" if " " in rest.strip() else r"[-_.]+", rest) if w.strip("-")]
    words = [w for w in words if w.casefold() not in _NOISE]
    title = " ".join(words).strip(" -") if any(c.isalpha() for w in words for c in w) else None
    return day, (title[:1].upper() + title[1:]) if title else None


def _day(digits: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None
