"""Line-based exports: Otter's .txt and plain text with `Name: text` lines."""

from __future__ import annotations

import re

from ..frontmatter_yaml import fold
from .call import Call, Cue, ExportError, merge_cues, parse_clock, split_label, trusted_speakers
from .naming import date_and_title, day_in_words

# Otter: 'Dana Whitfield  0:04' or 'Dana Whitfield 1:02:13' on its own line, the speech below it.
_OTTER_HEADER = re.compile(r"^(?P<name>\S.{0,79}?)[ \t]+(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})$")
_OTTER_FOOTER = re.compile(r"^Transcribed by https?://otter\.ai\S*$", re.IGNORECASE)
# A Google Meet transcript downloaded from Docs: 'Acme sync (2026-10-22 10:02 GMT-7) - Transcript' on top
# (newer ones open with the date in words, 'Mar 16, 2026', above it), a line '00:05:00' every few minutes,
# and a closing line or two that nobody said.
_HEADING = re.compile(r"^.+?\s[-–—]\s*Transcript$", re.IGNORECASE)
_TRAILER = re.compile(r"^((Meeting|Transcription) ended after \d|This editable transcript was computer generated)",
                      re.IGNORECASE)
_STAMP_PREFIX = re.compile(r"^\[(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})\]\s*")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.removeprefix("\ufeff").splitlines()]


def is_otter_header(line: str) -> bool:
    return bool(_OTTER_HEADER.match(line.strip())) and split_label(line) is None


def is_labelled_line(line: str) -> bool:
    """'Dana: Hello.' or '[00:01:02] Dana: Hello.'"""
    return split_label(_unstamped(line.strip())[1]) is not None


def parse_otter(text: str) -> Call:
    """Otter's .txt export: blocks of a 'Name  M:SS' header line and the speech below it."""
    lines = _lines(text)
    trusted = trusted_speakers(m["name"].strip() for line in lines if (m := _OTTER_HEADER.match(line)))
    cues: list[Cue] = []
    after_blank = True
    for line in lines:
        if not line or _OTTER_FOOTER.match(line):
            after_blank = True
            continue
        header = _OTTER_HEADER.match(line) if after_blank else None
        if header and fold(header["name"].strip()) in trusted:
            cues.append(Cue(header["name"].strip(), parse_clock(header["time"]), ""))
        elif cues:
            last = cues[-1]
            cues[-1] = Cue(last.speaker, last.start, f"{last.text} {line}")
        after_blank = False
    if not cues:
        raise ExportError("this Otter file has no 'Name  0:04' speaker lines")
    return Call(merge_cues(cues))


def parse_text(text: str) -> Call:
    """Plain text: 'Name: text' lines; other lines continue the turn; a line '00:05:00' times the next turn."""
    lines = [line for line in _lines(text) if not _TRAILER.match(line)]
    heading = next((line for line in lines if _HEADING.match(line)), None)
    day, title = date_and_title(heading) if heading else (None, None)
    first = next((line for line in lines if line), "")
    dated = day_in_words(first) is not None
    day = day or day_in_words(first)
    trusted = trusted_speakers(label[0] for line in lines if (label := split_label(_unstamped(line)[1])))
    cues: list[Cue] = []
    clock: int | None = None
    skipped = 0
    for line in lines:
        if (alone := parse_clock(line)) is not None:
            clock = alone
            continue
        stamp, rest = _unstamped(line)
        label = split_label(rest)
        if label and fold(label[0]) in trusted:
            cues.append(Cue(label[0], stamp if stamp is not None else clock, label[1]))
            clock = None
        elif cues:
            last = cues[-1]
            cues[-1] = Cue(last.speaker, last.start, f"{last.text} {line}")
        elif line and line != heading and not (dated and line == first):
            skipped += 1
    if not cues:
        raise ExportError("this text file has no 'Name: what they said' lines")
    # Above a Meet transcript's first turn are its heading and attendees: nothing lost there.
    notes = (f"skipped {skipped} line(s) before the first 'Name:' line",) if skipped and not heading else ()
    return Call(merge_cues(cues), title=title, started=day, notes=notes)


def _unstamped(line: str) -> tuple[int | None, str]:
    match = _STAMP_PREFIX.match(line)
    return (parse_clock(match["time"]), line[match.end():]) if match else (None, line)
