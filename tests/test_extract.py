"""Quote extraction cases from tests/fixtures/extract/*.md (markdown-it-py's fixture style)."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path

import pytest

from persona_site.config import DEFAULT_TAGS
from persona_site.reader import Rules, read_transcript

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
FRONT_MATTER = """\
---
title: Case
date: 2026-10-14
company: Acme Corp
participants:
  Dana Whitfield: head-of-revops
  Priya Raman: {role: vp-sales, title: VP Sales}
  Sam Ortiz: internal
  Lee Park: unknown
---
"""
OFFSET = FRONT_MATTER.count("\n")
ROLES = {"head-of-revops": "head-of-revops", "revops-lead": "head-of-revops", "vp-sales": "vp-sales"}


def _cases():
    for file in sorted(FIXTURES.glob("*.md")):
        text = file.read_text("utf-8")
        for match in re.finditer(r"^# ([^\n]+)\n\.\n(.*?)^\.\n(.*?)^\.\n", text, re.MULTILINE | re.DOTALL):
            yield pytest.param(match[2], match[3], id=f"{file.stem}: {match[1]}")


def _extract(body: str):
    return read_transcript("content/transcripts/case.md", FRONT_MATTER + body,
                           Rules(DEFAULT_TAGS, ROLES, zoneinfo.ZoneInfo("UTC")), None)


@pytest.mark.parametrize(("body", "expected"), list(_cases()))
def test_extraction(body: str, expected: str) -> None:
    transcript, diagnostics = _extract(body)
    got = [f"L{d.line - OFFSET} {d.severity}: {d.message}" for d in diagnostics]
    if transcript:
        for q in transcript.quotes:
            ident = f" {q.id}" if not re.fullmatch(r"q-[0-9a-f]{10}(-\d+)?", q.id) else ""
            got.append(f"L{q.line - OFFSET} {q.role} {','.join(q.tags)} {q.timestamp or '-'}{ident} | {q.text}")
    wanted = [line for line in expected.splitlines() if line.strip()]
    assert len(got) == len(wanted), "\n".join(got)
    for line, want in zip(got, wanted):
        if " error: " in want or " warning: " in want:
            head, fragment = want.split(": ", 1)
            assert line.startswith(head) and fragment in line, line
        else:
            assert line == want


def test_quote_ids_are_stable_and_unique() -> None:
    body = "**Dana Whitfield:** [Again.]{.pain}\n\n**Priya Raman:** [Again.]{.pain}\n"
    first, _ = _extract(body)
    second, _ = _extract("Intro line.\n\n" + body)
    assert [q.id for q in first.quotes] == [q.id for q in second.quotes]
    assert len({q.id for q in first.quotes}) == 2


def test_quote_id_changes_with_the_words() -> None:
    a, _ = _extract("**Dana Whitfield:** [One.]{.pain}\n")
    b, _ = _extract("**Dana Whitfield:** [Two.]{.pain}\n")
    assert a.quotes[0].id != b.quotes[0].id


def test_html_keeps_inline_markdown_and_escapes_raw_html() -> None:
    t, _ = _extract("**Dana Whitfield:** [We *never* trust <b>x</b>]{.pain}\n")
    assert t.quotes[0].html == "We <em>never</em> trust &lt;b&gt;x&lt;/b&gt;"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])  # "\r": a classic Mac's line end, as markdown-it reads it
@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_line_numbers_count_front_matter_bom_and_crlf(newline: str, bom: str) -> None:
    body = "\n**Dana Whitfield:** Hi.\n\n[Here.]{.pain}\n"
    text = bom + (FRONT_MATTER + body).replace("\n", newline)
    t, problems = read_transcript("content/transcripts/case.md", text, Rules(DEFAULT_TAGS, ROLES, zoneinfo.ZoneInfo("UTC")),
                                  None)
    assert problems == []
    assert t.quotes[0].line == OFFSET + 4
