"""Nothing said is lost or invented by `persona-site import` (issue 20).

Over every import fixture, and over captions Hypothesis writes in each layout the
importer reads: the words spoken in the export are the words of the transcript,
each once and in order, and a speaker's name is inside what was said only as
often as somebody said it.

What the export says was spoken is read here without the importer: drop the lines
nobody said (timing lines, cue ids, NOTE blocks, clock lines, and the
headings and footers a case lists as `unspoken`), drop markup, and drop the name
a line opens with when it is one of the speakers the golden file lists.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import shutil
import tomllib
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_site.cli import main
from persona_site.frontmatter_yaml import split_front_matter
from persona_site.importers import decode_export, detect_format, parse_export
from persona_site.importers.document import Speaker, Transcript, render

FIXTURES = Path(__file__).parent / "fixtures" / "import"
CASES = tomllib.loads((FIXTURES / "cases.toml").read_text("utf-8"))

_TURN = re.compile(r"^\*\*(?P<name>.+?):\*\*(?: \[[\d:]+\])? ?(?P<text>.*)$")
_NOT_SAID = re.compile(r"^\s*(WEBVTT.*|\d+|-|(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?|.*\s-->\s.*)\s*$")
_MARKUP = re.compile(r"</?[a-zA-Z][^>]*>|<\d[\d:.]*>|\{\\[^}]*\}")
_STAMP = r"(?:\[(?:\d+:)?\d+:\d+\]\s*)?"
_CLOCK = r"(?:\d+:)?\d{1,2}:\d{2}"


# --- reading the export and the transcript as words -------------------------------------------------------

def words(text: str) -> list[str]:
    return re.findall(r"\w+", unicodedata.normalize("NFC", text).casefold())


def transcript_turns(markdown: str) -> tuple[list[str], list[tuple[str, str]]]:
    """(participants, [(speaker, what they said)]) of an imported transcript file."""
    doc = split_front_matter(markdown)
    turns = []
    for line in doc.body.splitlines():
        if match := _TURN.match(line):
            turns.append((match["name"], re.sub(r"\\(.)", r"\1", match["text"])))
    return list(doc.meta["participants"]), turns


def spoken_in_export(text: str, speakers: list[str], unspoken: list[str]) -> list[str]:
    """The words of the export that somebody said."""
    if text.lstrip().startswith("{"):  # Gong: the sentences
        doc = json.loads(text)
        return words(" ".join(s["text"] for call in doc["callTranscripts"] for m in call["transcript"]
                              for s in m["sentences"]))
    names = "|".join(re.escape(n) for n in sorted(speakers, key=len, reverse=True))
    label = re.compile(rf"^\s*{_STAMP}(?:\d+\s+\")?\(?(?:{names})(?:\"\s*\(\d*\)|\))?\s*(?::|{_CLOCK}\s*$|$)",
                       re.IGNORECASE)
    said, in_note = [], False
    lines = text.removeprefix("\ufeff").splitlines()
    for n, line in enumerate(lines):
        in_note = (in_note or line.startswith(("NOTE", "STYLE"))) and bool(line.strip())
        cue_id = n + 1 < len(lines) and " --> " in lines[n + 1] and (n == 0 or not lines[n - 1].strip())
        if in_note or cue_id or _NOT_SAID.match(line) or line.strip() in unspoken:
            continue
        line = html.unescape(_MARKUP.sub(" ", line))
        said += words(label.sub("", re.sub(rf"^\s*{_STAMP}", "", line), count=1))
    return said


def count_name(name: str, said: list[str]) -> int:
    name_words = words(name)
    return sum(said[i:i + len(name_words)] == name_words for i in range(len(said)))


def assert_same_words(source: list[str], output: list[str], speakers: list[str]) -> None:
    for name in speakers:
        assert count_name(name, output) == count_name(name, source), (
            f"the speaker name {name!r} is inside what was said {count_name(name, output)} time(s), "
            f"but said {count_name(name, source)} time(s) in the export")
    at = next((i for i, (a, b) in enumerate(zip(source, output)) if a != b), min(len(source), len(output)))
    assert output == source, (f"the words differ from word {at}: the export says {' '.join(source[at:at + 8])!r}, "
                              f"the transcript {' '.join(output[at:at + 8])!r}")


# --- every fixture ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [name for name, case in CASES.items() if "expected" in case])
def test_every_word_said_in_a_fixture_is_in_the_transcript_once_in_order(name: str, tmp_path: Path):
    case = CASES[name]
    site = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", site)
    result = CliRunner().invoke(main, ["import", "-s", str(site), *(str(FIXTURES / f) for f in case["inputs"]),
                                       *case["args"]], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    speakers, _ = transcript_turns((FIXTURES / case["expected"]).read_text("utf-8"))
    _, turns = transcript_turns((site / case["written"]).read_text("utf-8"))
    export, _ = decode_export((FIXTURES / case["inputs"][0]).read_bytes())
    source = spoken_in_export(export, speakers, case.get("unspoken", []))
    assert_same_words(source, [w for _, text in turns for w in words(text)], speakers)


# --- captions Hypothesis writes, in every layout --------------------------------------------------------

NAMES = ["Jane Doe", "Omar Haddad", "Wes Dunaway (Guest)", "Zoë Brandt", "Priya"]
VOCABULARY = ["so", "what", "brings", "you", "here", "today", "the", "forecast", "is", "late", "note", "okay",
              "speaker", "transcript", "we", "pay", "in", "may", "yes", "no", "and", "pipeline", "sheets"]


@st.composite
def said(draw) -> str:
    """Words as a speaker says them: a lowercase word first, sometimes another speaker's name, some punctuation."""
    first = draw(st.sampled_from(VOCABULARY))
    rest = draw(st.lists(st.one_of(st.sampled_from(VOCABULARY), st.sampled_from(NAMES)), max_size=8))
    end = draw(st.sampled_from([".", "?", "", ","]))
    return " ".join([first, *rest]) + end


def _clock(seconds: int, padded: bool, srt: bool = False) -> str:
    h, m, s = seconds // 3600, seconds % 3600 // 60, seconds % 60
    sep = "," if srt else "."
    return f"{h:02d}:{m:02d}:{s:02d}{sep}000" if padded else f"{h}:{m}:{s}{sep}5"


def _timing(n: int, padded: bool, srt: bool = False) -> str:
    return f"{_clock(n * 4, padded, srt)} --> {_clock(n * 4 + 3, padded, srt)}"


def write_export(layout: str, cues: list[tuple[str, str]], padded: bool) -> str:
    """The cues as the layout writes them."""
    if layout == "teams-text":
        blocks = [f"{name}   0:{n * 4:02d}\n{text}" if n % 2 else f"{name}\n{_clock(n * 4, True)[:8]}\n{text}"
                  for n, (name, text) in enumerate(cues)]
        return "Weekly sync\nMarch 16, 2026, 3:02PM\n\n" + "\n\n".join(blocks) + "\n"
    if layout == "srt":
        return "\n\n".join(f"{n + 1}\n{_timing(n, True, srt=True)}\n{name}: {text}"
                           for n, (name, text) in enumerate(cues)) + "\n"
    body = {"zoom": lambda n, name, text: f"{n + 1}\n{_timing(n, padded)}\n{name}: {text}",
            "zoom-id": lambda n, name, text: f"{n + 1} \"{name}\" ({1000 + n})\n{_timing(n, padded)}\n{text}",
            "teams-vtt": lambda n, name, text: f"ab12/{n}-0\n{_timing(n, padded)}\n<v {name}>{text}</v>",
            "meet": lambda n, name, text: f"{_timing(n, padded)}\n({name})\n{text}",
            "teams-docx": lambda n, name, text: f"{_timing(n, padded)}\n{name}\n{text}"}[layout]
    cues_text = "\n\n".join(body(n, name, text) for n, (name, text) in enumerate(cues))
    return cues_text + "\n" if layout == "teams-docx" else "WEBVTT\n\n" + cues_text + "\n"


LAYOUTS = ["zoom", "zoom-id", "teams-vtt", "meet", "teams-docx", "srt", "teams-text"]


@settings(max_examples=300, deadline=None)
@given(layout=st.sampled_from(LAYOUTS), padded=st.booleans(),
       cues=st.lists(st.tuples(st.sampled_from(NAMES), said()), min_size=2, max_size=8).filter(
           lambda cues: len({name for name, _ in cues}) > 1))
def test_every_word_of_generated_captions_is_in_the_transcript_once_in_order(layout, padded, cues):
    export = write_export(layout, cues, padded)
    [call] = parse_export(export, detect_format(export))
    speakers = list(dict.fromkeys(name for name, _ in cues))
    doc = Transcript("Call", dt.date(2026, 3, 16), None,
                     tuple(Speaker(name, "unknown") for name in call.speakers), None, call.turns)
    participants, turns = transcript_turns(render(doc))
    assert_same_words([w for _, text in cues for w in words(text)], [w for _, text in turns for w in words(text)],
                      speakers)
    assert participants == speakers
