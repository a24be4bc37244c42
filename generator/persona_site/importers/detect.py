"""From the bytes of an export to its text and its format."""

from __future__ import annotations

from ..content import decode
from .call import ExportError
from .captions import TIMING
from .gong import kind_of, load_json
from .text import is_labelled_line, is_otter_header, speaker_line_turns

FORMATS = ("vtt", "srt", "otter", "gong", "text")


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
    if stripped[0] == "{":  # Gong's documents are objects; '[00:01:02] Dana: ...' is text
        kind = kind_of(load_json(stripped))
        if kind is None:
            raise ExportError("this JSON is not a Gong transcript: expected a 'callTranscripts' list")
        return kind
    lines = [line.strip() for line in stripped.splitlines()]
    for line in lines[:50]:
        if match := TIMING.match(line):
            return "srt" if "," in match["start"] else "vtt"
    first = next(line for line in lines if line)
    labelled = sum(is_labelled_line(line) for line in lines[:100])
    if is_otter_header(first) or speaker_line_turns(lines[:100]) > max(labelled, 1):
        return "otter"
    if labelled:
        return "text"
    raise ExportError("cannot tell what kind of export this is: import reads captions (.vtt, .srt), Gong JSON, and "
                      "text with 'Name: words' lines or each name on a line of its own (Otter, Teams, Google Meet); "
                      "if it is one of those, pass --format vtt, srt, gong, text or otter")
