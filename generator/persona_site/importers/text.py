"""Line-based exports: speaker lines (Otter's .txt, Teams' transcript as text) and `Name: text` lines."""

from __future__ import annotations

import datetime as dt
import re

from ..frontmatter_yaml import fold
from .call import (Call, Cue, ExportError, is_name_line, labels_read_as_words, merge_cues, parse_clock, split_label,
                   trusted_speakers)
from .naming import date_and_title, day_in_words

# Otter and Teams: 'Dana Whitfield  0:04' or 'Dana Whitfield 1:02:13' on its own line, the speech below it.
# Teams also puts the time on the line below the name ('0:21', '00:01:02'), and above the first turn its
# transcript has the meeting's title, date ('March 16, 2026, 3:02PM') and length ('28m 51s').
_OTTER_HEADER = re.compile(r"^(?P<name>\S.{0,79}?)[ \t]+(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})$")
_OTTER_FOOTER = re.compile(r"^Transcribed by https?://otter\.ai\S*$", re.IGNORECASE)
_LENGTH = re.compile(r"^(?=\d)(?:\d+h\s*)?(?:\d+m\s*)?(?:\d+s)?$")
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
    """Speaker lines: after a blank line, 'Name  0:04', or 'Name' with the time or the words on the next line."""
    lines = [line for line in _lines(text) if not _OTTER_FOOTER.match(line)]
    starts = _turn_starts(lines)
    if not starts:
        raise ExportError("this file has no speaker lines ('Dana Whitfield  0:04', or the name alone on a line "
                          "above the words)")
    cues = [Cue(name, start, " ".join(lines[at + used:end]))
            for (at, name, start, used), end in zip(starts, [s[0] for s in starts[1:]] + [len(lines)])]
    title, day, skipped = _preamble(lines[:starts[0][0]])
    notes = (f"skipped {skipped} line(s) before the first speaker line",) if skipped else ()
    return Call(merge_cues(cues), title=title, started=day, notes=notes)


def speaker_line_turns(lines: list[str]) -> int:
    """How many turns open with a speaker line, for telling this layout from 'Name: text' lines."""
    return len(_turn_starts([line.strip() for line in lines]))


def _turn_starts(lines: list[str]) -> list[tuple[int, str, int | None, int]]:
    """(line index, speaker, seconds, lines the speaker line takes) of each turn."""
    found = [(i, *head) for i in range(len(lines)) if (i == 0 or not lines[i - 1]) and (head := _head(lines, i))]
    trusted = trusted_speakers(name for _, name, _, _ in found)
    timed = {fold(name) for _, name, start, _ in found if start is not None}
    # A name alone above the words could be a short sentence: take it when nothing is timed, or they are timed
    # elsewhere.
    return [(i, name, start, used) for i, name, start, used in found
            if fold(name) in trusted and (start is not None or not timed or fold(name) in timed)]


def _head(lines: list[str], i: int) -> tuple[str, int | None, int] | None:
    line, below = lines[i], lines[i + 1] if i + 1 < len(lines) else ""
    if (match := _OTTER_HEADER.match(line)) and split_label(line) is None:
        return match["name"].strip(), parse_clock(match["time"]), 1
    if is_name_line(line) and below and day_in_words(line) is None and day_in_words(below) is None:
        clock = parse_clock(below)
        return line, clock, 1 if clock is None else 2
    return None


def _preamble(lines: list[str]) -> tuple[str | None, dt.date | None, int]:
    """Title, date and the number of other lines above the first turn (Teams: title, date, length)."""
    kept = [line for line in lines if line and not _LENGTH.match(line)]
    days = [day for line in kept if (day := day_in_words(line))]
    title = kept[0] if kept and day_in_words(kept[0]) is None else None
    return title, days[0] if days else None, len(kept) - len(days) - (title is not None)


def parse_text(text: str) -> Call:
    """Plain text: 'Name: text' lines; other lines continue the turn; a line '00:05:00' times the next turn."""
    lines = [line for line in _lines(text) if not _TRAILER.match(line)]
    trusted = trusted_speakers(label[0] for line in lines if (label := split_label(_unstamped(line)[1])))
    # A Meet document's heading ('Title - Transcript') is above its first turn: a turn that ends '- transcript'
    # ('Can you send me the recording - transcript') is words, not the call's title.
    first_turn = next((n for n, line in enumerate(lines)
                       if (label := split_label(_unstamped(line)[1])) and fold(label[0]) in trusted), len(lines))
    heading = next((line for line in lines[:first_turn] if _HEADING.match(line)), None)
    day, title = date_and_title(heading) if heading else (None, None)
    first = next((line for line in lines if line), "")
    dated = day_in_words(first) is not None
    day = day or day_in_words(first)
    cues: list[Cue] = []
    clock: int | None = None
    skipped = 0
    words: list[str] = []  # labels read as the words of the turn before
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
            words += [label[0]] if label else []
            last = cues[-1]
            cues[-1] = Cue(last.speaker, last.start, f"{last.text} {line}")
        elif line and line != heading and not (dated and line == first):
            skipped += 1
    if not cues:
        raise ExportError("this text file has no 'Name: what they said' lines")
    # Above a Meet transcript's first turn are its heading and attendees: nothing lost there.
    notes = (f"skipped {skipped} line(s) before the first 'Name:' line",) if skipped and not heading else ()
    return Call(merge_cues(cues), title=title, started=day, notes=notes + labels_read_as_words(words))


def _unstamped(line: str) -> tuple[int | None, str]:
    match = _STAMP_PREFIX.match(line)
    return (parse_clock(match["time"]), line[match.end():]) if match else (None, line)
