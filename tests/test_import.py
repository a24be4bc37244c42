"""`persona-site import`: fixture exports against golden transcripts, the parsers, and the round trip.

Regenerate the golden files after an intended change of output:

    UPDATE_GOLDEN=1 python -m pytest tests/test_import.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_site.cli import main
from persona_site.frontmatter_yaml import split_front_matter
from persona_site.importers import ExportError, decode_export, detect_format, from_file_name, parse_export
from persona_site.importers.call import UNKNOWN_SPEAKER, Call, Party, Turn, clean_name, clean_text
from persona_site.importers.captions import parse_srt, parse_vtt
from persona_site.importers.document import (Speaker, Transcript, escape_markdown, render, slugify,
                                             transcript_path, yaml_scalar)
from persona_site.importers.gong import parse_gong, read_gong_calls
from persona_site.importers.roles import assign_roles, match_title
from persona_site.importers.text import parse_otter, parse_text
from persona_site.model import Participant, Persona
from persona_site.quotes import Walk, extract_quotes
from persona_site.reader import Rules, read_transcript

FIXTURES = Path(__file__).parent / "fixtures" / "import"
CASES = tomllib.loads((FIXTURES / "cases.toml").read_text("utf-8"))
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
TERMINAL = {"stdin_is_terminal": lambda: True}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A content repository with three personas (head-of-revops, vp-sales, cfo), all with match_titles."""
    root = tmp_path / "site"
    shutil.copytree(FIXTURES / "site", root)
    return root


def run_import(site: Path, *args: str, obj: dict | None = None, input: str | None = None):
    return CliRunner().invoke(main, ["import", "-s", str(site), *args], obj=obj, input=input, catch_exceptions=False)


def fixture(rel: str) -> str:
    return str(FIXTURES / rel)


def written(site: Path) -> list[Path]:
    folder = site / "content" / "transcripts"
    return sorted(folder.rglob("*")) if folder.exists() else []


# --- every format and variant, against its golden file ---------------------------------------------------

@pytest.mark.parametrize("name", [name for name, case in CASES.items() if "expected" in case])
def test_import_matches_golden(name: str, site: Path):
    case = CASES[name]
    result = run_import(site, *map(fixture, case["inputs"]), *case["args"])
    assert result.exit_code == 0, result.output
    path = site / case["written"]
    assert result.stdout.splitlines() == [str(path)]
    for text in case.get("stderr", []):
        assert text in result.stderr
    actual = path.read_text("utf-8")
    golden = FIXTURES / case["expected"]
    if UPDATE_GOLDEN:
        golden.write_text(actual, "utf-8")
    assert actual == golden.read_text("utf-8")
    check = CliRunner().invoke(main, ["check", "-s", str(site)], catch_exceptions=False)
    assert check.exit_code == 0 and ": error:" not in check.stderr, check.stderr


@pytest.mark.parametrize("name", [name for name, case in CASES.items() if "error" in case])
def test_bad_input_is_a_one_line_error_and_writes_nothing(name: str, site: Path):
    case = CASES[name]
    result = run_import(site, *map(fixture, case["inputs"]), *case["args"])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and case["error"] in errors[0], result.stderr
    assert written(site) == []


def test_a_bad_input_does_not_stop_the_others(site: Path):
    result = run_import(site, fixture("bad/empty.vtt"), fixture("otter-srt/acme-pricing.srt"),
                        fixture("bad/not-gong.json"), "--date", "2026-10-26", "--company", "Acme Corp")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [str(site / "content/transcripts/2026/2026-10-26-acme-corp-acme-pricing.md")]
    assert "empty.vtt: error: the file is empty" in result.stderr
    assert "not-gong.json: error: this JSON is not a Gong transcript" in result.stderr


# --- the round trip: an imported transcript, tagged, builds with --strict ---------------------------------

@pytest.fixture
def gong_site(tmp_path: Path) -> Path:
    """Two personas with match_titles; the Gong call's buyers match them by job title."""
    root = tmp_path / "roundtrip"
    (root / "content" / "personas").mkdir(parents=True)
    for slug in ("head-of-revops", "cfo"):
        shutil.copy(FIXTURES / "site" / "content" / "personas" / f"{slug}.md", root / "content" / "personas")
    result = run_import(root, fixture("gong/call-transcript.json"), fixture("gong/call-details.json"))
    assert result.exit_code == 0, result.output
    return root


def _tag(path: Path, speaker: str, words: str, tag: str = "pain") -> None:
    text = path.read_text("utf-8")
    label = f"**{speaker}:**"
    start = text.index(label)
    at = text.index(words, start)
    path.write_text(text[:at] + f"[{words}]{{.{tag}}}" + text[at + len(words):], "utf-8")


def test_round_trip_a_tagged_import_builds_strict(gong_site: Path):
    path = gong_site / CASES["gong"]["written"]
    _tag(path, "Kofi Mensah", "Every Monday I get four commit numbers in four spreadsheets.")
    _tag(path, "Laura Chen", "I'll want a pilot first.", "criteria")
    result = CliRunner().invoke(main, ["check", "--strict", "-s", str(gong_site)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    quotes = CliRunner().invoke(main, ["quotes", "-s", str(gong_site), "--format", "json"], catch_exceptions=False)
    found = {(q["role"], q["timestamp"]) for q in json.loads(quotes.stdout)["quotes"]}
    assert found == {("head-of-revops", "00:00:10"), ("cfo", "01:02:05")}


def test_round_trip_a_quote_by_an_unknown_speaker_asks_for_a_role(gong_site: Path):
    path = gong_site / CASES["gong"]["written"]
    _tag(path, "Kofi Mensah", "Every Monday I get four commit numbers in four spreadsheets.")
    _tag(path, "Laura Chen", "I'll want a pilot first.", "criteria")
    _tag(path, "No", "Can you repeat that?", "objection")
    result = CliRunner().invoke(main, ["check", "--strict", "-s", str(gong_site)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "assign a role to No in the front matter" in result.stderr


# --- the command: names, never overwriting, dry runs, dates, roles, prompts -------------------------------

def test_a_second_import_gets_a_numbered_name_and_the_first_is_untouched(site: Path):
    args = [fixture("otter-txt/20261027 1530 - Acme Corp QBR.txt"), "--company", "Acme Corp"]
    first = run_import(site, *args)
    before = Path(first.stdout.strip()).read_bytes()
    second = run_import(site, *args, "--internal", "Lena Okafor")
    assert second.exit_code == 0
    assert second.stdout.strip().endswith("2026-10-27-acme-corp-qbr-2.md")
    assert Path(first.stdout.strip()).read_bytes() == before
    assert [p.name for p in written(site) if p.is_file()] == ["2026-10-27-acme-corp-qbr-2.md", "2026-10-27-acme-corp-qbr.md"]


def test_no_suffix_refuses_a_taken_name(site: Path):
    args = [fixture("otter-txt/20261027 1530 - Acme Corp QBR.txt"), "--company", "Acme Corp"]
    run_import(site, *args)
    result = run_import(site, *args, "--no-suffix")
    assert result.exit_code == 1
    assert "2026-10-27-acme-corp-qbr.md already exists" in result.stderr
    assert len([p for p in written(site) if p.is_file()]) == 1


def test_writing_leaves_no_temporary_files(site: Path):
    run_import(site, fixture("otter-txt/20261027 1530 - Acme Corp QBR.txt"))
    run_import(site, fixture("otter-txt/20261027 1530 - Acme Corp QBR.txt"))
    names = [p.name for p in written(site) if p.is_file()]
    assert names == ["2026-10-27-acme-corp-qbr-2.md", "2026-10-27-acme-corp-qbr.md"]


def test_dry_run_prints_and_writes_nothing(site: Path):
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"), fixture("otter-srt/acme-pricing.srt"),
                        "--date", "2026-10-26", "--dry-run")
    assert result.exit_code == 0
    assert "2026-10-26-acme-pricing.md (dry run: not written)" in result.stdout
    assert "2026-10-26-acme-pricing-2.md (dry run: not written)" in result.stdout
    assert "**Jamal Wright:** [00:00:01]" in result.stdout
    assert written(site) == []


def test_no_date_is_an_error_not_today(site: Path):
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"))
    assert result.exit_code == 1
    assert "acme-pricing.srt: error: the export does not say when the call was: pass --date YYYY-MM-DD" in result.stderr
    assert written(site) == []


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "14/10/2026"], "'14/10/2026' is not a date: write YYYY-MM-DD"),
    (["--date", "2026-10-26", "--role", "Jamal Wright=vp-sale"], "no persona 'vp-sale'; did you mean 'vp-sales'?"),
    (["--role", "Jamal Wright"], "write NAME=ROLE"),
    (["--format", "docx"], "'docx' is not one of"),
])
def test_usage_errors_exit_2(site: Path, args: list[str], message: str):
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"), *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert written(site) == []


def test_role_for_nobody_is_a_warning(site: Path):
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"), "--date", "2026-10-26",
                        "--role", "Jamal Wrigth=vp-sales")
    assert result.exit_code == 0
    assert "--role Jamal Wrigth: warning: nobody by this name speaks in the imported files" in result.stderr


def test_no_role_yet_quotes_each_name_so_names_with_commas_stay_apart(site: Path, tmp_path: Path):
    export = tmp_path / "call.vtt"
    export.write_text("WEBVTT\n\n00:01.000 --> 00:02.000\n<v Inglis, Jake>Hi.</v>\n\n"
                      "00:03.000 --> 00:04.000\n<v Reyes, Maria>Hello.</v>\n", "utf-8")
    result = run_import(site, str(export), "--date", "2026-03-16")
    assert result.exit_code == 0
    assert 'no role yet for "Inglis, Jake", "Reyes, Maria": set it under' in result.stderr


def test_gong_details_without_a_transcript_is_an_error(site: Path):
    result = run_import(site, fixture("gong/call-details.json"))
    assert result.exit_code == 1
    assert "call-details.json: error: Gong call details (parties) without a Gong transcript" in result.stderr


def test_gong_without_its_parties_keeps_placeholder_names(site: Path):
    result = run_import(site, fixture("gong/call-transcript.json"), "--date", "2026-11-03", "--company", "Northwind")
    assert result.exit_code == 0
    text = Path(result.stdout.strip()).read_text("utf-8")
    assert "  Speaker 1: unknown\n  Speaker 2: unknown\n" in text
    assert "import the call's details JSON (with parties) together with the transcript" in result.stderr


def test_forced_format_reads_what_auto_cannot(site: Path, tmp_path: Path):
    export = tmp_path / "call.txt"
    export.write_text("Dana Whitfield 0:04\nHello there.\n", "utf-8")  # reads as plain text? no: one Otter header
    result = run_import(site, str(export), "--format", "otter", "--date", "2026-10-14", "--title", "Intro")
    assert result.exit_code == 0
    assert "**Dana Whitfield:** [00:00:04] Hello there." in Path(result.stdout.strip()).read_text("utf-8")


def test_terminal_asks_for_the_date_and_each_unassigned_role(site: Path):
    # Speakers in order: Jamal Wright, Lena Okafor. Answers: a bad date, the date, a typo, a number, a shortcut.
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"), "--company", "Acme Corp", obj=TERMINAL,
                        input="yesterday\n2026-10-26\nvp-sale\n2\ni\n")
    assert result.exit_code == 0, result.output
    assert "is not a date" in result.output and "did you mean 'vp-sales'?" in result.output
    text = (site / "content/transcripts/2026/2026-10-26-acme-corp-acme-pricing.md").read_text("utf-8")
    assert "  Jamal Wright: head-of-revops\n  Lena Okafor: internal\n" in text


def test_terminal_does_not_ask_about_speakers_already_assigned(site: Path):
    result = run_import(site, fixture("gong/call-transcript.json"), fixture("gong/call-details.json"),
                        obj=TERMINAL, input="\n")
    assert result.exit_code == 0, result.output
    assert result.output.count("Role of ") == 1 and "Role of No in call-transcript.json" in result.output
    text = (site / CASES["gong"]["written"]).read_text("utf-8")
    assert '  "No": unknown\n' in text


def test_not_a_terminal_asks_nothing(site: Path):
    result = run_import(site, fixture("otter-srt/acme-pricing.srt"), "--date", "2026-10-26", input="vp-sales\n")
    assert result.exit_code == 0
    assert "Role of" not in result.output
    text = Path(result.stdout.strip()).read_text("utf-8")
    assert "  Jamal Wright: unknown\n  Lena Okafor: unknown\n" in text


def test_import_needs_a_content_repository(tmp_path: Path):
    result = run_import(tmp_path, fixture("otter-srt/acme-pricing.srt"))
    assert result.exit_code == 2 and "no content/ folder" in result.stderr


# --- detection, decoding and file names ------------------------------------------------------------------

@pytest.mark.parametrize(("rel", "fmt"), [
    ("zoom/GMT20261014-150000_Recording.transcript.vtt", "vtt"),
    ("teams/Acme Corp security review.vtt", "vtt"),
    ("meet/Acme Corp pilot review 2026-10-22.vtt", "vtt"),
    ("zoom-id/GMT20260316-140000_Recording.transcript.vtt", "vtt"),
    ("teams-unpadded/Northwind weekly sync.vtt", "vtt"),
    ("otter-srt/acme-pricing.srt", "srt"),
    ("otter-txt/20261027 1530 - Acme Corp QBR.txt", "otter"),
    ("gong/call-transcript.json", "gong"),
    ("gong/call-details.json", "gong-parties"),
    ("gong-embedded/quillfield-gong.json", "gong"),
    ("text/acme-notes.txt", "text"),
    ("meet-doc/Acme Corp renewal - Transcript.txt", "text"),
    ("meet-doc-dated/Brightline renewal check-in - Transcript.txt", "text"),
    ("gong-unix/harbor-freight-gong.json", "gong"),
    ("teams-txt/Acme Corp onboarding review.txt", "otter"),
    ("teams-docx/Acme Corp kickoff.txt", "vtt"),
    ("cp1252/mueller-call.txt", "text"),
])
def test_format_is_told_from_the_content(rel: str, fmt: str, tmp_path: Path):
    data = (FIXTURES / rel).read_bytes()
    text, _ = decode_export(data)
    assert detect_format(text) == fmt
    renamed = tmp_path / "export.dat"  # not from the extension
    renamed.write_bytes(data)
    assert detect_format(decode_export(renamed.read_bytes())[0]) == fmt


def test_text_opening_with_a_timestamp_is_not_json():
    assert detect_format("[00:01:02] Ana: Hi.\n[00:01:05] Bo: Hello.\n") == "text"


def test_windows_1252_is_decoded_with_a_warning():
    text, note = decode_export((FIXTURES / "cp1252/mueller-call.txt").read_bytes())
    assert "José Müller: Our last vendor’s rollout took “six weeks”" in text
    assert note and "Windows-1252" in note
    assert decode_export("Zoë: hi".encode("utf-8-sig")) == ("Zoë: hi", None)
    assert decode_export("Zoë: hi".encode("utf-16")) == ("Zoë: hi", None)


def test_a_binary_file_is_refused():
    with pytest.raises(ExportError, match="not a text file"):
        decode_export(b"\x00\x00\x00\x18ftypmp42")


@pytest.mark.parametrize(("name", "day", "title"), [
    ("20261027 1530 - Acme Corp QBR.txt", dt.date(2026, 10, 27), "Acme Corp QBR"),
    ("GMT20261014-150000_Recording.transcript.vtt", dt.datetime(2026, 10, 14, 15, tzinfo=dt.timezone.utc), None),
    ("Acme Corp pilot review 2026-10-22.vtt", dt.date(2026, 10, 22), "Acme Corp pilot review"),
    ("acme-discovery_transcript.srt", None, "Acme discovery"),
    ("captions.vtt", None, None),
    ("2026-13-45 notes.txt", None, "2026-13-45 notes"),
])
def test_date_and_title_from_the_file_name(name, day, title):
    assert from_file_name(Path(name)) == (day, title)


# --- the parsers: text in, turns out ---------------------------------------------------------------------

def test_zoom_cues_of_one_speaker_merge_and_keep_the_first_timestamp():
    call = parse_vtt((FIXTURES / "zoom/GMT20261014-150000_Recording.transcript.vtt").read_text("utf-8"))
    dana = [t for t in call.turns if t.speaker == "Dana Whitfield"]
    assert dana[1].start == 4 * 60 + 12
    assert dana[1].text.startswith("Honestly it's a scramble. We spend the last four days of every quarter reconciling")
    assert call.speakers == ("Sam Ortiz", "Dana Whitfield", "Priya Raman")


def test_teams_voice_spans_cue_ids_and_styling():
    call = parse_vtt((FIXTURES / "teams/Acme Corp security review.vtt").read_text("utf-8-sig"))
    assert [t.speaker for t in call.turns] == ["Marcus Bell", "Wes Dunaway (Guest)", "Marcus Bell",
                                               "Wes Dunaway (Guest)", "Renata Solis", "Wes Dunaway (Guest)"]
    assert call.turns[1] == Turn("Wes Dunaway (Guest)", 7, "Thanks. I went through the questionnaire and I have six "
                                 "items, and one of them is a problem, so let's start there.")
    assert call.turns[3].text == "Offboarding. When a rep leaves, I need every SaaS account gone the same day."
    assert not any("0f3c7a9e" in t.text or "<" in t.text for t in call.turns)


def test_teams_two_voices_in_one_cue():
    call = parse_vtt("WEBVTT\n\nab12/1-0\n00:00:01.000 --> 00:00:03.000\n<v Ana>Yes.</v> <v Bo>No.</v>\n")
    assert call.turns == (Turn("Ana", 1, "Yes."), Turn("Bo", 1, "No."))


def test_google_meet_names_separators_and_blank_lines_inside_cues():
    call = parse_vtt((FIXTURES / "meet/Acme Corp pilot review 2026-10-22.vtt").read_text("utf-8"))
    assert call.turns == (
        Turn("Jordan Lee", 8, "I wanted to start with a little background on how your team runs the pilot today. "
                              "What changed since last month?"),
        Turn("Carla Mendes", 16, "Honestly, the managers stopped exporting to Sheets. That alone saves me a day a week."),
        Turn("Jordan Lee", 24, "That's great to hear. Any gaps?"),
        Turn("Carla Mendes", 24, "The HubSpot card. It doesn't show expansion deals yet, and that's half our pipeline."),
    )


def test_vtt_notes_styles_and_cue_settings_are_not_speech():
    text = ("WEBVTT\nKind: captions\n\nSTYLE\n::cue { color: yellow }\n\nNOTE recorded by Zoom\n\n"
            "1\n00:01.000 --> 00:04.000 align:start position:0%\nAna: <i>Hello</i> &amp; welcome.\n\n"
            "NOTE\nsecond note\n\n2\n00:05.000 --> 00:06.000\nAna: Again.\n")
    assert parse_vtt(text).turns == (Turn("Ana", 1, "Hello & welcome. Again."),)


def test_cues_without_a_label_continue_the_speaker_and_a_file_without_names_is_unknown():
    call = parse_srt((FIXTURES / "otter-srt/acme-pricing.srt").read_text("utf-8"))
    assert call.turns[2].text.endswith("it has to go to the CFO and she's in a no-new-tools mood since the reorg.")
    nameless = parse_srt("1\n00:00:01,000 --> 00:00:02,000\nhello\n\n2\n00:00:03,000 --> 00:00:04,000\nthere\n")
    assert nameless.turns == (Turn(UNKNOWN_SPEAKER, 1, "hello there"),)
    assert "names no speakers" in nameless.notes[0]


def test_a_speaker_on_the_cue_id_line_names_the_words_below_the_timing():
    call = parse_vtt('WEBVTT\n\n1 "Doe, Jane" (1063281152)\n00:00:01.000 --> 00:00:04.000\nHi: there.\n\n'
                     '2\n00:00:05.000 --> 00:00:06.000\nBo: Hello.\n')
    assert call.turns == (Turn("Doe, Jane", 1, "Hi: there."), Turn("Bo", 5, "Hello."))


def test_an_unreadable_timing_among_readable_ones_is_a_warning_and_its_words_stay():
    call = parse_vtt("WEBVTT\n\n0:0:1.0 --> 0:0:2.0\nAna: One.\n\n00.03 --> 00.04\nTwo.\n\n0:0:5.0 --> 0:0:6.0\nBo: Three.\n")
    assert call.turns == (Turn("Ana", 1, "One. Two."), Turn("Bo", 5, "Three."))
    assert call.notes == ("1 timing line(s) could not be read, so those lines have no time in the transcript",)


def test_a_colon_in_speech_is_not_a_speaker():
    call = parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\nAna: So\n\n00:02.000 --> 00:03.000\n"
                     "here's the deal: we pay in May.\n")
    assert call.turns == (Turn("Ana", 1, "So here's the deal: we pay in May."),)


def test_otter_text_reads_minutes_and_hours_and_keeps_placeholders():
    call = parse_otter((FIXTURES / "otter-txt/20261027 1530 - Acme Corp QBR.txt").read_text("utf-8"))
    assert [(t.speaker, t.start) for t in call.turns] == [
        ("Lena Okafor", 4), ("Dana Whitfield", 11), ("Unknown Speaker", 25), ("Speaker 2", 27),
        ("Dana Whitfield", 58 * 60 + 41), ("Lena Okafor", 3604), ("Speaker 2", 3733)]
    assert call.turns[4].text.endswith("Every Monday. And it takes me most of the morning.")
    assert "otter.ai" not in " ".join(t.text for t in call.turns)


def test_teams_text_without_times_takes_the_title_and_date_from_above_the_first_turn():
    call = parse_otter("Weekly Sync\nMarch 16, 2026, 3:02PM\n28m 51s\n\nJane Doe\nHi all.\n\nOmar Haddad\nOkay\n\n"
                       "Jane Doe\nLet's start.\nFirst, the pipeline.\n")
    assert (call.title, call.started, call.notes) == ("Weekly Sync", dt.date(2026, 3, 16), ())
    assert call.turns == (Turn("Jane Doe", None, "Hi all."), Turn("Omar Haddad", None, "Okay"),
                          Turn("Jane Doe", None, "Let's start. First, the pipeline."))


def test_a_name_alone_among_timed_speaker_lines_is_speech():
    call = parse_otter("Jane Doe  0:03\nHi.\n\nYes Indeed\nthat is right.\n\nOmar Haddad  0:09\nOkay.\n")
    assert call.turns == (Turn("Jane Doe", 3, "Hi. Yes Indeed that is right."), Turn("Omar Haddad", 9, "Okay."))


def test_captions_whose_names_cannot_be_placed_are_a_warning_naming_the_layout():
    call = parse_vtt("WEBVTT\n\n00:01.000 --> 00:02.000\nhello\nJane Doe\n\n00:03.000 --> 00:04.000\nthere\nJane Doe\n")
    assert {t.speaker for t in call.turns} == {UNKNOWN_SPEAKER}
    assert call.notes == ("every line of this VTT file is 'Unknown Speaker', but 'Jane Doe' looks like a speaker's "
                          "name on a line of its own, as in a Teams transcript saved as text, where import does not "
                          "look for one: check the transcript against the export",)


def test_otter_header_with_one_space():
    assert parse_otter("Dana Whitfield 1:02:13\nHello.\n").turns == (Turn("Dana Whitfield", 3733, "Hello."),)


def test_plain_text_labels_clock_lines_and_continuations():
    call = parse_text((FIXTURES / "text/acme-notes.txt").read_text("utf-8"))
    assert call.turns == (
        Turn("Sam Ortiz", 0, "Thanks for the follow-up call. Where did we land on the security review?"),
        Turn("Dana Whitfield", None, "Wes signed off on the SSO piece. The SCIM question is still open."),
        Turn("Priya Raman", 300, "And from my side the rollout plan looked fine: six weeks, two people."),
        Turn("Sam Ortiz", None, "Great. Next steps: I'll send the SCIM timeline by Friday."),
    )
    assert parse_text("[00:01:02] Ana: Hi.\n").turns == (Turn("Ana", 62, "Hi."),)
    assert call.notes == ("skipped 1 line(s) before the first 'Name:' line",)


def test_a_turn_that_ends_in_transcript_is_words_not_the_meet_heading():
    """Any line ending '- Transcript' was taken for a Meet document's heading: a rep's words became the call's title
    (and the file's name), and the line above the first turn was dropped unannounced (found by a bug hunt)."""
    call = parse_text("Acme QBR notes, budget approved\nSam Ortiz: Can you send me the recording - transcript\n"
                      "Dana Whitfield: Sure.\nSam Ortiz: Thanks.\n")
    assert call.title is None
    assert call.turns[0] == Turn("Sam Ortiz", None, "Can you send me the recording - transcript")
    assert call.notes == ("skipped 1 line(s) before the first 'Name:' line",)


def test_a_zoom_speaker_heard_once_under_any_display_name_keeps_their_words():
    """Zoom opens every cue with 'Name:'. A buyer who spoke once as 'Dana Whitfield - Acme Corp' (or 'jsmith') was
    not taken for a speaker: her answer went to the rep before her, silently (found by a bug hunt)."""
    said = [("Sam Ortiz", "Thanks all for joining."), ("Priya Raman", "Glad to be here."),
            ("Dana Whitfield - Acme Corp", "Honestly, the forecast is a mess."), ("Sam Ortiz", "Understood."),
            ("Priya Raman", "Same for us."), ("jsmith", "And for me."), ("Sam Ortiz", "Let us fix that.")]
    vtt = "WEBVTT\n\n" + "".join(f"{n}\n00:00:{n:02d}.000 --> 00:00:{n:02d}.900\n{who}: {words}\n\n"
                                  for n, (who, words) in enumerate(said, 1))
    call = parse_vtt(vtt)
    assert [(t.speaker, t.text) for t in call.turns] == said
    # A cue with no words (a timing line alone) opens with no label and changes nothing (found by a review)
    assert [(t.speaker, t.text) for t in parse_vtt(vtt + "8\n00:00:08.000 --> 00:00:08.900\n\n").turns] == said
    # Where a cue opens with no label (a speaker's words run on), a cue's 'Bottom line:' is words (found by a review)
    run_on = vtt + "8\n00:00:08.000 --> 00:00:08.900\nand the rest of it.\n\n9\n00:00:09.000 --> 00:00:09.900\n" \
        "Bottom line: we cannot trust the numbers.\n\n"
    assert parse_vtt(run_on).turns[-1] == Turn("Sam Ortiz", 7, "Let us fix that. and the rest of it. Bottom line: we "
                                               "cannot trust the numbers.")


def test_an_arrow_in_a_cues_words_is_words_not_a_timing():
    """A cue's line '2025 --> 2026 numbers are bad' was taken for a timing that could not be read: the words were
    lost, and the note spoke of timings only (found by a bug hunt)."""
    call = parse_srt("1\n00:00:01,000 --> 00:00:04,000\nDana Whitfield: we moved\n2025 --> 2026 numbers are bad\n\n"
                     "2\n00:00:05,000 --> 00:00:06,000\nSam Ortiz: ok\n")
    assert call.turns[0] == Turn("Dana Whitfield", 1, "we moved 2025 --> 2026 numbers are bad")
    assert call.notes == ()


def test_a_label_kept_as_words_is_said_so():
    """Notes where 'Next steps:' opens a line once: kept as the words of the turn before (it may be a heading),
    and the import says so, so a speaker taken for words is never silent."""
    call = parse_text("Sam Ortiz: Where are we?\nDana Whitfield: Close.\nSam Ortiz: Good.\nNext steps: send the deck\n")
    assert call.turns[-1] == Turn("Sam Ortiz", None, "Good. Next steps: send the deck")
    assert call.notes == ("1 line(s) open with a label read as words, not a speaker ('Next steps'): if one is a "
                          "speaker, their words are in the turn before; write the name as the others are written and "
                          "import again",)


def test_google_meet_transcript_document_heading_and_closing_lines():
    call = parse_text((FIXTURES / "meet-doc/Acme Corp renewal - Transcript.txt").read_text("utf-8"))
    assert (call.title, call.started, call.notes) == ("Acme Corp renewal", dt.date(2026, 11, 2), ())
    assert call.turns[-1] == Turn("Laura Chen", None, "Then I want those seats priced as viewers.")


@pytest.mark.parametrize(("first_line", "day"), [
    ("Mar 16, 2026", dt.date(2026, 3, 16)),
    ("March 16, 2026", dt.date(2026, 3, 16)),
    ("Monday, March 16, 2026", dt.date(2026, 3, 16)),
    ("16 March 2026", dt.date(2026, 3, 16)),
    ("Sept 3rd, 2026", dt.date(2026, 9, 3)),
    ("Feb 30, 2026", None),        # no such day: ask for --date rather than guess
    ("Marching orders", None),
])
def test_meet_document_date_in_words_on_the_first_line(first_line: str, day: dt.date | None):
    call = parse_text(f"{first_line}\nCall - Transcript\n00:00:00\nAna: Hi.\nBo: Hello.\nTranscription ended after 00:28:51\n")
    assert call.started == day
    assert call.turns == (Turn("Ana", 0, "Hi."), Turn("Bo", None, "Hello."))


def test_gong_sentences_parties_and_metadata():
    details = (FIXTURES / "gong/call-details.json").read_text("utf-8")
    [call] = parse_gong((FIXTURES / "gong/call-transcript.json").read_text("utf-8"),
                        read_gong_calls(json.loads(details)))
    assert call.title == "Northwind Traders | Forecasting discovery"
    assert call.company == "Northwind Traders"
    assert call.recording == "https://app.gong.io/call?id=7782342274025937895"
    assert call.started == dt.datetime.fromisoformat("2026-11-03T16:02:11-08:00")
    assert call.turns[1] == Turn("Kofi Mensah", 10, "Every Monday I get four commit numbers in four spreadsheets. "
                                 "I spend the afternoon stitching them into one roll-up for the CRO. And by Thursday it's stale.")
    assert call.turns[2].start == 3725
    assert Party("Lena Okafor", "Enterprise Account Executive", True) in call.parties
    assert Party("Kofi Mensah", "Director, Revenue Operations", False) in call.parties


def test_gong_unix_start_is_the_day_in_the_sites_timezone(site: Path, tmp_path: Path):
    (site / "persona-site.toml").write_text('timezone = "America/Los_Angeles"\n', "utf-8")
    doc = json.loads((FIXTURES / "gong-unix/harbor-freight-gong.json").read_text("utf-8"))
    doc["calls"][0]["metaData"]["started"] = 1773712800  # 02:00 UTC on 17 March: the evening of the 16th in LA
    export = tmp_path / "gong.json"
    export.write_text(json.dumps(doc), "utf-8")
    result = run_import(site, str(export))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().endswith("2026-03-16-harbor-logistics-pricing-follow-up.md")


@pytest.mark.parametrize("started", ["not a date", True, 10**20])
def test_gong_start_that_is_not_a_time_asks_for_the_date(site: Path, tmp_path: Path, started):
    doc = json.loads((FIXTURES / "gong-unix/harbor-freight-gong.json").read_text("utf-8"))
    doc["calls"][0]["metaData"]["started"] = started
    export = tmp_path / "gong.json"
    export.write_text(json.dumps(doc), "utf-8")
    result = run_import(site, str(export))
    assert result.exit_code == 1 and "does not say when the call was: pass --date YYYY-MM-DD" in result.stderr


@pytest.mark.parametrize("start", ["1e400", "-1e400", "NaN", "Infinity", "1e300", "360000000", "396000000"])
def test_gong_sentence_start_out_of_range_is_no_time_and_no_crash(start):
    """JSON's 1e400 is Python's inf, and inf // 1000 is NaN: it made a traceback that lost the rest of the command's
    files (found by a bug hunt). Such a start is no time, as a start that is not a number."""
    text = ('{"callTranscripts": [{"callId": "1", "transcript": [{"speakerId": "1", "sentences": '
            f'[{{"start": {start}, "text": "hello there"}}, {{"start": 61000, "text": "and then"}}]}}]}}]}}')
    [call] = parse_export(text, "gong")
    assert call.turns == (Turn("Speaker 1", 61, "hello there and then"),)  # the turn's time: its first one known


def test_a_start_of_100_hours_or_more_is_written_with_no_timestamp(site: Path, tmp_path: Path):
    """A transcript's timestamp has at most two digits of hours: '[100:00:00]' would be read as words, so an import
    writes such a turn with no time rather than one the build ignores (found by a review)."""
    notes = tmp_path / "long call.txt"
    notes.write_text("99:59:59\nAna Ruiz: Still here.\n100:00:00\nBo Chen: And me.\n", "utf-8")
    result = run_import(site, str(notes), "--date", "2026-11-02")
    assert result.exit_code == 0, result.output
    [made] = [p for p in written(site) if p.is_file()]
    text = made.read_text("utf-8")
    assert "[99:59:59] Still here." in text.replace("**Ana Ruiz:** ", "")
    assert "**Bo Chen:** And me." in text and "100:00:00" not in text


def test_gong_parties_inside_a_call_transcript_and_several_calls():
    doc = {"callTranscripts": [
        {"callId": "1", "parties": [{"speakerId": "a", "name": "Ana Ruiz", "title": "CFO", "affiliation": "External"},
                                    {"speakerId": "b", "name": "Ana Ruiz", "affiliation": "Internal"}],
         "transcript": [{"speakerId": "a", "sentences": [{"start": 1000, "end": 2000, "text": "One."}]},
                        {"speakerId": "b", "sentences": [{"start": 3000, "end": 4000, "text": "Two."}]}]},
        {"callId": "2", "transcript": [{"speakerId": "x", "sentences": [{"start": 0, "end": 1, "text": "Three."}]}]},
    ]}
    first, second = parse_export(json.dumps(doc), "gong")
    assert first.speakers == ("Ana Ruiz", "Ana Ruiz (2)")
    assert first.parties == (Party("Ana Ruiz", "CFO", False), Party("Ana Ruiz (2)", None, True))
    assert second.turns == (Turn("Speaker 1", 0, "Three."),)


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("{\"callTranscripts\": [{\"callId\": \"1\", \"transcript\": []}]}", "has no sentences"),
    ("{\"callTranscripts\": ", "this is not valid JSON (line 1"),
])
def test_gong_errors(text: str, message: str):
    with pytest.raises(ExportError, match=message.replace("(", r"\(")):
        parse_export(text, "gong")


# --- roles ------------------------------------------------------------------------------------------------

def _persona(slug: str, *titles: str) -> Persona:
    return Persona(slug, slug, "", (), titles, (), "", f"personas/{slug}.md")


PERSONAS = (_persona("head-of-revops", "RevOps", "Revenue Operations"), _persona("vp-sales", "VP Sales", "Sales"),
            _persona("cfo", "CFO", "FP&A"))


@pytest.mark.parametrize(("title", "role"), [
    ("Director, Revenue Operations", "head-of-revops"),
    ("revops lead", "head-of-revops"),
    ("VP Sales, EMEA", "vp-sales"),       # 'VP Sales' is longer than 'Sales'
    ("Manager, FP&A", "cfo"),
    ("Sales Engineer", "vp-sales"),
    ("CFOs' assistant", None),             # a whole word or phrase, not a piece of one
    ("Solutions Architect", None),
])
def test_match_titles(title: str, role: str | None):
    assert match_title(title, PERSONAS)[0] == role


def test_a_title_matching_two_personas_equally_is_left_unassigned():
    role, note = match_title("CFO and RevOp", (_persona("cfo", "CFO"), _persona("ops", "Rev"), _persona("x", "and")))
    assert role is None and "cfo and x" in note


def test_role_order_given_then_internal_then_titles_and_placeholders_are_never_guessed():
    call = Call((Turn("Ana", 0, "a"), Turn("Bo", 1, "b"), Turn("Cy", 2, "c"), Turn("Speaker 1", 3, "d")),
                (Party("Ana", "CFO"), Party("Bo", "CFO", internal=True), Party("Cy", "RevOps"),
                 Party("Speaker 1", "VP Sales")))
    roles, _ = assign_roles(call, PERSONAS, {"cy": "vp-sales"}, set())
    assert roles == {"Ana": "cfo", "Bo": "internal", "Cy": "vp-sales", "Speaker 1": None}


# --- the file written ------------------------------------------------------------------------------------

def test_escaped_text_never_becomes_markup_or_a_quote():
    said = "[we said]{.pain} *really* _so_ `code` <b>x</b> &amp; ~~no~~ \\ [link](http://x)"
    line = f"**Ana:** {escape_markdown(said)}"
    for lead in ("# heading", "> quote", "* item", "[a]{.pain}"):
        assert escape_markdown(lead)[0] == "\\"
    found = extract_quotes(line, Walk.start(path="t.md", line_offset=0, tags={"pain": "Pain"},
                                            participants=(Participant("Ana", "cfo", None),), render_body=True))
    assert found.quotes == [] and found.diagnostics == []
    assert "<em>" not in found.body_html and "<code>" not in found.body_html and "<a " not in found.body_html
    assert "<s>" not in found.body_html and "&amp;amp;" in found.body_html


_names = st.text(min_size=1, max_size=40).map(clean_name)
_titles = st.text(min_size=1, max_size=60).map(clean_text).filter(bool)


@settings(max_examples=300, deadline=None)
@given(title=_titles, company=_titles, names=st.lists(_names, min_size=1, max_size=4, unique_by=str.casefold),
       job=_titles)
def test_front_matter_round_trips_through_the_strict_loader(title, company, names, job):
    speakers = tuple(Speaker(name, "unknown", job if i == 0 else None) for i, name in enumerate(names))
    turns = tuple(Turn(name, 1, "Hi.") for name in names)
    doc = Transcript(title, dt.date(2026, 10, 14), company, speakers, "https://x.example/a?b=1#c", turns)
    text = render(doc)
    meta = split_front_matter(text).meta
    assert meta["title"] == title and meta["company"] == company and meta["date"] == "2026-10-14"
    assert list(meta["participants"]) == list(names)
    assert meta["participants"][names[0]] == {"role": "unknown", "title": job}
    assert meta["recording"] == "https://x.example/a?b=1#c"
    transcript, problems = read_transcript("content/transcripts/t.md", text, Rules({}, {}, ZoneInfo("UTC")), None)
    assert problems == [] and [p.name for p in transcript.participants] == names


@pytest.mark.parametrize(("value", "written"), [
    ("Acme Corp", "Acme Corp"), ("No", '"No"'), ("yes", '"yes"'), ("null", '"null"'), ("1.10", '"1.10"'),
    ("2026-10-14", '"2026-10-14"'), ("VP Sales, EMEA", '"VP Sales, EMEA"'), ("Acme: the call", '"Acme: the call"'),
    ("O'Brien & Co.", "O'Brien & Co."), ("@dana", '"@dana"'), ("#1 fan", '"#1 fan"'), ('Say "hi"', '"Say \\"hi\\""'),
    ("https://app.gong.io/call?id=1", "https://app.gong.io/call?id=1"),
])
def test_yaml_scalars_are_quoted_when_yaml_would_misread_them(value: str, written: str):
    assert yaml_scalar(value) == written


def test_imported_speakers_read_back_as_participants():
    names = [clean_name(n) for n in ("No", "Dana [x]{.pain}", "a:", "**Bo**", "  ---  ")]
    assert names == ["No", "Dana x{.pain}", "a:", "Bo", "---"]
    doc = Transcript("Call", dt.date(2026, 10, 14), None, tuple(Speaker(n, "unknown") for n in names), None,
                     tuple(Turn(n, 5, "[two]{.pain} # one") for n in names))
    transcript, problems = read_transcript("content/transcripts/t.md", render(doc),
                                           Rules({"pain": "Pain"}, {}, ZoneInfo("UTC")), None)
    assert problems == [] and [p.name for p in transcript.participants] == names


@pytest.mark.parametrize(("company", "title", "path"), [
    ("Acme Corp", "Discovery call", "2026/2026-10-14-acme-corp-discovery-call.md"),
    ("Acme Corp", "Acme Corp discovery call", "2026/2026-10-14-acme-corp-discovery-call.md"),
    ("Acme", "Acmeland kickoff", "2026/2026-10-14-acme-acmeland-kickoff.md"),
    (None, "Café & Crème: Intro", "2026/2026-10-14-cafe-creme-intro.md"),
    ("株式会社", "Call", "2026/2026-10-14-call.md"),
])
def test_transcript_path(company, title, path):
    assert str(transcript_path(dt.date(2026, 10, 14), company, title)) == f"content/transcripts/{path}"


def test_long_slugs_are_cut_at_a_word():
    assert slugify("word " * 30) == "-".join(["word"] * 12)
