"""Built sites against committed golden output.

- The sample site (content/): its quotes.json and its list of pages (tests/golden/quotes.json, pages.txt).
- The golden fixture site (tests/fixtures/golden-site/): every page, feed and JSON file it builds, byte for byte
  (tests/golden/site/), except the theme's static files (assets/).

Regenerate after an intended change, then review `git diff tests/golden/` before committing it:

    UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import Repo

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
GOLDEN_SITE = GOLDEN / "site"
FIXTURE_SITE = Path(__file__).parent / "fixtures" / "golden-site"
SAMPLE_NOW = "1796083200"  # 2026-12-01T00:00:00Z


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory) -> Path:
    """The sample content in a fresh git repository whose one commit has a known date."""
    root = tmp_path_factory.mktemp("sample")
    shutil.copytree(ROOT / "content", root / "content")
    repo = Repo(root)
    repo.commit_all("sample", date="2026-11-25T12:00:00+00:00")
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", SAMPLE_NOW)
    try:
        result = repo.run("build", "--strict")
        # The sample has one stale persona: news (a notice), not a failure, and no warning (issue 19, item 5).
        assert result.exit_code == 0, result.output
        assert "security-reviewer.md:1: notice: stale" in result.stderr
        assert "warning" not in result.stderr
    finally:
        mp.undo()
    return root / "site"


def _check(name: str, actual: str) -> None:
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(actual, "utf-8")
    assert actual == golden.read_text("utf-8"), f"{name} differs: run UPDATE_GOLDEN=1 pytest {__file__}"


def test_sample_quotes_json_matches_golden(sample_site):
    _check("quotes.json", (sample_site / "quotes.json").read_text("utf-8"))


def test_sample_site_pages_match_golden_list(sample_site):
    pages = sorted(p.relative_to(sample_site).as_posix() for p in sample_site.rglob("*") if p.is_file())
    _check("pages.txt", "\n".join(pages) + "\n")


def test_every_sample_persona_shows_a_full_page_of_quotes(sample_site):
    data = json.loads((sample_site / "quotes.json").read_text())
    personas = sorted(p.stem for p in (ROOT / "content/personas").glob("*.md"))
    assert len(personas) == 5
    for role in personas:
        html = (sample_site / f"personas/{role}/index.html").read_text()
        # the latest 20 shown; the rest of this quarter's are there, hidden, for the time windows (issue 19)
        assert html.count('class="quote-card"') - html.count("data-extra hidden") == 20, role
    assert len({q["transcript"] for q in data["quotes"]}) >= 40
    assert len({q["company"] for q in data["quotes"]}) >= 25


def test_sample_freshness_varies(sample_site):
    index = (sample_site / "index.html").read_text()
    assert index.count("badge-stale") == 1
    assert index.count("badge-fresh") >= 2


# --- The golden fixture site: every page and feed, byte for byte ----------------------------------------------------

LATER = "content/transcripts/2026/11"
"""Committed in the fixture's second commit (recent enough to be marked New); the rest in its first."""


@pytest.fixture(scope="module")
def golden_site(tmp_path_factory) -> Path:
    """tests/fixtures/golden-site in a fresh git repository with two commits of pinned dates and author, built with
    a pinned now. The same tree, author, dates and messages give the same commit hashes on every machine, so the
    footers, added_in and quotes.json's commit need no normalising; git's global and system config are left out
    (a commit.gpgsign there would change them)."""
    root = tmp_path_factory.mktemp("golden") / "repo"
    later = FIXTURE_SITE / LATER
    # copyfile, not copy2: the files get the umask's mode, not the checkout's (an executable bit would change the tree)
    shutil.copytree(FIXTURE_SITE, root, copy_function=shutil.copyfile,
                    ignore=lambda folder, names: [later.name] if Path(folder) == later.parent else [])
    mp = pytest.MonkeyPatch()
    mp.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("SOURCE_DATE_EPOCH", SAMPLE_NOW)
    try:
        repo = Repo(root)
        repo.commit_all("Calls up to October", date="2026-10-20T09:00:00+00:00")
        shutil.copytree(later, root / LATER, copy_function=shutil.copyfile)
        repo.commit_all("November calls", date="2026-11-25T12:00:00+00:00")
        result = repo.run("build")
        assert result.exit_code == 0, result.output
        # The one notice the fixture means to have: a persona last heard in August (the Stale badge).
        assert "security-reviewer.md:1: notice: stale" in result.stderr, result.stderr
    finally:
        mp.undo()
    return root / "site"


def golden_outputs(site: Path) -> dict[str, bytes]:
    """Every .html, .xml and .json file of a built site by path, but the theme's static files (assets/)."""
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*"))
            if p.is_file() and p.suffix in {".html", ".xml", ".json"} and p.relative_to(site).parts[0] != "assets"}


def write_golden_site(outputs: dict[str, bytes]) -> None:
    """Replace tests/golden/site/ with outputs (UPDATE_GOLDEN=1): files no longer built go."""
    if GOLDEN_SITE.exists():
        shutil.rmtree(GOLDEN_SITE)
    for rel, data in outputs.items():
        path = GOLDEN_SITE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def golden_site_mismatch(actual: dict[str, bytes], expected: dict[str, bytes], max_lines: int = 60) -> str | None:
    """Why actual is not expected, short: a unified diff of the first differing file, then the files added or
    missing; None when they are the same, byte for byte."""
    changed = [rel for rel in sorted(actual.keys() & expected.keys()) if actual[rel] != expected[rel]]
    added, missing = sorted(actual.keys() - expected.keys()), sorted(expected.keys() - actual.keys())
    if not (changed or added or missing):
        return None
    lines = [f"the golden fixture site differs from {GOLDEN_SITE.relative_to(ROOT)}/: {len(changed)} changed, "
             f"{len(added)} added, {len(missing)} missing"]
    if changed:
        first = changed[0]
        old = expected[first].decode("utf-8", "replace").splitlines(keepends=True)
        new = actual[first].decode("utf-8", "replace").splitlines(keepends=True)
        diff = list(difflib.unified_diff(old, new, f"golden/site/{first}", f"built/{first}", n=2))
        if not diff:  # the same text in other bytes: line endings, say
            diff = [f"{first}: same lines, other bytes (line endings?)\n"]
        if len(diff) > max_lines:
            diff = diff[:max_lines] + [f"... ({len(diff) - max_lines} more diff lines)\n"]
        lines.append("".join(diff).rstrip("\n"))
        if len(changed) > 1:
            lines.append(f"also changed ({len(changed) - 1}): " + ", ".join(changed[1:11]) + (", ..." if len(changed) > 11 else ""))
    for what, names in (("added (built, not in golden)", added), ("missing (in golden, not built)", missing)):
        if names:
            lines.append(f"{what}: " + ", ".join(names[:20]) + (f", ... ({len(names) - 20} more)" if len(names) > 20 else ""))
    lines.append("if the change is intended: UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py, then review git diff tests/golden/")
    return "\n".join(lines)


def commit_hint(actual: dict[str, bytes], expected: dict[str, bytes]) -> str:
    """A note when the build's commit differs from the golden one: then every footer differs too."""
    commits = [json.loads(files["quotes.json"])["commit"] for files in (actual, expected) if "quotes.json" in files]
    if len(commits) == 2 and commits[0] != commits[1]:
        return (f"\nnote: the fixture's commit is {commits[0][:12]}, golden has {commits[1][:12]}: the files under "
                f"{FIXTURE_SITE.relative_to(ROOT)} (or the commits made of them) changed, so every footer differs")
    return ""


def test_golden_site_matches_golden_files(golden_site):
    actual = golden_outputs(golden_site)
    if os.environ.get("UPDATE_GOLDEN"):
        write_golden_site(actual)
    expected = golden_outputs(GOLDEN_SITE) if GOLDEN_SITE.is_dir() else {}
    if problem := golden_site_mismatch(actual, expected):
        pytest.fail(problem + commit_hint(actual, expected), pytrace=False)


def test_golden_site_covers_what_it_is_for(golden_site):
    """The fixture keeps the cases it was written for (a regenerated golden file would not notice losing one)."""
    page = lambda rel: (golden_site / rel).read_text("utf-8")  # noqa: E731
    assert 'href="/team/personas/cfo/feed.xml"' in page("personas/cfo/index.html")  # base_url /team/
    assert "I need <strong>one</strong> number, not <code>four</code>" in page("personas/cfo/index.html")
    assert 'id="q-forecast"' in page("transcripts/2026/08/2026-08-04-acme-discovery/index.html")
    assert "Smith &amp; Søns" in page("companies/smith-sons/index.html")
    assert "Élan Health" in page("companies/elan-health/index.html")
    assert "&lt;Salesforce&gt; &amp; Sheets" in page("personas/head-of-revops/pain/index.html")
    assert page("index.html").count("badge-stale") == 1
    # "New" is worked out in the browser from when each quote was committed: the second commit's two quotes
    assert page("personas/head-of-revops/index.html").count('data-added="2026-11-25T12:00:00+00:00"') == 2
    assert "<entry>" in page("personas/head-of-revops/pain/feed.xml")
    assert len(list((golden_site / "transcripts").rglob("*/index.html"))) == 6  # and the transcripts index
