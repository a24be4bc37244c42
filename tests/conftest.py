"""Shared helpers: a content repository in tmp_path, real git, the CLI."""

from __future__ import annotations

import hashlib
import os
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import settings

# Property tests: enough examples in CI to matter; `pytest --hypothesis-profile=long` locally.
settings.register_profile("ci", max_examples=150, deadline=None)
settings.register_profile("long", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

from persona_site.cli import main

# A fixed "now" so freshness and "generated" do not depend on the day the tests run.
NOW_EPOCH = "1796083200"  # 2026-12-01T00:00:00Z

PERSONAS = {
    "head-of-revops": """\
        ---
        title: Head of Revenue Operations
        summary: Owns the forecast and the plumbing under it.
        aliases: [revops-lead, director-revops]
        reports_to: CRO
        tools: [Salesforce, Clari]
        ---
        Runs the **forecast** call.
        """,
    "vp-sales": """\
        ---
        title: VP Sales
        summary: Carries the number.
        ---
        Sketch.
        """,
}


@pytest.fixture(autouse=True)
def _pinned_time(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", NOW_EPOCH)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def site_files(folder: Path) -> dict[str, str]:
    """sha256 of every file of a built site, by path; the marker is bookkeeping (it records mtimes)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".persona-site-output"}


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def transcript(body: str, *, date: str | None = "2026-10-14", participants: str | None = None,
               extra: str = "") -> str:
    parts = participants or "  Dana Whitfield: head-of-revops\n  Priya Raman: {role: vp-sales, title: VP Sales}\n  Sam Ortiz: internal\n"
    date_line = f"date: {date}\n" if date else ""
    return f"---\ntitle: Acme call\n{date_line}company: Acme Corp\nparticipants:\n{parts}{extra}---\n\n" + textwrap.dedent(body)


class Repo:
    """A content repository on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, text: str) -> Path:
        return write(self.root, rel, text)

    def transcript(self, name: str, body: str, **kwargs) -> Path:
        path = self.root / "content" / "transcripts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(transcript(body, **kwargs), encoding="utf-8")
        return path

    def git(self, *args: str, date: str | None = None) -> str:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
               "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"}
        if date:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        done = subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=True)
        return done.stdout

    def commit_all(self, message: str = "commit", date: str | None = None) -> None:
        if not (self.root / ".git").exists():
            self.git("init", "-q", "-b", "main")
        self.git("add", "-A")
        self.git("commit", "-qm", message, date=date)

    def run(self, *args: str, env: dict | None = None):
        result = CliRunner().invoke(main, [*args, "--source", str(self.root)] if args and args[0] != "--version" else list(args),
                                    catch_exceptions=False, env=env)
        return result


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """Two personas and no transcripts yet."""
    r = Repo(tmp_path / "repo")
    for slug, text in PERSONAS.items():
        r.write(f"content/personas/{slug}.md", text)
    return r


# --- Building in-process, through the pipeline's one function and an engine -------------------------------------

def build_with(root: Path, engine=None, *, cache_dir="auto", **options):
    """One build of root (build.build_site): by `engine`, else by a new PersistentEngine, as a command builds;
    options are build.BuildOptions'. The engine made here is closed after the build (its cache saved)."""
    from persona_site.build import BuildOptions, build_site
    from persona_site.incremental import PersistentEngine

    if engine is not None:
        return build_site(root, BuildOptions(**options), engine)
    made = PersistentEngine(root, cache_dir=cache_dir)
    try:
        return build_site(root, BuildOptions(**options), made)
    finally:
        made.close()


def cold_build(root: Path, **options):
    """The reference build (incremental.ColdEngine): every file read, nothing kept."""
    from persona_site.incremental import ColdEngine

    return build_with(root, ColdEngine(root, options.get("rev")), **options)


class Kept:
    """An engine kept across builds as serve keeps it (watching; the clock pinned to a minute), fed the watcher's
    paths when a build is given them."""

    def __init__(self, root: Path) -> None:
        from persona_site.incremental import PersistentEngine

        self.root, self.engine = root, PersistentEngine(root, cache_dir=None, watching=True)

    def build(self, changed: set[str] | None = None):
        self.engine.expect(changed)
        return build_with(self.root, self.engine, minute_clock=True)

    @property
    def files(self):
        """The content as the last build found it."""
        return self.engine._files


def made(data) -> bytes:
    """An output's bytes: serve makes its JSON files when first asked for."""
    return data() if callable(data) else data
