"""What every export format parses into: a call with speaker turns. Pure data, no disk."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..frontmatter_yaml import fold

UNKNOWN_SPEAKER = "Unknown Speaker"
MAX_NAME = 80  # a longer label is not read as a speaker turn (quotes.py)

# Control, zero-width and non-characters: none belongs in a name or a quote, and YAML refuses some.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_WS = re.compile(r"\s+")
# 'Name: text' as Zoom, Otter's SRT and plain text write it. A name is a few words, not a sentence.
_LABEL = re.compile(r"^(?P<name>[^\s:\[\](){}<>*#][^:\n]{0,79}?):[ \t]+(?P<text>\S.*)$")
_NOT_IN_NAMES = re.compile(r"[?!;\"“”]|https?|\d{1,2}:\d{2}")
# A label seen once must look like a name, so "Here's the deal: ..." stays speech.
_NAME_WORD = re.compile(r"^(?:[^\W\d_][\w'.()-]*|\d+|\([^()]*\))$")
_PARTICLES = frozenset({"al", "bin", "da", "das", "de", "del", "della", "den", "der", "di", "dos", "du", "el", "ibn", "la",
              "le", "ten", "ter", "van", "von", "y"})
_CLOCK = re.compile(r"^(?:(?P<h>\d{1,3}):)?(?P<m>\d{1,2}):(?P<s>\d{2})(?:[.,]\d{1,3})?$")


class ExportError(Exception):
    """An export that cannot be imported: the message says why, in one line."""


@dataclass(frozen=True)
class Cue:
    """One timed piece of speech as the export has it, before merging."""

    speaker: str
    """The speaker's name as the export writes it."""
    start: int | None
    """Seconds from the start of the recording, when the export gives them."""
    text: str
    """Plain text, markup stripped."""


@dataclass(frozen=True)
class Turn:
    """Consecutive cues of one speaker: one paragraph in the transcript."""

    speaker: str
    """The speaker's name."""
    start: int | None
    """Seconds from the start: the turn's first cue."""
    text: str
    """Plain text of the whole turn."""


@dataclass(frozen=True)
class Party:
    """What an export says about one speaker beyond their name (Gong's parties)."""

    name: str
    """The speaker's name, as in the turns."""
    title: str | None = None
    """Their job title."""
    internal: bool = False
    """True for our own side (Gong's affiliation 'Internal')."""


@dataclass(frozen=True)
class Call:
    """One imported call: the turns plus whatever metadata the export carries."""

    turns: tuple[Turn, ...]
    """Speaker turns, in order."""
    parties: tuple[Party, ...] = ()
    """Known titles and affiliations, by speaker name."""
    title: str | None = None
    """The call's title, when the export names one."""
    started: dt.datetime | dt.date | None = None
    """When the call took place (aware date-time, or a plain date)."""
    company: str | None = None
    """The buyer's company, when the export names it."""
    recording: str | None = None
    """Link to the recording, when the export names one."""
    notes: tuple[str, ...] = field(default=())
    """Warnings about the export, for the user."""

    @property
    def speakers(self) -> tuple[str, ...]:
        """Every speaker, in order of first turn."""
        return tuple(dict.fromkeys(turn.speaker for turn in self.turns))


def clean_text(text: str) -> str:
    """Drop control and zero-width characters and fold whitespace."""
    return _WS.sub(" ", _CONTROL.sub("", text)).strip()


def clean_name(name: str) -> str:
    """A speaker name that works as a `**Name:**` label and a YAML key."""
    name = clean_text(re.sub(r"[*`\[\]]", "", name))
    return name[:MAX_NAME].strip() or UNKNOWN_SPEAKER


def split_label(line: str) -> tuple[str, str] | None:
    """'Dana Whitfield: Hello' -> ('Dana Whitfield', 'Hello'); None when the line is not a labelled line."""
    match = _LABEL.match(line.strip())
    if match is None:
        return None
    name = match["name"].strip()
    if len(name.split()) > 6 or _NOT_IN_NAMES.search(name):
        return None
    return name, match["text"]


def is_name_line(line: str) -> bool:
    """'Jane Doe' or 'Wes Dunaway (Guest)' alone on a line, as Teams writes a speaker above their words."""
    line = line.strip()
    return (bool(line) and line[0].isalpha() and len(line) <= MAX_NAME and len(line.split()) <= 6
            and ":" not in line and not _NOT_IN_NAMES.search(line) and line[-1] not in ".?!,;")


def trusted_speakers(labels: Iterable[str]) -> set[str]:
    """The folded label names to read as speakers: any seen twice, or once when it looks like a name."""
    counts: dict[str, int] = {}
    looks: dict[str, bool] = {}
    for label in labels:
        key = fold(label)
        counts[key] = counts.get(key, 0) + 1
        words = label.split()
        looks[key] = bool(words) and words[0][:1].isupper() and all(
            _NAME_WORD.match(w) and (w[:1].isupper() or not w[:1].isalpha() or w in _PARTICLES) for w in words)
    return {key for key, count in counts.items() if count > 1 or looks[key]}


def labels_read_as_words(names: list[str]) -> tuple[str, ...]:
    """A note for lines that open like 'Name:' but were kept as the words of the turn before (the name was seen
    once and does not look like one: 'Next steps:'), so a speaker taken for words is never silent."""
    if not names:
        return ()
    shown = ", ".join(f"'{name}'" for name in dict.fromkeys(names[:3]))
    return (f"{len(names)} line(s) open with a label read as words, not a speaker ({shown}): if one is a speaker, "
            "their words are in the turn before; write the name as the others are written and import again",)


def parse_clock(value: str) -> int | None:
    """'1:02:13', '02:13', '00:01:02.500' or '00:01:02,500' -> whole seconds; None when not a clock."""
    match = _CLOCK.match(value.strip())
    if match is None:
        return None
    return int(match["h"] or 0) * 3600 + int(match["m"]) * 60 + int(match["s"])


def merge_cues(cues: Iterable[Cue]) -> tuple[Turn, ...]:
    """Consecutive cues of one speaker become one turn that keeps the first timestamp."""
    turns: list[Turn] = []
    canonical: dict[str, str] = {}
    for cue in cues:
        text = clean_text(cue.text)
        if not text:
            continue
        # One person, however the export capitalises or spaces their name.
        speaker = canonical.setdefault(fold(cue.speaker), clean_name(cue.speaker))
        if turns and turns[-1].speaker == speaker:
            last = turns[-1]
            turns[-1] = Turn(speaker, last.start if last.start is not None else cue.start, f"{last.text} {text}")
        else:
            turns.append(Turn(speaker, cue.start, text))
    return tuple(turns)
