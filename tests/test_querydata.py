"""The query page's data (spec section 6): month shards and their manifest hold every quote, compactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import Repo
from persona_site.querydata import COLUMNS

ROOT = Path(__file__).resolve().parents[1]


def built(root: Path, config: str = "") -> Path:
    shutil.copytree(ROOT / "content", root / "content")
    repo = Repo(root)
    repo.write("persona-site.toml", config)
    repo.commit_all("sample", date="2026-11-25T12:00:00+00:00")
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    return root / "site"


def decoded(site: Path) -> list[dict]:
    """Every quote of every shard, newest month first, as query.js reads them."""
    manifest = json.loads((site / "data/quotes/index.json").read_text("utf-8"))
    quotes = []
    for month in manifest["months"]:
        shard = json.loads((site / f"data/quotes/{month['month']}.json").read_text("utf-8"))
        assert shard["count"] == month["count"] == len(shard["quotes"])
        for row in shard["quotes"]:
            row = row + [None, None, 0, 0, -1, -1, -1][len(row) - 4:]
            q = dict(zip(COLUMNS, row))
            pick = lambda name, i: None if i == -1 else shard[name][i]  # noqa: E731
            quotes.append({
                "id": q["id"], "role": shard["roles"][q["role"]], "tags": shard["tags"][q["tags"]].split(" "),
                "text": q["text"], "company": pick("companies", q["company"]),
                "date": f"{shard['month']}-{q['date']:02d}" if isinstance(q["date"], int) else q["date"],
                "html": q["html"] or q["text"].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
                "timestamp": q["timestamp"] or None, "page": pick("transcripts", q["transcript"]),
                "speaker": pick("people", q["speaker"]), "title": pick("people", q["title"])})
    return quotes


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return built(tmp_path_factory.mktemp("sample"))


def test_the_shards_hold_every_quote_in_the_sites_order(sample):
    every = json.loads((sample / "quotes.json").read_text("utf-8"))["quotes"]
    fields = ("id", "role", "tags", "text", "html", "date", "company", "timestamp", "title")
    assert [{k: q[k] for k in fields} for q in decoded(sample)] == [{k: q[k] for k in fields} for q in every]
    manifest = json.loads((sample / "data/quotes/index.json").read_text("utf-8"))
    assert manifest["count"] == len(every)
    months = [m["month"] for m in manifest["months"]]
    assert months == sorted(months, reverse=True) and months[0] == "2026-11"
    assert sorted(manifest["companies"]) == sorted({q["company"] for q in every})


def test_all_shards_together_are_at_most_one_and_a_half_times_the_quotes_text_and_metadata(sample):
    every = json.loads((sample / "quotes.json").read_text("utf-8"))["quotes"]
    metadata = sum(len("".join(str(q[k] or "") for k in ("id", "role", "text", "date", "company", "transcript", "line",
                                                         "timestamp")).encode()) + len(" ".join(q["tags"]))
                   for q in every)
    shards = sum(p.stat().st_size for p in (sample / "data/quotes").glob("????-??.json"))
    assert shards <= 1.5 * metadata, (shards, metadata)


def test_with_attribution_role_no_company_is_in_the_data(tmp_path):
    site = built(tmp_path, 'attribution = "role"\n')
    data = b"".join(p.read_bytes() for p in (site / "data/quotes").glob("*.json"))
    assert b"Quayside" not in data and b"Larkspur" not in data
    assert "companies" not in json.loads((site / "data/quotes/index.json").read_text())
    assert all(q["company"] is None for q in decoded(site))
    page = (site / "quotes/index.html").read_text("utf-8")
    assert 'name="company"' not in page


def test_names_and_transcript_pages_only_where_the_settings_publish_them(tmp_path):
    site = built(tmp_path, 'attribution = "name"\npublish_transcripts = true\n')
    quotes = decoded(site)
    assert {q["speaker"] for q in quotes} >= {"Aaron Feld"}
    for q in quotes:  # each link in context leads to a page the build wrote
        assert (site / q["page"] / "index.html").is_file()
    assert all(q["speaker"] is None and q["page"] is None for q in decoded(built(tmp_path / "default")))
