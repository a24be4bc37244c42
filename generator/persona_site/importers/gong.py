"""Gong's API JSON: transcripts (/v2/calls/transcript) joined with the calls' parties (/v2/calls/extensive).

The parties come embedded (a `calls` list beside `callTranscripts`, or `parties`
in a call transcript) or as a second file; they are joined by call id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..frontmatter_yaml import fold
from .call import Call, Cue, ExportError, Party, clean_name, clean_text, merge_cues
from .document import STAMPED_UNDER


@dataclass(frozen=True)
class GongCall:
    """What Gong's call details say about one call."""

    parties: dict[str, Party]
    """Party by speakerId."""
    title: str | None = None
    started: dt.datetime | None = None
    company: str | None = None
    url: str | None = None


def load_json(text: str) -> object:
    """The JSON document, or ExportError naming the first syntax error."""
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ExportError(f"this is not valid JSON (line {exc.lineno}: {exc.msg})") from None


def kind_of(doc: object) -> str | None:
    """'gong' for a transcript, 'gong-parties' for call details, None for other JSON."""
    if isinstance(doc, dict) and isinstance(doc.get("callTranscripts"), list):
        return "gong"
    if isinstance(doc, dict) and isinstance(doc.get("calls"), list) and any(
            isinstance(c, dict) and "parties" in c for c in doc["calls"]):
        return "gong-parties"
    return None


def read_gong_calls(doc: object) -> dict[str, GongCall]:
    """Call id -> details, from an /v2/calls/extensive document (or the `calls` beside a transcript)."""
    calls = doc.get("calls") if isinstance(doc, dict) else None
    found = {}
    for call in calls if isinstance(calls, list) else ():
        if not isinstance(call, dict):
            continue
        meta = call.get("metaData") if isinstance(call.get("metaData"), dict) else {}
        call_id = str(meta.get("id") or call.get("id") or "")
        found[call_id] = GongCall(_parties(call.get("parties")), _text(meta.get("title")),
                                  _when(meta.get("started") or meta.get("scheduled")),
                                  _account(call.get("context")), _text(meta.get("url")))
    return found


def parse_gong(text: str, details: Mapping[str, GongCall] | None = None) -> list[Call]:
    """Every call in a Gong transcript document; details from a second file fill in names and titles."""
    doc = load_json(text)
    if kind_of(doc) == "gong-parties":
        raise ExportError("this is Gong call details (parties), not a transcript: "
                          "import it together with the transcript JSON")
    if kind_of(doc) != "gong":
        raise ExportError("this JSON is not a Gong transcript: expected a 'callTranscripts' list")
    known = {**read_gong_calls(doc), **(details or {})}
    calls = []
    for entry in doc["callTranscripts"]:
        if not isinstance(entry, dict):
            continue
        call_id = str(entry.get("callId") or "")
        info = known.get(call_id) or GongCall({})
        if "parties" in entry:
            info = GongCall(_parties(entry["parties"]), info.title, info.started, info.company, info.url)
        call = _call(entry.get("transcript"), info, call_id)
        if call.turns:
            calls.append(call)
    if not calls:
        raise ExportError("this Gong transcript has no sentences")
    return calls


def _call(monologues: object, info: GongCall, call_id: str) -> Call:
    names: dict[str, str] = {}
    cues = []
    for monologue in monologues if isinstance(monologues, list) else ():
        if not isinstance(monologue, dict):
            continue
        speaker = _speaker(str(monologue.get("speakerId") or ""), info, names)
        for sentence in monologue.get("sentences") or ():
            if isinstance(sentence, dict) and isinstance(sentence.get("text"), str):
                start = sentence.get("start")
                seconds = int(start // 1000) if isinstance(start, (int, float)) and 0 <= start < _LONGEST_MS else None
                cues.append(Cue(speaker, seconds, sentence["text"]))
    parties = tuple(Party(names[sid], info.parties[sid].title, info.parties[sid].internal)
                    for sid in names if sid in info.parties)
    notes = ()
    if len(parties) < len(names):
        notes = (f"Gong call {call_id or '(no id)'}: no party details for some speakers, so they are "
                 "'Speaker N': import the call's details JSON (with parties) together with the transcript",)
    return Call(merge_cues(cues), parties, info.title, info.started, info.company, info.url, notes)


_LONGEST_MS = STAMPED_UNDER * 1000
"""A sentence's start (ms from the call's start) no timestamp can say is no time: 1e300 made one 290 digits long."""


def _speaker(speaker_id: str, info: GongCall, names: dict[str, str]) -> str:
    if speaker_id not in names:
        party = info.parties.get(speaker_id)
        name = party.name if party else f"Speaker {sum(1 for s in names if s not in info.parties) + 1}"
        taken = {fold(n) for n in names.values()}
        unique, n = name, 2
        while fold(unique) in taken:  # two parties with one name stay two speakers
            unique, n = f"{name} ({n})", n + 1
        names[speaker_id] = unique
    return names[speaker_id]


def _parties(value: object) -> dict[str, Party]:
    parties = {}
    for party in value if isinstance(value, list) else ():
        if not isinstance(party, dict) or not party.get("speakerId"):
            continue  # an invitee who never spoke
        name = _text(party.get("name")) or _text(party.get("emailAddress"))
        if name:
            internal = str(party.get("affiliation", "")).casefold() == "internal"
            parties[str(party["speakerId"])] = Party(clean_name(name), _text(party.get("title")), internal)
    return parties


def _account(context: object) -> str | None:
    """The CRM account's name from Gong's call context, when it is there."""
    for system in context if isinstance(context, list) else ():
        for obj in (system.get("objects") or ()) if isinstance(system, dict) else ():
            if isinstance(obj, dict) and str(obj.get("objectType", "")).casefold() == "account":
                for item in obj.get("fields") or ():
                    if isinstance(item, dict) and item.get("name") == "Name" and _text(item.get("value")):
                        return _text(item["value"])
    return None


def _when(value: object) -> dt.datetime | None:
    """'2026-11-03T16:02:11-08:00', or Unix time in seconds (1773761412) as Gong's API example has it."""
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, dt.timezone.utc)
        return dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except (ValueError, OverflowError, OSError):
        return None


def _text(value: object) -> str | None:
    return clean_text(value) or None if isinstance(value, str) else None
