"""Caption files: WebVTT (Zoom, Microsoft Teams, Google Meet) and SRT (Otter).

The three VTT dialects name the speaker differently: Zoom writes `Name: text`
in the cue, Teams a voice span `<v Name>text</v>` (cue ids like `GUID/12-0`),
and Google Meet a `(Name)` line, with `-` and blank lines between speakers
inside one cue (not legal WebVTT, so a blank line does not end a cue here: the
next timing line does). Zoom may name the speaker on the cue's id line instead
(`1 "Jane Doe" (1063281152)`); Teams has written timings without padding
(`0:0:0.0 --> 0:0:3.520`), and its older transcript document, saved as text,
has the timing, then the speaker's name alone on a line, then the words.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ..frontmatter_yaml import fold
from .call import (UNKNOWN_SPEAKER, Call, Cue, ExportError, is_name_line, merge_cues, split_label,
                   labels_read_as_words, trusted_speakers)

TIMING = re.compile(r"^\s*(?P<start>(?:(?P<h>\d+):)?(?P<m>\d{1,2}):(?P<s>\d{1,2})(?:[.,]\d{1,3})?)\s*-->\s*\S+")
_LIKE_TIMING = re.compile(r"^\s*\S*\d\S*\s*-->")  # a timing line, whether or not TIMING can read it
_ID_SPEAKER = re.compile(r'^\s*\d+\s+"(?P<name>[^"]{1,80})"(?:\s+\(\d*\))?\s*$')  # '1 "Jane Doe" (1063281152)'
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?(?:\s+(?P<name>[^>]*))?>", re.IGNORECASE)
_MEET_NAME = re.compile(r"^\((?P<name>(?:[^()]|\([^()]*\)){1,80})\)$")  # '(Jane Doe)', '(Jane Doe (she/her))'
_TAG = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
_BLOCK = re.compile(r"^(NOTE|STYLE|REGION)(\s|$)")


@dataclass(frozen=True)
class _RawCue:
    start: int | None
    lines: tuple[str, ...]
    speaker: str | None = None
    """The name on the cue's id line, when it has one."""


def parse_vtt(text: str) -> Call:
    """A WebVTT file from Zoom, Teams or Google Meet."""
    return _parse(text, "VTT")


def parse_srt(text: str) -> Call:
    """An SRT file, e.g. Otter's export with 'Include speaker names'."""
    return _parse(text, "SRT")


def _parse(text: str, kind: str) -> Call:
    raw = _cues(text, kind)
    # Google Meet opens every cue with '(Name)'; elsewhere '(laughs)' is speech.
    meet = 2 * sum(bool(c.lines and _MEET_NAME.match(c.lines[0].strip())) for c in raw) >= len(raw)
    raw = raw if meet else _names_above_words(raw)
    per_cue = [_segments(cue, meet) for cue in raw]
    segments = [seg for found in per_cue for seg in found]
    trusted = trusted_speakers(label[0] for _, name, line in segments if name is None and (label := split_label(line)))
    # Zoom opens every cue with 'Name:'. In a file whose every cue opens with a label, two in three of them a
    # speaker's, each label is one, however little its name looks like a name ('Dana Whitfield - Acme Corp',
    # 'jsmith'); where some cue opens without one, a cue's 'Bottom line:' stays words.
    openers = [label[0] for found in per_cue if found and found[0][1] is None and (label := split_label(found[0][2]))]
    spoken = sum(1 for found in per_cue if found)  # a cue with no words ('[music]' aside) opens with nothing
    if len(openers) == spoken and 3 * sum(fold(name) in trusted for name in openers) >= 2 * spoken:
        trusted |= {fold(name) for name in openers}
    cues, current, named, words = [], None, 0, []
    for start, name, line in segments:
        if name is None and (label := split_label(line)):
            if fold(label[0]) in trusted:
                name, line = label
            else:
                words.append(label[0])
        if name is not None:
            current, named = name, named + 1
        cues.append(Cue(current or UNKNOWN_SPEAKER, start, line))
    notes = () if named else (_nameless(raw, kind),)
    notes += labels_read_as_words(words) if named else ()
    if unread := sum(cue.start is None for cue in raw):
        notes += (f"{unread} timing line(s) could not be read, so those lines have no time in the transcript",)
    return Call(merge_cues(cues), notes=notes)


def _cues(text: str, kind: str) -> list[_RawCue]:
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # A timing line TIMING cannot read still starts a cue where one may start (after a blank line or a cue id);
    # inside a cue's words ('2025 --> 2026 numbers are bad') it is words.
    timings = [i for i, line in enumerate(lines) if TIMING.match(line) or (
        _LIKE_TIMING.match(line) and (i == 0 or not lines[i - 1].strip() or _is_cue_id(lines, i - 1)))]
    if not timings:
        raise ExportError(f"this {kind} file has no cues (no '00:00:01.000 --> 00:00:04.000' lines)")
    if not any(TIMING.match(lines[at]) for at in timings):
        raise ExportError(f"cannot read the timings of this {kind} file, such as '{lines[timings[0]].strip()}' "
                          f"(line {timings[0] + 1}): export it again, or write them as '00:00:01.000 --> 00:00:04.000'")
    cues = []
    for n, at in enumerate(timings):
        end = timings[n + 1] if n + 1 < len(timings) else len(lines)
        if end < len(lines) and _is_cue_id(lines, end - 1):
            end -= 1
        body = _without_blocks(lines[at + 1:end])
        speaker = _ID_SPEAKER.match(lines[at - 1]) if _is_cue_id(lines, at - 1) else None
        cues.append(_RawCue(_start(lines[at]), tuple(body), speaker["name"].strip() if speaker else None))
    return cues


def _start(line: str) -> int | None:
    """Whole seconds from a timing line, padded ('00:01:05.200') or not ('0:1:5.2'); None when unreadable."""
    match = TIMING.match(line)
    return int(match["h"] or 0) * 3600 + int(match["m"]) * 60 + int(match["s"]) if match else None


def _names_above_words(raw: list[_RawCue]) -> list[_RawCue]:
    """Teams' transcript document as text: when most cues open with a name line, that line is the speaker."""
    firsts = [c.lines[0].strip() for c in raw if len(c.lines) > 1 and c.speaker is None and is_name_line(c.lines[0])
              and not _VOICE.search(c.lines[0])]
    trusted = trusted_speakers(firsts)
    if len(firsts) < 2 or 2 * sum(fold(f) in trusted for f in firsts) < len(raw):
        return raw
    return [_RawCue(c.start, c.lines[1:], c.lines[0].strip()) if len(c.lines) > 1 and c.speaker is None
            and is_name_line(c.lines[0]) and fold(c.lines[0].strip()) in trusted else c for c in raw]


def _nameless(raw: list[_RawCue], kind: str) -> str:
    """The warning for captions without speakers; it names what looks like names the layout hid (issue 20)."""
    lines = [line.strip() for c in raw for line in c.lines if is_name_line(line)]
    repeated = next((line for line in lines if lines.count(line) > 1), None)
    if repeated is None:
        return (f"this {kind} file names no speakers, so every line is '{UNKNOWN_SPEAKER}': "
                "export it again with speaker names turned on")
    return (f"every line of this {kind} file is '{UNKNOWN_SPEAKER}', but '{repeated}' looks like a speaker's name "
            "on a line of its own, as in a Teams transcript saved as text, where import does not look for one: "
            "check the transcript against the export")


def _is_cue_id(lines: list[str], i: int) -> bool:
    """A cue id ('12', 'GUID/12-0') sits alone on the line after a blank line, right before its timing."""
    return i >= 0 and bool(lines[i].strip()) and (i == 0 or not lines[i - 1].strip())


def _without_blocks(lines: list[str]) -> list[str]:
    """Drop NOTE, STYLE and REGION blocks (they run to the next blank line)."""
    kept, skipping, after_blank = [], False, True
    for line in lines:
        if not line.strip():
            skipping, after_blank = False, True
            continue
        if after_blank and _BLOCK.match(line):
            skipping = True
        if not skipping:
            kept.append(line)
        after_blank = False
    return kept


def _segments(cue: _RawCue, meet: bool) -> list[tuple[int | None, str | None, str]]:
    """(start, speaker or None, text) for each piece of the cue; None: the label, if any, is in the text."""
    body = "\n".join(cue.lines)
    if _VOICE.search(body):
        return _voices(cue.start, body)
    found, speaker = [], cue.speaker
    for line in cue.lines:
        line = line.strip()
        if meet and (match := _MEET_NAME.match(line)) is not None:
            speaker = match["name"].strip()
        elif line and line != "-":
            found.append((cue.start, speaker, _plain(line)))
    return found


def _voices(start: int | None, body: str) -> list[tuple[int | None, str | None, str]]:
    found = []
    marks = list(_VOICE.finditer(body))
    if body[:marks[0].start()].strip():
        found.append((start, None, _plain(body[:marks[0].start()])))
    for n, mark in enumerate(marks):
        end = marks[n + 1].start() if n + 1 < len(marks) else len(body)
        found.append((start, (mark["name"] or "").strip() or UNKNOWN_SPEAKER, _plain(body[mark.end():end])))
    return found


def _plain(text: str) -> str:
    """Cue text without markup (<c.yellow>, <i>, <00:00:01.000>, {\\an8}) and with entities decoded."""
    return html.unescape(_TAG.sub("", text)).replace("\n", " ").strip()
