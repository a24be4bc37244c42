"""The command line (spec section 7): help, version, quotes in every format, output safety."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from persona_site import __version__
from persona_site.cli import main

GOOD = "**Dana Whitfield:** [Recent pain.]{.pain}\n\n**Priya Raman:** [Recent criteria.]{.criteria}\n"


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


@pytest.mark.parametrize("command", main.list_commands(None))
def test_every_command_has_help_with_an_example_and_source(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "--source" in result.output and "-s," in result.output


@pytest.fixture
def history(repo):
    repo.transcript("2026/new.md", GOOD, date="2026-11-20")
    repo.transcript("2026/mid.md", "**Dana Whitfield:** [Mid objection.]{.objection}\n", date="2026-10-01")
    repo.transcript("2025/old.md", "**Dana Whitfield:** [Old pain.]{.pain}\n", date="2025-03-01")
    return repo


def run_process(repo, *args: str) -> subprocess.CompletedProcess:
    """The command as a user runs it: its own process, output through pipes (block-buffered)."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-m", "persona_site", *args, "--source", str(repo.root)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_in_its_own_process_a_command_says_everything_and_exits_with_its_code(history):
    built = run_process(history, "build")
    assert built.returncode == 0, built.stderr
    assert "3 transcripts, 4 quotes, 2 personas" in built.stderr
    assert (history.root / "site/index.html").is_file()
    listed = run_process(history, "quotes", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["quotes"] == json.loads(history.run("quotes", "--format", "json").stdout)["quotes"]
    assert run_process(history, "quotes", "--role", "nobody").returncode == 2
    touched = history.root / "content/transcripts/2026/new.md"
    touched.write_text(touched.read_text() + "\n")  # so the next build builds
    closed = subprocess.run(["bash", "-c", f'"{sys.executable}" -m persona_site build -q -s "{history.root}" >&-'],
                            capture_output=True, text=True, timeout=120)
    assert closed.returncode == 0, closed.stderr  # started with stdout closed (cron): still a success
    history.write("persona-site.toml", "title = [broken\n")
    failed = run_process(history, "build")
    assert failed.returncode == 1
    assert "persona-site.toml:1: error: this is not valid TOML" in failed.stderr
    assert "The build failed; the previous site is unchanged." in failed.stderr
    assert (history.root / "site/index.html").is_file()


def test_a_command_run_in_process_keeps_nothing_of_its_build(history, monkeypatch):
    """A tool or test that calls main() holds no build once it returns (the quick exit is run()'s alone)."""
    import gc
    import weakref

    from persona_site.incremental import PersistentEngine

    made = []
    real = PersistentEngine.__init__

    def init(self, *args, **kwargs):
        made.append(weakref.ref(self))
        real(self, *args, **kwargs)

    monkeypatch.setattr(PersistentEngine, "__init__", init)
    assert history.run("build").exit_code == 0
    assert history.run("quotes", "--format", "json").exit_code == 0
    gc.collect()
    assert len(made) == 2 and all(ref() is None for ref in made)


def test_a_build_pauses_the_collector_and_leaves_it_on(history, monkeypatch):
    """A build runs with the collector paused (a build leaves next to nothing in cycles), and so does the writing
    of its site; a tool or test that calls main() finds it on again, after a build that succeeded or failed."""
    import gc

    from persona_site import build, output

    seen = []

    def spying(real):
        def spy(*args, **kwargs):
            seen.append(gc.isenabled())
            return real(*args, **kwargs)
        return spy

    monkeypatch.setattr(build, "build_site", spying(build.build_site))
    monkeypatch.setattr(output, "write_site", spying(output.write_site))
    assert history.run("build").exit_code == 0
    assert seen == [False, False] and gc.isenabled()
    seen.clear()
    history.write("persona-site.toml", "title = [broken\n")
    assert history.run("build").exit_code == 1
    assert seen == [False] and gc.isenabled()  # stopped before writing


def texts(result) -> list[str]:
    return [q["text"] for q in json.loads(result.stdout)["quotes"]]


def test_quotes_since_days_and_date(history):
    # now is pinned to 2026-12-01
    assert texts(history.run("quotes", "--since", "30d", "--format", "json")) == ["Recent pain.", "Recent criteria."]
    assert texts(history.run("quotes", "--since", "2026-10-01", "--format", "json")) == [
        "Recent pain.", "Recent criteria.", "Mid objection."]


def test_quotes_role_accepts_an_alias_and_tag_filters(history):
    result = history.run("quotes", "--role", "revops-lead", "--tag", "pain", "--format", "json")
    assert texts(result) == ["Recent pain.", "Old pain."]
    assert texts(history.run("quotes", "--limit", "1", "--format", "json")) == ["Recent pain."]


def test_quotes_json_is_the_quotes_json_object(history):
    history.run("build")
    built = json.loads((history.root / "site/quotes.json").read_text())
    printed = json.loads(history.run("quotes", "--format", "json").stdout)
    assert printed == built


def test_quotes_csv(history):
    rows = list(csv.DictReader(io.StringIO(history.run("quotes", "--format", "csv").stdout)))
    assert [r["text"] for r in rows] == ["Recent pain.", "Recent criteria.", "Mid objection.", "Old pain."]
    assert rows[0]["role"] == "head-of-revops" and rows[0]["tags"] == "pain" and rows[0]["date"] == "2026-11-20"
    assert rows[0]["speaker"] == ""


def test_quotes_text_is_readable(history):
    out = history.run("quotes", "--role", "head-of-revops", "--since", "30d").stdout
    assert "2026-11-20  Head of Revenue Operations · Acme Corp  [pain]" in out
    assert "“Recent pain.”" in out
    assert "content/transcripts/2026/new.md:11" in out


def test_build_out_and_base_url(history, tmp_path):
    out = tmp_path / "public"
    result = history.run("build", "--out", str(out), "--base-url", "/x/")
    assert result.exit_code == 0
    assert 'href="/x/personas/' in (out / "index.html").read_text()


@pytest.mark.parametrize("target", [".", "content", "content/site", ".."])
def test_build_refuses_an_out_that_would_delete_work(history, target):
    before = sorted(p.as_posix() for p in history.root.rglob("*"))
    result = history.run("build", "--out", str(history.root / target))
    assert result.exit_code == 2
    assert "refusing" in result.stderr
    assert sorted(p.as_posix() for p in history.root.rglob("*")) == before


def test_build_refuses_a_non_empty_folder_it_did_not_make(history, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    result = history.run("build", "--out", str(out))
    assert result.exit_code == 2
    assert (out / "notes.txt").read_text() == "precious"
    assert not (out / "index.html").exists()


def test_rebuild_keeps_files_the_user_added_and_drops_old_pages(history):
    assert history.run("build").exit_code == 0
    site = history.root / "site"
    (site / "CNAME").write_text("personas.example.com\n")
    (history.root / "content/personas/vp-sales.md").unlink()
    for name in ("2026/new.md", "2026/mid.md", "2025/old.md"):
        history.transcript(name, "**Dana Whitfield:** [Pain.]{.pain}\n", participants="  Dana Whitfield: head-of-revops\n")
    assert history.run("build").exit_code == 0
    assert (site / "CNAME").read_text() == "personas.example.com\n"
    assert not (site / "personas/vp-sales").exists()
    assert not list(history.root.glob(".persona-site-*"))


def test_check_writes_nothing(history):
    assert history.run("check").exit_code == 0
    assert not (history.root / "site").exists()


def test_build_prints_a_one_line_summary_and_no_bar_off_a_terminal(history):
    result = history.run("build")
    assert result.exit_code == 0
    lines = [line for line in result.stderr.splitlines() if "transcripts" in line]
    assert len(lines) == 1
    assert lines[0].startswith("3 transcripts, 4 quotes, 2 personas, ")
    assert "\r" not in result.stderr and "[#" not in result.stderr


def test_quiet_prints_only_problems(history):
    history.transcript("2026/bad.md", "**Nobody Here:** Hello.\n")
    result = history.run("build", "--quiet")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert all(": warning: " in line or line.endswith("warning") for line in result.stderr.splitlines())


# --- Issue 19, item 9: the command line speaks to people --------------------------------------------------------

@pytest.mark.parametrize("command", [None, *main.list_commands(None)])
def test_help_examples_never_wrap_mid_command(command):
    """At 60 columns a command in an example stays on one line, to copy as it is."""
    args = [command, "--help"] if command else ["--help"]
    result = CliRunner().invoke(main, args, terminal_width=60, env={"COLUMNS": "60"})
    lines = result.output.splitlines()
    examples = [i for i, line in enumerate(lines) if line.strip().startswith("persona-site ")]
    assert examples, result.output
    for i in examples:
        following = lines[i + 1] if i + 1 < len(lines) else ""
        assert following.strip() == "", f"an example wrapped: {lines[i]!r} / {following!r}"


def test_role_suggestion_names_the_persona_not_its_alias(tmp_path):
    from conftest import Repo

    repo = Repo(tmp_path / "r")
    repo.write("content/personas/head-of-revops.md", "---\ntitle: Head of RevOps\naliases: [revops-lead]\n---\n")
    repo.transcript("a.md", "**Dana Whitfield:** [Words.]{.pain}\n",
                    participants="  Dana Whitfield: head-of-revops\n")
    result = repo.run("quotes", "--role", "revops")
    assert result.exit_code == 2
    assert "did you mean 'head-of-revops'?" in result.output
    assert "revops-lead" not in result.output


def test_an_unknown_role_says_which_file_to_create(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Words.]{.pain}\n",
                    participants="  Dana Whitfield: head-of-revops\n  Lee Park: vp-marketing\n")
    result = repo.run("check")
    assert "no persona defines the role 'vp-marketing'" in result.stderr
    assert "create content/personas/vp-marketing.md" in result.stderr
    asked = repo.run("quotes", "--role", "vp-marketing")
    assert "create content/personas/vp-marketing.md" in asked.output


def test_quotes_prints_no_unrelated_stale_notice(history):
    history.transcript("2025/older.md", "**Priya Raman:** [Long ago.]{.criteria}\n", date="2025-01-01")
    history.transcript("2026/new.md", "**Dana Whitfield:** [Recent pain.]{.pain}\n", date="2026-11-20")
    assert "stale" in history.run("check").stderr  # vp-sales is stale: check says so...
    result = history.run("quotes", "--role", "head-of-revops")
    assert result.exit_code == 0
    assert "stale" not in result.output and "notice" not in result.output  # ...an answer about revops does not


@pytest.mark.parametrize("base_url, expected", [(None, "persona-site serve"),
                                                ("https://example.com/p/", "https://example.com/p/")])
def test_build_ends_with_how_to_look_at_the_site(history, base_url, expected):
    result = history.run("build", *(["--base-url", base_url] if base_url else []))
    assert result.exit_code == 0
    assert expected in result.stderr.splitlines()[-1]
