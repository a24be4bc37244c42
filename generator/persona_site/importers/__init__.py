"""Call-recorder exports -> transcripts: pure parsers (text in, turns and metadata out) and the file they become.

Only persona_site.importer (the `import` command) reads and writes files and talks to the user.
"""

from __future__ import annotations

from collections.abc import Mapping

from .call import Call, ExportError, Party, Turn
from .captions import parse_srt, parse_vtt
from .detect import FORMATS, decode_export, detect_format
from .naming import from_file_name
from .gong import GongCall, load_json, parse_gong, read_gong_calls
from .text import parse_otter, parse_text

__all__ = ["FORMATS", "Call", "ExportError", "GongCall", "Party", "Turn", "decode_export", "detect_format",
           "from_file_name", "load_json", "parse_export", "read_gong_calls"]


def parse_export(text: str, fmt: str, gong_details: Mapping[str, GongCall] | None = None) -> list[Call]:
    """The calls in one export of a known format ('vtt', 'srt', 'otter', 'gong', 'text'); raises ExportError."""
    if not text.strip():
        raise ExportError("the file is empty")
    if fmt == "gong":
        return parse_gong(text, gong_details)
    parser = {"vtt": parse_vtt, "srt": parse_srt, "otter": parse_otter, "text": parse_text}[fmt]
    return [parser(text)]
