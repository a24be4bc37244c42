"""`persona-site build` run again after a change renders only the outputs whose inputs changed, links the rest
from the site on disk, and writes what a cold build writes, byte for byte (issue 22)."""

from __future__ import annotations

import json
import subprocess
import random
from pathlib import Path

import pytest

from conftest import Repo, cold_build
from persona_site.render import Renderer
from persona_site.theme import BUILTIN_THEME
from test_incremental import body, date


def call(repo, name: str, text: str, date: str, company: str) -> None:
    path = repo.transcript(name, text, date=date)
    path.write_text(path.read_text().replace("company: Acme Corp", f"company: {company}", 1))


def site_files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not p.name.startswith(".persona-site")}


@pytest.fixture
def renders(monkeypatch):
    """What this process renders: (template or kind, path) of every output made, and every transcript page."""
    made: list[str] = []
    real_make, real_page = Renderer.make, Renderer.transcript_page

    def make(self, path, planned, *args):
        made.append(path)
        return real_make(self, path, planned, *args)

    def page(self, transcript, ctx):
        made.append(f"transcript:{transcript.path}")
        return real_page(self, transcript, ctx)

    monkeypatch.setattr(Renderer, "make", make)
    monkeypatch.setattr(Renderer, "transcript_page", page)
    return made


@pytest.mark.slow
@pytest.mark.parametrize("publish", [False, True])
def test_build_after_each_change_writes_what_a_cold_build_writes(repo, monkeypatch, publish):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")  # 2025-12-05: the build time both builds show
    rng = random.Random(11)
    repo.write("persona-site.toml", f"publish_transcripts = {'true' if publish else 'false'}\n")
    names = [f"2025/call-{n:02d}.md" for n in range(30)]
    for n, name in enumerate(names):
        call(repo, name, body(rng, n), date(rng).replace("2026", "2025"), f"Co {n % 7} & Sons")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    out = repo.root / "site"
    assert repo.run("build", "--quiet").exit_code == 0
    for step in range(12):  # each change once
        action = ["edit", "redate", "add", "delete", "rename", "commit", "theme", "persona", "config", "company",
                  "edit", "commit"][step]
        live = sorted(p.relative_to(repo.root / "content/transcripts").as_posix()
                      for p in (repo.root / "content/transcripts").rglob("*.md"))
        name = rng.choice(live)
        path = repo.root / "content/transcripts" / name
        if action == "edit":
            text = path.read_text()
            path.write_text(text.replace("hurts", f"hurts a lot {step}", 1))
        elif action == "redate":
            text = path.read_text()
            path.write_text(text.replace("date: ", "date: 2025-10-0" + str(1 + step % 9) + "\nold_date: ", 1))
        elif action == "add":
            call(repo, f"2025/new-{step:02d}.md", body(rng, 200 + step), "2025-11-30", "Newco")
        elif action == "delete":
            path.unlink()
        elif action == "rename":
            (repo.root / "content/transcripts/2024").mkdir(exist_ok=True)
            path.rename(repo.root / "content/transcripts/2024" / f"moved-{step:02d}.md")
        elif action == "theme":  # a template every page extends: every page changes
            repo.write("themes/default/templates/base.html",
                       BUILTIN_THEME.joinpath("templates/base.html").read_text().replace("</footer>", f"{step}</footer>"))
        elif action == "persona":
            persona = next((repo.root / "content/personas").glob("*.md"))
            persona.write_text(persona.read_text().replace("\n---\n", f"\n---\nStep {step}.\n", 1))
        elif action == "config":
            repo.write("persona-site.toml", f"publish_transcripts = {'true' if publish else 'false'}\n"
                                            f"title = \"Personas {step}\"\n")
        elif action == "company":
            text = path.read_text()
            path.write_text(text.replace("company: ", f"company: Renamed {step} ", 1))
        else:
            repo.commit_all(f"step {step}", date=f"2025-11-{21 + step % 8:02d}T10:00:00+00:00")
        done = repo.run("build", "--quiet")
        assert done.exit_code == 0, (step, action, done.output)
        fresh = cold_build(repo.root)
        assert site_files(out) == fresh.outputs, (step, action)
        folders = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir()}
        assert folders == {"/".join(path.split("/")[:n]) for path in fresh.outputs  # no folder left empty
                           for n in range(1, path.count("/") + 1)}, (step, action)


def test_a_one_file_rebuild_renders_only_what_shows_that_file(repo, monkeypatch, renders):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    rng = random.Random(3)
    for n in range(40):
        call(repo, f"2025/call-{n:02d}.md", body(rng, n), f"2025-0{1 + n % 9}-1{n % 10}", f"Co {n % 5}")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    assert repo.run("build", "--quiet").exit_code == 0
    renders.clear()
    target = repo.root / "content/transcripts/2025/call-07.md"  # an old call: on no persona page's latest quotes
    target.write_text(target.read_text().replace("hurts", "hurts badly", 1))
    assert repo.run("build", "--quiet").exit_code == 0

    pages = [path for path in renders if path.startswith("transcript:")]
    assert pages == ["transcript:transcripts/2025/call-07.md"]  # of 40 transcript pages, the one edited
    # Of the month and company pages, those that show the quote edited; not the other months, not the other companies
    archive = [path for path in renders if path.startswith(("personas/", "companies/")) and "/20" in path
               or path.startswith("companies/")]
    assert archive == ["personas/head-of-revops/2025-08/index.html", "companies/co-2/index.html"]
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs


def built_acme(repo, monkeypatch, seed: int) -> random.Random:
    """Six calls with Acme, committed and built."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    rng = random.Random(seed)
    for n in range(6):
        call(repo, f"2025/call-{n}.md", body(rng, n), f"2025-0{1 + n}-10", "Acme")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    assert repo.run("build", "--quiet").exit_code == 0
    return rng


def test_a_page_edited_by_hand_in_the_site_is_made_again(repo, monkeypatch):
    rng = built_acme(repo, monkeypatch, 5)
    page = repo.root / "site/companies/acme/index.html"
    page.write_text("defaced")
    call(repo, "2025/call-9.md", body(rng, 9), "2025-11-01", "Other")
    assert repo.run("build", "--quiet").exit_code == 0
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs


def test_another_output_folder_gets_every_page(repo, monkeypatch):
    """What the last build wrote holds for its own output folder only: a folder built before an edit, built again
    after the edit was built into another, gets the edit."""
    rng = built_acme(repo, monkeypatch, 9)
    other = repo.root.parent / "other"
    assert repo.run("build", "--quiet", "--out", str(other)).exit_code == 0
    call(repo, "2025/call-0.md", body(rng, 99), "2025-01-10", "Acme")
    assert repo.run("build", "--quiet").exit_code == 0
    assert repo.run("build", "--quiet", "--out", str(other)).exit_code == 0
    assert site_files(other) == cold_build(repo.root).outputs


def test_a_page_changes_with_the_build_time_only_where_it_shows_it(repo, monkeypatch):
    """An hour later: the index (its footer says when, to the minute), build.json (every other page's footer reads
    it) and the JSON files (their "generated") change; no other file. A day later, the pages that count from
    today too."""
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    rng = random.Random(4)
    for n in range(8):
        call(repo, f"2025/call-{n}.md", body(rng, n), f"2025-1{n % 2}-0{1 + n}", f"Co {n % 3}")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    builds = {}
    for when, epoch in (("first", 1764936000), ("an hour on", 1764939600), ("a day on", 1765022400)):
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
        builds[when] = cold_build(repo.root).outputs
    differ = lambda a, b: sorted(path for path in builds[a] if builds[a][path] != builds[b][path])  # noqa: E731
    assert differ("first", "an hour on") == sorted(  # the JSON files say when they were generated
        {"index.html", "build.json", "data/quotes/index.json", *(p for p in builds["first"] if p.endswith("quotes.json"))})
    assert json.loads(builds["an hour on"]["build.json"])["text"].startswith("Built 5 Dec 2025, 13:00 UTC from commit ")
    a_day = differ("first", "a day on")
    assert "personas/head-of-revops/index.html" in a_day and "tags/index.html" in a_day
    assert not any(p.startswith(("transcripts/", "companies/")) or "/2025-" in p for p in a_day), a_day
    # A commit that changed no transcript (CI builds every commit): the persona and tag pages say the day, and
    # build.json the commit, which their footers show through site.js: they are not written again
    repo.write("NOTES.md", "Who to call next.\n")
    repo.commit_all("notes", date="2025-11-21T10:00:00+00:00")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    builds["a commit on"] = cold_build(repo.root).outputs
    assert differ("first", "a commit on") == sorted(
        {"index.html", "build.json", *(p for p in builds["first"] if p.endswith("quotes.json"))})


def test_a_transcript_page_shows_the_commit_that_last_changed_it(repo):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    rng = random.Random(6)
    call(repo, "2025/old.md", body(rng, 1), "2025-10-01", "Acme")
    call(repo, "2025/new.md", body(rng, 2), "2025-10-02", "Acme")
    repo.commit_all("first", date="2025-11-01T10:00:00+00:00")
    first = repo.git("rev-parse", "--short=7", "HEAD").strip()
    new = repo.root / "content/transcripts/2025/new.md"
    new.write_text(new.read_text().replace("hurts", "hurts more", 1))
    repo.commit_all("second", date="2025-11-02T10:00:00+00:00")
    second = repo.git("rev-parse", "--short=7", "HEAD").strip()
    new.write_text(new.read_text().replace("hurts more", "hurts most", 1))
    outputs = cold_build(repo.root).outputs
    old_page = outputs["transcripts/2025/old/index.html"].decode()
    assert f"This transcript as of commit {first} (2025-11-01)." in old_page
    new_page = outputs["transcripts/2025/new/index.html"].decode()
    assert f"This transcript as of commit {second} (2025-11-02), with changes not committed yet." in new_page
    assert second not in old_page  # the site's own commit is in build.json, not on this page


def restore(origin: Path, clone: Path, folders: tuple[str, ...]) -> None:
    """What actions/cache does with the folders the last run left: a POSIX tar (file times to the nanosecond)
    made in origin, unpacked in the clone."""
    archive = clone.parent / "cache.tar"
    subprocess.run(["tar", "--posix", "-cf", str(archive), "-C", str(origin), *folders], check=True)
    subprocess.run(["tar", "-xf", str(archive), "-C", str(clone)], check=True)


@pytest.mark.parametrize("publish", [False, True])
def test_a_fresh_clone_with_the_last_site_and_cache_restored_renders_only_what_changed(repo, monkeypatch, renders,
                                                                                         tmp_path, publish):
    """CI (issue 22, goal 5): the publish workflow restores the last run's cache and site into a fresh clone in a
    new place; a commit that changed one transcript renders that transcript's pages, not the whole site."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    repo.write("persona-site.toml", f"publish_transcripts = {'true' if publish else 'false'}\n")
    rng = random.Random(8)
    for n in range(12):
        call(repo, f"2025/call-{n:02d}.md", body(rng, n), f"2025-0{1 + n % 9}-1{n % 10}", f"Co {n % 4}")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    assert repo.run("build", "--quiet").exit_code == 0
    target = repo.root / "content/transcripts/2025/call-03.md"
    target.write_text(target.read_text().replace("hurts", "hurts in CI", 1))
    repo.commit_all("one file changed", date="2025-11-21T10:00:00+00:00")

    ci = tmp_path / "runner" / "work"
    ci.parent.mkdir()
    subprocess.run(["git", "clone", "-q", str(repo.root), str(ci)], check=True)
    restore(repo.root, ci, (".persona-cache", "site"))
    renders.clear()
    done = Repo(ci).run("build", "--quiet")
    assert done.exit_code == 0, done.output

    in_ci = list(renders)
    pages = [path for path in in_ci if path.startswith("transcript:")]
    assert pages == (["transcript:transcripts/2025/call-03.md"] if publish else [])
    assert "hurts in CI" in (ci / "site/quotes.json").read_text()
    assert site_files(ci / "site") == cold_build(ci).outputs
    renders.clear()  # what the same change renders where the last build was made: the same pages
    assert repo.run("build", "--quiet").exit_code == 0
    assert sorted(in_ci) == sorted(renders) and len(in_ci) < len(site_files(ci / "site")) / 3


def test_a_rebuild_that_makes_every_page_writes_its_json_documents_before_forking_and_what_a_cold_build_writes(
        repo, monkeypatch):
    """A rebuild's JSON documents are made by a thread while the render goes on; when many pages must be made (the
    title changed), page makers are forked only once that thread is done (fork and threads do not mix)."""
    import threading

    from persona_site.incremental import pool
    from persona_site.incremental.render_memo import DOCUMENTS_THREAD

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    monkeypatch.setattr(pool, "MAKE_MIN_OUTPUTS", 10)  # this small site's pages of many are made on every core
    monkeypatch.setattr(pool, "MAKE_CHUNK", 2)
    rng = random.Random(8)
    for n in range(24):
        call(repo, f"2025/call-{n}.md", body(rng, n), f"2025-{1 + n % 12:02d}-10", f"Company {n}")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    assert repo.run("build", "--quiet").exit_code == 0
    alive, real = [], pool.cores_to_fork

    def cores() -> int:
        alive.append(any(thread.name == DOCUMENTS_THREAD for thread in threading.enumerate()))
        return real()

    monkeypatch.setattr(pool, "cores_to_fork", cores)
    repo.write("persona-site.toml", 'title = "Another title"\n')
    assert repo.run("build", "--quiet").exit_code == 0
    assert alive and not any(alive)
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs


def _a_year_of_calls(repo, seed: int) -> None:
    """Two calls a month through 2025, with five companies between them, committed and built."""
    rng = random.Random(seed)
    for n in range(24):
        call(repo, f"2025/call-{n:02d}.md", body(rng, n), f"2025-{1 + n % 12:02d}-10", f"Co {n % 5}")
    repo.commit_all("start", date="2025-11-20T10:00:00+00:00")
    assert repo.run("build", "--quiet").exit_code == 0


@pytest.mark.parametrize("kernel", ["copies", "refuses", "copies nothing", "cannot"])
def test_a_rebuilds_json_documents_copy_the_months_it_left_alone_from_the_last_files(repo, monkeypatch, kernel):
    """quotes.json holds every quote, so each rebuild writes it again: after one edit, the months the edit left
    alone are copied from the last build's file (by the kernel, or read and written where it refuses, copies
    nothing, or Python cannot ask it: macOS) and only the edited month is made again; a file changed by hand in
    the site since is not copied from, and every document is what a cold build writes, written to disk as it is
    made, never held whole."""
    import errno
    import os

    from persona_site.output import Copied, Spool, Spooled

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    if kernel == "refuses":  # another file system, or an older kernel
        def refused(*args, **kwargs):
            raise OSError(errno.EXDEV, "Invalid cross-device link")

        monkeypatch.setattr(os, "copy_file_range", refused)
    elif kernel == "copies nothing":  # a file system that says it copied nothing
        monkeypatch.setattr(os, "copy_file_range", lambda *args, **kwargs: 0)
    elif kernel == "cannot":
        monkeypatch.delattr(os, "copy_file_range")
    _a_year_of_calls(repo, seed=4)
    kinds: dict[str, list[str]] = {}
    real = Spool.keep_pieces

    def keep_pieces(self, rel, pieces):
        made = list(pieces())
        kinds[rel] = ["copied" if type(piece) is Copied else "made" for piece in made]
        kept = real(self, rel, lambda: iter(made))
        assert type(kept) is Spooled
        return kept

    monkeypatch.setattr(Spool, "keep_pieces", keep_pieces)
    months = len(json.loads((repo.root / "site/data/quotes/index.json").read_text())["months"])
    assert months == 12
    target = repo.root / "content/transcripts/2025/call-03.md"  # April's
    target.write_text(target.read_text().replace("hurts", "hurts badly", 1))
    assert repo.run("build", "--quiet").exit_code == 0
    assert kinds["quotes.json"].count("copied") == months - 1  # every month but April, copied
    personas = {rel: kind.count("copied") for rel, kind in kinds.items() if rel.endswith("/quotes.json")}
    assert personas == {"personas/head-of-revops/quotes.json": months - 1,  # the edited quote is one of theirs
                        "personas/vp-sales/quotes.json": months}
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs

    document = repo.root / "site/quotes.json"
    document.write_bytes(document.read_bytes().replace(b"hurts", b"HURTS"))  # by hand: the same size
    target.write_text(target.read_text().replace("hurts badly", "hurts a lot", 1))
    assert repo.run("build", "--quiet").exit_code == 0
    assert "copied" not in kinds["quotes.json"]
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs


def test_a_rebuild_reads_from_the_cache_the_quote_lines_of_the_months_it_writes_again_only(repo, monkeypatch):
    """The cache keeps each quote's JSON line in its file, not in the entries a rebuild loads (11 of a shard's 15.6 MB
    at 100,000 transcripts): after one edit, the lines read back are those of the edited month, whose documents,
    query shard and counted words are made again, and none of the months copied from the last build's files."""
    from persona_site.incremental import cache

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764936000")
    _a_year_of_calls(repo, seed=5)
    read, saving, real, real_write = [], [], cache.ShardParts.line, cache.write_shard

    def line(self, at, digest):
        found = real(self, at, digest)
        if not saving:  # (the save writes the edited transcript's shard again, with every line it holds)
            read.append(json.loads(found)["date"][:7])
        return found

    def write_shard(path, entries):
        saving.append(path)
        try:
            real_write(path, entries)
        finally:
            saving.pop()

    monkeypatch.setattr(cache, "write_shard", write_shard)
    monkeypatch.setattr(cache.ShardParts, "line", line)
    target = repo.root / "content/transcripts/2025/call-03.md"  # April's
    target.write_text(target.read_text().replace("hurts", "hurts badly", 1))
    assert repo.run("build", "--quiet").exit_code == 0
    assert set(read) == {"2025-04"}  # April's other call's lines: its month is made again
    assert site_files(repo.root / "site") == cold_build(repo.root).outputs
