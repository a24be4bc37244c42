"""The persistent cache never changes a byte of output: every cached build equals a cold build."""

from __future__ import annotations

import datetime as dt
import json
import os
import pickle
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from zoneinfo import ZoneInfo

import pytest
from conftest import build_with, cold_build, site_files
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_site.incremental import PersistentEngine, cache, pool, signing, uptodate
from persona_site.incremental.pool import POOL_MIN_FILES
from persona_site.model import Parsed, QuoteRef
from persona_site.output import write_site

GOOD = "**Dana Whitfield:** [A fine quote.]{.pain}\n\n**Priya Raman:** [Another.]{.criteria}\n"




def assert_same_as_cold(repo, monkeypatch, tmp_path) -> None:
    """The build command (PersistentEngine: its cache, git's view, the pool) writes what the reference engine
    (ColdEngine: every file read and parsed again, nothing kept) makes, file for file."""
    warm = repo.run("build")
    assert warm.exit_code == 0, warm.output
    cold = cold_build(repo.root)
    assert cold.ok, cold.diagnostics
    cold_out = tmp_path / "cold"
    shutil.rmtree(cold_out, ignore_errors=True)
    write_site(cold.outputs, cold_out, repo.root)
    assert site_files(repo.root / "site") == site_files(cold_out)


@pytest.fixture
def cached(repo):
    repo.transcript("2026/a.md", GOOD)
    repo.transcript("2026/b.md", "**Dana Whitfield:** [Bee.]{.objection}\n", date="2026-09-01")
    repo.commit_all("start", date="2026-10-20T10:00:00+00:00")
    assert repo.run("build").exit_code == 0
    assert (repo.root / cache.DEFAULT_FOLDER / cache.FILE).is_file()
    return repo


def test_edited_transcript(cached, monkeypatch, tmp_path):
    cached.transcript("2026/a.md", GOOD.replace("A fine quote.", "An edited quote."))
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "An edited quote." in (cached.root / "site/quotes.json").read_text()


def test_the_next_build_reports_the_problems_of_files_it_did_not_read_again(cached, monkeypatch, tmp_path):
    def age(rel: str, seconds: int) -> None:  # an edit a while ago: the next build goes by its stat
        when = time.time_ns() - seconds * 10**9
        os.utime(cached.root / "content/transcripts" / rel, ns=(when, when))

    cached.transcript("2026/c.md", "**Dana Whitfield:** [Fine.]{.pain}\n\n**Nobody Known:** Who, me?\n")
    for rel in ("2026/a.md", "2026/b.md", "2026/c.md"):
        age(rel, 3600)
    shutil.rmtree(cached.root / cache.DEFAULT_FOLDER)  # a first build saves all it read (later ones, a few files: not)
    first = cached.run("build")
    assert first.exit_code == 0, first.output
    assert "content/transcripts/2026/c.md:13: warning: speaker 'Nobody Known' is not in the participants" in first.stderr
    for n in range(3):  # each build a new process's, after an edit elsewhere: c.md is not read again
        cached.transcript("2026/a.md", GOOD.replace("A fine quote.", f"Edit {n}."))
        age("2026/a.md", 3000 - n)
        result = cached.run("build")
        assert result.exit_code == 0, result.output
        assert result.stderr.count("speaker 'Nobody Known' is not in the participants") == 1, result.stderr
        texts = [q["text"] for q in json.loads((cached.root / "site/quotes.json").read_text())["quotes"]]
        assert sorted(texts) == sorted(["Another.", "Bee.", f"Edit {n}.", "Fine."])
    cached.transcript("2026/c.md", "**Dana Whitfield:** [Fine.]{.pain}\n")
    assert "Nobody Known" not in cached.run("build").stderr
    assert_same_as_cold(cached, monkeypatch, tmp_path)


def test_renamed_and_deleted_transcripts(cached, monkeypatch, tmp_path):
    (cached.root / "content/transcripts/2026/a.md").rename(cached.root / "content/transcripts/renamed.md")
    (cached.root / "content/transcripts/2026/b.md").unlink()
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "Bee." not in (cached.root / "site/quotes.json").read_text()


def test_changed_config_and_theme(cached, monkeypatch, tmp_path):
    cached.write("persona-site.toml", 'attribution = "name"\npublish_transcripts = true\n[tags]\npain = "Ouch"\n'
                 'objection = "No"\ncriteria = "Must"\n')
    cached.write("themes/default/templates/404.html", "gone")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "Dana Whitfield" in (cached.root / "site/quotes.json").read_text()


def test_new_commit_updates_dates_and_provenance(cached, monkeypatch, tmp_path):
    cached.transcript("2026/c.md", "**Dana Whitfield:** [Undated.]{.pain}\n", date=None)
    cached.commit_all("more", date="2026-11-20T10:00:00+00:00")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert '"date": "2026-11-20"' in (cached.root / "site/quotes.json").read_text()


def unsealed(path: Path) -> dict:
    """A cache file's state, as this user's key sealed it."""
    return pickle.loads(signing.opened(path.read_bytes()))


def sealed(path: Path, state: dict) -> None:
    """Write a cache file as this user's key seals it (a hand edit the seal cannot tell from the build's)."""
    data = pickle.dumps(state)
    path.write_bytes(signing.seal_of(data) + data)


def unsealed_shard(path: Path) -> dict:
    """A shard file's sealed part ({"version", "transcripts"}), as this user's key sealed it."""
    data = path.read_bytes()
    length = int.from_bytes(data[:8], "big")
    return pickle.loads(signing.opened(data[8:8 + length]))


def sealed_shard(path: Path, state: dict) -> None:
    """A shard file whose sealed part is `state`, with no frozen transcript after it (a hand edit the seal cannot tell
    from the build's)."""
    data = pickle.dumps(state)
    part = signing.seal_of(data) + data
    path.write_bytes(len(part).to_bytes(8, "big") + part)


def poison(folder: Path, version: str | None = None) -> None:
    """Every cached transcript replaced by nothing: trusted, this cache would drop every quote."""
    for path in folder.glob("transcripts-*.pickle"):
        state = unsealed_shard(path)
        state["transcripts"] = {key: Parsed((None, (), (), None)) for key in state["transcripts"]}
        state["version"] = version or state["version"]
        sealed_shard(path, state)
    (folder / uptodate.STAMP).unlink(missing_ok=True)  # else the build is skipped as up to date


@pytest.mark.parametrize("where", [cache.FILE, "transcripts-*.pickle"])
def test_cache_from_another_version_is_ignored(cached, monkeypatch, tmp_path, where):
    folder = cached.root / cache.DEFAULT_FOLDER
    poison(folder, "0.0.0/0" if where != cache.FILE else None)
    if where == cache.FILE:
        sealed(folder / cache.FILE, {**unsealed(folder / cache.FILE), "version": "0.0.0/0"})
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "A fine quote." in (cached.root / "site/quotes.json").read_text()


def test_entries_of_another_shape_in_a_current_cache_are_ignored(cached, monkeypatch, tmp_path):
    """A cache file of this version whose entries are not what this version writes (a bug, a hand edit)."""
    folder = cached.root / cache.DEFAULT_FOLDER
    for path in folder.glob("transcripts-*.pickle"):
        state = unsealed_shard(path)
        state["transcripts"] = {key: (None, [], ()) for key in state["transcripts"]}
        sealed_shard(path, state)
    (folder / uptodate.STAMP).unlink(missing_ok=True)
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "A fine quote." in (cached.root / "site/quotes.json").read_text()


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", pickle.dumps(["a list"]), b"\x80\x05\x95"])
@pytest.mark.parametrize("where", [cache.FILE, "transcripts-*.pickle"])
def test_corrupt_cache_is_ignored(cached, monkeypatch, tmp_path, garbage, where):
    for path in (cached.root / cache.DEFAULT_FOLDER).glob(where):
        path.write_bytes(garbage)
    assert_same_as_cold(cached, monkeypatch, tmp_path)


def test_two_builds_at_once(cached, monkeypatch, tmp_path):
    cached.transcript("2026/a.md", GOOD.replace("A fine quote.", "Concurrent."))
    results = []

    def one(out: Path) -> None:
        result = build_with(cached.root)
        write_site(result.outputs, out, cached.root)
        results.append(out)

    threads = [threading.Thread(target=one, args=(tmp_path / f"out{n}",)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2
    assert site_files(results[0]) == site_files(results[1])
    assert cache.load(cached.root / cache.DEFAULT_FOLDER)  # whole, readable
    assert_same_as_cold(cached, monkeypatch, tmp_path)


def test_check_and_quotes_write_no_cache(repo):
    repo.transcript("a.md", GOOD)
    assert repo.run("check").exit_code == 0
    assert repo.run("quotes").exit_code == 0
    assert not (repo.root / cache.DEFAULT_FOLDER).exists()


def test_a_valid_cache_is_really_used(cached):
    """Guards the tests above: with a same-version cache the build does read it."""
    poison(cached.root / cache.DEFAULT_FOLDER)
    assert cached.run("build").exit_code == 0
    assert '"count": 0' in (cached.root / "site/quotes.json").read_text()


@pytest.fixture
def large(repo):
    """Enough transcripts for the process pool and the cache saved in the background (POOL_MIN_FILES)."""
    for n in range(POOL_MIN_FILES + 20):
        repo.transcript(f"2026/call-{n:03d}.md", GOOD.replace("A fine quote.", f"Quote number {n:03d}."))
    repo.commit_all("many", date="2026-10-20T10:00:00+00:00")
    an_hour_ago = time.time_ns() - 3600 * 10**9  # older than RACY_NS, so the build remembers their stats
    for path in (repo.root / "content/transcripts").rglob("*.md"):
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert repo.run("build").exit_code == 0
    assert len(cache.load(repo.root / cache.DEFAULT_FOLDER)["transcripts"]) == POOL_MIN_FILES + 20  # saved by now
    return repo


def test_a_large_first_build_in_its_own_process_equals_a_cold_build_in_this_one(large, monkeypatch, tmp_path):
    """A process's first build may freeze what its workers sent (gc.freeze, never in this test process, which
    has built before): the command in its own process, with the pool, gives the same site."""
    shutil.rmtree(large.root / cache.DEFAULT_FOLDER)
    shutil.rmtree(large.root / "site")
    done = subprocess.run([sys.executable, "-m", "persona_site", "build", "--source", str(large.root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{POOL_MIN_FILES + 20:,} transcripts" in done.stderr
    monkeypatch.setenv("PERSONA_SITE_CACHE", "off")
    assert large.run("build", "--out", str(tmp_path / "cold")).exit_code == 0
    assert site_files(large.root / "site") == site_files(tmp_path / "cold")


def test_the_build_commands_cards_are_read_back_from_the_workers_files_which_are_gone_after(large, monkeypatch,
                                                                                          tmp_path):
    """The build command's workers write each quote's card to a file of their own and its pages read them back
    (no process holds every card, none goes through a pipe); the files are gone once the reading is over, whether
    the build succeeds or not. Where no temporary folder can be made, the cards come back to the main process.
    The same site every time."""
    import tempfile

    from persona_site.incremental.cards import CardFiles

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    read = []
    real = CardFiles.read
    monkeypatch.setattr(CardFiles, "read", lambda self, at: read.append(at) or real(self, at))
    shutil.rmtree(large.root / cache.DEFAULT_FOLDER)  # every transcript read, and its cards made, again
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert read  # the month and company pages made here read their cards from disk
    writers = {at.writer for at in read}
    assert os.getpid() not in writers or len(os.sched_getaffinity(0)) < 2  # written by the workers
    assert list(temp.iterdir()) == []
    large.transcript("2026/call-004.md", GOOD.replace("]{.pain}", "]{#q-twice .pain}"))
    large.transcript("2026/call-005.md", GOOD.replace("]{.pain}", "]{#q-twice .pain}"))
    shutil.rmtree(large.root / cache.DEFAULT_FOLDER)
    assert large.run("build").exit_code == 1  # an id used twice: no page made
    assert list(temp.iterdir()) == []
    large.transcript("2026/call-005.md", GOOD)
    (tmp_path / "a-file").write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "a-file"))  # no folder can be made in it
    read.clear()
    shutil.rmtree(large.root / cache.DEFAULT_FOLDER)
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert read == []


def test_a_card_written_after_a_full_disk_cut_a_write_short_reads_back_as_itself(monkeypatch, tmp_path):
    """A worker's write of some cards cut short, then refused (the disk full): those cards come back whole, and the
    cards written once there is room again read back as themselves, not from where the cut write left off (found
    by review)."""
    import errno
    import tempfile

    from persona_site.incremental import cards as module
    from persona_site.model import Quote

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)

    class Call:
        def __init__(self, path: str, ids: list[str]) -> None:
            self.path = path
            self.quotes = [Quote(i, "cfo", (), "x", "x", when, True, None, "S", None, path, 1, None) for i in ids]

    files = module.CardFiles()
    kept = files.keeping(lambda call: [(quote, f"<li>{quote.transcript} {quote.id}</li>") for quote in call.quotes])
    calls = []

    def full_for_a_moment(real):  # the second write is cut short, the third refused; os.write or os.pwrite
        def write(handle, data, *offset):
            calls.append(offset)
            if len(calls) == 2:
                return real(handle, data[:10], *offset)
            if len(calls) == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(handle, data, *offset)

        return write

    monkeypatch.setattr(module.os, "write", full_for_a_moment(os.write))
    monkeypatch.setattr(module.os, "pwrite", full_for_a_moment(os.pwrite))
    made = kept(Call("a.md", ["q1"])) + kept(Call("b.md", ["q2", "q3"])) + kept(Call("c.md", ["q4"]))
    files.opened()
    read = {key: files.read(at) if type(at) is module.CardAt else at for key, at in made}
    files.close()
    assert read == {(path, quote): f"<li>{path} {quote}</li>"
                    for path, quote in [("a.md", "q1"), ("b.md", "q2"), ("b.md", "q3"), ("c.md", "q4")]}
    assert list(tmp_path.iterdir()) == []


def test_large_repository_edits_renames_and_deletes(large, monkeypatch, tmp_path):
    large.transcript("2026/call-007.md", GOOD.replace("A fine quote.", "An edited quote."))
    (large.root / "content/transcripts/2026/call-008.md").rename(large.root / "content/transcripts/moved.md")
    (large.root / "content/transcripts/2026/call-009.md").unlink()
    assert_same_as_cold(large, monkeypatch, tmp_path)
    text = (large.root / "site/quotes.json").read_text()
    assert "An edited quote." in text and "Quote number 009." not in text and "moved.md" in text


def test_an_edit_that_keeps_size_and_modification_time_is_seen(large, monkeypatch, tmp_path):
    """A file is skipped unread only when its whole stat is unchanged; ctime and inode tell this edit."""
    path = large.root / "content/transcripts/2026/call-010.md"
    path.write_text(path.read_text().replace("Quote number 010.", "Quote number 998."))  # uncommitted from now on
    os.utime(path, ns=(time.time_ns() - 3600 * 10**9,) * 2)
    assert large.run("build").exit_code == 0
    before = path.stat()
    path.write_text(path.read_text().replace("Quote number 998.", "Quote number 999."))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert "Quote number 999." in (large.root / "site/quotes.json").read_text()


def test_published_pages_rendered_by_the_workers_equal_those_rendered_from_the_cache(large, monkeypatch, tmp_path):
    large.write("persona-site.toml", "publish_transcripts = true\n")
    assert large.run("build").exit_code == 0  # every page rendered by the worker that read its transcript
    large.transcript("2026/call-001.md", GOOD.replace("A fine quote.", "Edited once more."))
    assert_same_as_cold(large, monkeypatch, tmp_path)  # 1 parsed, the other pages rendered from the cache
    page = (large.root / "site/transcripts/2026/call-001/index.html").read_text()
    assert "Edited once more." in page


def test_a_published_page_a_worker_spooled_that_the_build_keeps_from_the_last_site_is_unspooled(repo, monkeypatch,
                                                                                                   tmp_path):
    """The worker that reads a transcript writes its published page to the build's spool at its place in the site;
    when the build keeps that page from the last site instead (its inputs are unchanged: here the cache lost the
    parsed transcripts but kept what each page was made from), the spooled one is removed before the spool becomes
    the new site, where the last site's page is linked."""
    from persona_site import output

    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/a.md", GOOD)
    repo.transcript("2026/b.md", "**Dana Whitfield:** [Bee.]{.objection}\n", date="2026-09-01")
    repo.commit_all("a and b", date="2026-10-20T10:00:00+00:00")
    assert repo.run("build").exit_code == 0
    page = repo.root / "site/transcripts/2026/a/index.html"
    before = page.stat()
    for shard in (repo.root / cache.DEFAULT_FOLDER).glob("transcripts-*.pickle"):
        shard.unlink()  # every transcript parsed (and its page made) again
    repo.transcript("2026/b.md", "**Dana Whitfield:** [Bee, edited.]{.objection}\n", date="2026-09-01")
    monkeypatch.setattr(output, "IN_PLACE_MAX", 0)  # a new site folder: the spool itself
    assert_same_as_cold(repo, monkeypatch, tmp_path)
    assert "Bee, edited." in (repo.root / "site/transcripts/2026/b/index.html").read_text()
    assert page.stat().st_ino == before.st_ino  # the last site's page, linked


def test_the_list_of_published_transcripts_is_made_from_their_heads_without_unpickling_one(repo):
    """transcripts/index.html of 10,000 transcripts unpickled all of them to list their titles (100 MB more at
    10,000 with transcripts published): the heads kept beside each pickle say all it shows."""
    from persona_site.render import transcript_index

    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/a.md", GOOD)
    repo.transcript("2026/b.md", "**Dana Whitfield:** [Bee.]{.objection}\n", date="2026-09-01")
    repo.commit_all("a and b", date="2026-10-20T10:00:00+00:00")
    site = build_with(repo.root).site
    asked: list[str] = []
    real = site.transcripts.get
    site.transcripts.get = lambda path: asked.append(path) or real(path)
    listed = transcript_index(site)
    assert asked == []
    assert [(t.path, t.quotes, t.roles) for t in listed] == [
        ("transcripts/2026/a.md", 2, ("head-of-revops", "vp-sales")), ("transcripts/2026/b.md", 1, ("head-of-revops", "vp-sales"))]
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/transcripts/index.html").read_text()
    assert "2 quotes" in page and "1 quote<" in page and page.index("2026/a/") < page.index("2026/b/")


def test_a_published_page_follows_every_edit_of_its_transcript_not_only_the_first(repo, monkeypatch, tmp_path):
    """A transcript's page shows its last commit and whether it was edited since: a second edit of a file edited
    already changes neither, and its page must still be made again (its key holds the transcript itself)."""
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/a.md", GOOD)
    repo.commit_all("a", date="2026-10-20T10:00:00+00:00")
    assert repo.run("build").exit_code == 0
    for words in ("Edited once.", "Edited twice."):
        repo.transcript("2026/a.md", GOOD.replace("A fine quote.", words))
        assert_same_as_cold(repo, monkeypatch, tmp_path)
        assert words in (repo.root / "site/transcripts/2026/a/index.html").read_text()


def test_small_changes_are_saved_together_and_a_save_rewrites_only_their_shards(large, monkeypatch, tmp_path):
    """A save takes 0.1-0.2 s at 10,000 transcripts: a build that changed a few leaves the cache alone (the next
    reads those few files again); once SAVE_AFTER have changed, a build saves them, in their shards only."""
    from persona_site.incremental.store import SAVE_AFTER

    folder = large.root / cache.DEFAULT_FOLDER

    def shards() -> dict[str, int]:
        return {path.name: path.stat().st_mtime_ns for path in folder.glob("transcripts-*.pickle")}

    before, saved = shards(), set(cache.load(folder)["transcripts"])
    large.transcript("2026/call-003.md", GOOD.replace("A fine quote.", "Changed."))
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert "Changed." in (large.root / "site/quotes.json").read_text()
    assert shards() == before and set(cache.load(folder)["transcripts"]) == saved
    for n in range(SAVE_AFTER):
        large.transcript(f"2026/call-{100 + n:03d}.md", GOOD.replace("A fine quote.", f"Changed {n}."))
    assert_same_as_cold(large, monkeypatch, tmp_path)
    after, now = shards(), set(cache.load(folder)["transcripts"])
    assert len(now ^ saved) == 2 * (SAVE_AFTER + 1)  # each changed file: its old entry gone, its new one in
    assert {name for name in before if after[name] != before[name]} == \
        {f"transcripts-{cache.shard_of(key):02d}.pickle" for key in now ^ saved}


def test_a_commit_of_a_few_changes_leaves_the_cache_for_the_next_build_to_continue_until_enough_commits_came(
        large, monkeypatch, tmp_path):
    """CI builds each commit in a fresh clone: saving the cache for a commit that changed one transcript cost more
    than the next build's `git log` over the commits since the saved history (issue 22, goal 5). So a commit is
    saved as a changed file is: once SAVE_AFTER of them touched transcripts since the save."""
    from persona_site.incremental.store import SAVE_AFTER

    folder = large.root / cache.DEFAULT_FOLDER
    saved_head = large.git("rev-parse", "HEAD").strip()

    def files() -> dict[str, int]:
        return {path.name: path.stat().st_mtime_ns for path in [folder / cache.FILE, *folder.glob("transcripts-*")]}

    before = files()
    for n in range(SAVE_AFTER - 1):  # each commit changes the same file: one file to read again, whatever their number
        large.transcript("2026/call-003.md", GOOD.replace("A fine quote.", f"Changed {n}."))
        large.commit_all(f"change {n}", date=f"2026-10-21T10:{n:02d}:00+00:00")
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert f"Changed {SAVE_AFTER - 2}." in (large.root / "site/quotes.json").read_text()
    assert files() == before
    assert cache.load(folder)["git"].head == saved_head
    large.transcript("2026/call-003.md", GOOD.replace("A fine quote.", "Changed once more."))
    large.commit_all("once more", date="2026-10-22T10:00:00+00:00")
    assert_same_as_cold(large, monkeypatch, tmp_path)
    assert cache.load(folder)["git"].head == large.git("rev-parse", "HEAD").strip()  # SAVE_AFTER commits: saved
    assert files().keys() == before.keys() and files() != before


def test_commits_that_touch_no_transcript_count_toward_a_save(cached, monkeypatch, tmp_path):
    """Every commit since the saved history makes the next build's `git log` longer, those that changed no
    transcript too (a repository that holds more than the personas): SAVE_AFTER of them, and a build saves."""
    from persona_site.incremental.store import SAVE_AFTER

    folder = cached.root / cache.DEFAULT_FOLDER
    saved = cache.load(folder)["git"].head
    for n in range(SAVE_AFTER - 1):
        cached.write("NOTES.md", f"Note {n}.\n")
        cached.commit_all(f"note {n}", date=f"2026-10-21T10:{n:02d}:00+00:00")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert cache.load(folder)["git"].head == saved
    cached.write("NOTES.md", "One more.\n")
    cached.commit_all("one more", date="2026-10-22T10:00:00+00:00")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert cache.load(folder)["git"].head == cached.git("rev-parse", "HEAD").strip()


def test_a_build_after_commits_looks_again_at_the_transcripts_they_touched_only(large):
    """A scan of the work tree is kept for the next build with its history; after new commits, the next build looks
    again at the files whose stat changed and at those the commits touched (their dates and line commits may
    differ), not at every file, and keys each as a scan of every file would. Here two commits made elsewhere (a
    pull) change a transcript and change it back: its bytes and stat stay as they were, and its history moves."""
    path = "content/transcripts/2026/call-005.md"
    original = (large.root / path).read_bytes()
    head = large.git("rev-parse", "HEAD").strip()
    for message, data in (("changed", original.replace(b"Quote number 005.", b"Elsewhere.")), ("back", original)):
        blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=large.root, input=data,
                              capture_output=True, check=True).stdout.decode().strip()
        index = {**os.environ, "GIT_INDEX_FILE": str(large.root / ".git/elsewhere.index")}
        for args in (["read-tree", head], ["update-index", "--cacheinfo", f"100644,{blob},{path}"]):
            subprocess.run(["git", *args], cwd=large.root, env=index, check=True)
        tree = subprocess.run(["git", "write-tree"], cwd=large.root, env=index, capture_output=True, text=True,
                              check=True).stdout.strip()
        head = large.git("commit-tree", tree, "-p", head, "-m", message, date="2026-10-23T10:00:00+00:00").strip()
    large.git("update-ref", "refs/heads/main", head)
    assert large.git("status", "--porcelain", "content") == ""
    kept = PersistentEngine(large.root)
    assert build_with(large.root, kept).ok
    assert kept.store.looked_at == {"transcripts/2026/call-005.md"}
    everything = PersistentEngine(large.root, cache_dir=None)
    assert build_with(large.root, everything).ok and everything.store.looked_at is None
    assert kept.store._scan.keys == everything.store._scan.keys


def test_a_new_builder_does_not_keep_the_last_ones_garbage(repo):
    """The collector skips the loaded cache from then on (gc.freeze), once per process: freezing at each new
    Builder would keep the last build's cyclic garbage (its Renderer and templates) for good."""
    import gc
    import weakref

    repo.transcript("2026/a.md", GOOD)
    assert build_with(repo.root, PersistentEngine(repo.root, cache_dir=None)).ok  # the process's first: may freeze
    first = PersistentEngine(repo.root, cache_dir=None)
    assert build_with(repo.root, first).ok
    renderer = weakref.ref(first._renderer[1])
    del first
    PersistentEngine(repo.root, cache_dir=None).store
    gc.collect()
    assert renderer() is None


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_serve_hides_its_builds_from_the_collector_and_collects_their_cycles_when_idle(repo):
    """serve's rebuilds do not scan what earlier builds keep (gc.freeze after each), and nothing is kept for good:
    the save when serve is idle (or stops) collects the cycles the builds left."""
    import gc
    import weakref

    from persona_site.build import BuildOptions
    from persona_site.incremental import persistent
    from persona_site.preview import preview_builder

    repo.transcript("2026/a.md", GOOD)
    rebuild, save = preview_builder(repo.root)
    left = _Cycle()
    cycle = weakref.ref(left)
    assert rebuild(None, BuildOptions()).ok
    del left
    gc.collect()
    assert cycle() is not None and gc.get_freeze_count() > 0  # frozen with the build: not scanned, not collected
    save()
    assert cycle() is None and gc.get_freeze_count() == 0
    # saves that keep coming leave serve no idle moment: every COLLECT_EVERY-th build collects all the same
    left = _Cycle()
    cycle = weakref.ref(left)
    assert rebuild(None, BuildOptions()).ok
    del left
    gc.collect()
    assert cycle() is not None  # frozen with that build
    for _ in range(persistent.COLLECT_EVERY):
        assert rebuild(None, BuildOptions()).ok
    assert cycle() is None
    save()


def test_a_serve_rebuild_pauses_the_collector_and_leaves_it_on(repo, monkeypatch):
    """The collector's passes over what a rebuild makes are a tenth of a rebuild at 10,000 transcripts: paused
    for the rebuild, on again after it, whether it built or failed (a crash in a build ends no preview)."""
    import gc

    from persona_site import build, preview
    from persona_site.build import BuildOptions

    repo.transcript("2026/a.md", GOOD)
    rebuild, save = preview.preview_builder(repo.root)
    seen = []
    build_site = build.build_site

    def spying(*args, **kwargs):
        seen.append(gc.isenabled())
        if len(seen) == 2:
            raise RuntimeError("a bug in a build")
        return build_site(*args, **kwargs)

    monkeypatch.setattr(build, "build_site", spying)
    assert gc.isenabled() and rebuild(None, BuildOptions()).ok
    assert seen == [False] and gc.isenabled()
    with pytest.raises(RuntimeError):
        rebuild({"content/transcripts/2026/a.md"}, BuildOptions())
    assert seen == [False, False] and gc.isenabled()
    save()


_words = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(date=st.datetimes(timezones=st.sampled_from([ZoneInfo("UTC"), ZoneInfo("Europe/Berlin"),
                                                    dt.timezone(dt.timedelta(hours=5, minutes=30))]),
                         allow_imaginary=False),
       date_only=st.booleans(), company=st.none() | _words, recording=st.none() | _words, body=st.none() | _words,
       participants=st.lists(st.tuples(_words, _words, st.none() | _words), max_size=3),
       meta=st.lists(st.tuples(_words, st.none() | _words | st.lists(_words, max_size=2)), max_size=2),
       quotes=st.lists(st.tuples(_words, st.lists(_words, max_size=2), st.integers(1, 10**6), st.none() | _words,
                                 st.none() | st.tuples(_words, _words), st.booleans()), max_size=4))
def test_a_transcript_comes_back_from_its_frozen_form_as_it_was(date, date_only, company, recording, body,
                                                               participants, meta, quotes):
    """model.freeze keeps what a transcript's quotes share with it once (issue 5): thaw must give back
    an equal transcript, its quotes' dates, zones and companies included, whether or not they share them."""
    from persona_site.model import Participant, Quote, Transcript, freeze, thaw

    made = tuple(Quote(f"q-{i}", "cfo", tuple(tags), words, f"<em>{words}</em>", date if shared else date.replace(year=2000),
                       date_only, company, words[::-1], title, "transcripts/a.md", line, title, added)
                 for i, (words, tags, line, title, added, shared) in enumerate(quotes))
    transcript = Transcript("transcripts/a.md", "A call", date, date_only, company, recording,
                            tuple(Participant(*p) for p in participants), tuple(map(tuple, meta)), made, body)
    back = thaw(freeze(transcript))
    assert back == transcript
    assert back.date.tzinfo == transcript.date.tzinfo and back.date.fold == transcript.date.fold
    assert all(q.date.tzinfo == transcript.date.tzinfo for q in back.quotes if q.date == transcript.date)
    assert all(type(q) is Quote for q in back.quotes) and all(type(p) is Participant for p in back.participants)



MAKING = """
import json, os, sys, time
from persona_site.incremental.pool import MAKE_MIN_OUTPUTS, make_outputs
def made_by(path):
    if path == "broken":
        raise ValueError("a theme's error")
    time.sleep(0.003 if "companies" in path else 0.03)  # a month page costs ten company pages
    return f"{path} {os.getpid()}".encode()
jobs = [(f"companies/c{n}/index.html", True) for n in range(MAKE_MIN_OUTPUTS)]
jobs += [(f"personas/p/{n}/index.html", True) for n in range(30)] + [("feed.xml", False), ("index.html", False)]
if sys.argv[1] == "broken":
    jobs.insert(3, ("broken", True))
spooled_as = None
if sys.argv[1] == "spooled":
    from pathlib import Path
    from persona_site.output import Spooled, spooled
    with spooled(Path(sys.argv[2])) as spool:
        made = make_outputs(jobs, made_by, spool.keep)
        spooled_as = [type(made[p]) is Spooled and made[p].size == os.path.getsize(made[p].path) for p, _ in jobs]
        made = {p: open(made[p].path, "rb").read() for p in made}
else:
    made = make_outputs(jobs, made_by)
print(json.dumps({"order": list(made) == [path for path, _ in jobs], "me": os.getpid(), "spooled": spooled_as,
                  "made": {path: [movable, made[path].decode()] for path, movable in jobs}}))
"""


@pytest.mark.parametrize("spooled", [False, True])
def test_a_large_builds_pages_are_made_on_both_cores_and_a_workers_failure_is_raised_here(spooled, tmp_path):
    """make_outputs (a large build's pages on every core; in a process of its own, as the build command is: a
    process with threads makes them all itself) gives every output, in the plan's order; the pages of many
    (months, companies) are shared out between a forked process and this one, which takes back what the fork
    has not started, so however much one kind of page costs both are busy until the end (1.5 s of work here:
    a share in each); the other outputs are made here. An
    output a worker cannot make is made again in the main process, which raises its error as a build without
    workers would. Spooled (the build command's), each process writes what it made as it makes it, and only a
    marker of the file comes back; the spool is gone after."""
    mode = ["spooled", str(tmp_path / "site")] if spooled else ["all"]
    done = subprocess.run([sys.executable, "-c", MAKING, *mode], capture_output=True, text=True, timeout=60)
    found = json.loads(done.stdout)
    assert found["spooled"] == ([True] * len(found["made"]) if spooled else None)
    assert list(tmp_path.iterdir()) == []
    assert found["order"]
    made_in: dict[bool, list[str]] = {True: [], False: []}
    for path, (movable, data) in found["made"].items():
        assert data.startswith(path + " ")
        made_in[movable].append(data.split()[1])
    assert set(made_in[False]) == {str(found["me"])}  # the rest: in the main process
    here = made_in[True].count(str(found["me"]))
    assert len(set(made_in[True])) >= 2 and 0 < here < len(made_in[True])  # shared by this process and forks
    broken = subprocess.run([sys.executable, "-c", MAKING, "broken"], capture_output=True, text=True, timeout=60)
    assert broken.returncode == 1 and "ValueError: a theme's error" in broken.stderr


def test_a_theme_whose_quote_card_differs_makes_its_cards_where_its_pages_ask(repo):
    """Cards are made as transcripts are read (Renderer.cards_for) with the theme's quote_card; a theme whose
    _macros.html has another quote_card (one argument), or none, is no crash there: its pages make their cards."""
    import datetime as dt

    from persona_site.config import Config
    from persona_site.render import RenderContext, Renderer
    from persona_site.theme import Theme

    repo.transcript("2026/a.md", GOOD)
    transcript = build_with(repo.root).site.transcripts.get("transcripts/2026/a.md")
    ctx = RenderContext(Config(), dt.datetime.now(dt.timezone.utc), {})
    for macros in ("{% macro quote_card(q) %}{{ q.text }}{% endmacro %}", "{% macro other() %}{% endmacro %}"):
        repo.write("themes/mine/templates/_macros.html", macros)
        assert Renderer(Theme.for_site(repo.root, "mine")).cards_for(ctx)(transcript) is None
    repo.write("themes/mine/templates/_macros.html", "{% macro quote_card(q, who) %}<li>{{ q.text }}</li>{% endmacro %}")
    cards = Renderer(Theme.for_site(repo.root, "mine")).cards_for(ctx)(transcript)
    assert [card for _, card in cards] == ["<li>A fine quote.</li>", "<li>Another.</li>"]


def test_months_counted_together_stay_remembered_while_their_sum_is_used():
    """In their words: a persona's months are summed once (the sum kept under all of them) and each month's count
    is kept too. A build that finds the sum uses no month alone, yet must keep them: the next build, in which one
    month changed, counts that month only."""
    import hashlib

    from persona_site.incremental.render_memo import UsedMemo
    from persona_site.phrases import Months

    def month(*lines: bytes) -> bytes:  # as archive.lines_digest gives a month's key
        return hashlib.sha1(b"\n".join(hashlib.sha256(line).digest() for line in lines)).digest()

    months = [month(b'{"text": "a"}'), month(b'{"text": "b"}', b'{"text": "c"}'), month(b'{"text": "d"}')]
    memo = UsedMemo()
    for month_key in months:
        memo[month_key] = f"count of {month_key}"
    memo[Months(months)] = "the sum"
    memo.forget_unasked()
    assert memo.get(Months(months)) == "the sum"  # the next build: nothing changed
    memo.forget_unasked()
    changed = [*months[:2], month(b'{"text": "e"}')]
    assert memo.get(Months(changed)) is None
    assert [memo.get(month_key) for month_key in changed[:2]] == [f"count of {month_key}" for month_key in months[:2]]
    memo.forget_unasked()
    assert memo.get(months[2]) is None  # the month no longer asked for is forgotten


def _call(n: int, words: str = "") -> str:
    """A call of its own company, month and year: the pages that show its quote show few others."""
    return (f"---\ntitle: Call {n}\ndate: {2018 + n // 12}-{1 + n % 12:02d}-10\ncompany: Company {n}\n"
            f"participants:\n  Dana Whitfield: head-of-revops\n---\n\n**Dana Whitfield:** [Quote number {n}{words}.]{{.pain}}\n")


def test_a_rebuild_reads_from_the_cache_only_the_transcripts_its_new_pages_show(repo, monkeypatch, tmp_path):
    """The cache's frozen transcripts (with their HTML bodies when published: 80 of its 103 MB at 10,000) stay in
    their files, each read when a page made shows it: after one edit, not every transcript is read, let alone held."""
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    for n in range(100):
        repo.write(f"content/transcripts/call-{n:02d}.md", _call(n))
    repo.commit_all("calls", date="2026-10-20T10:00:00+00:00")
    an_hour_ago = time.time_ns() - 3600 * 10**9  # older than RACY_NS: the next build reads only the edited file
    for path in (repo.root / "content/transcripts").rglob("*.md"):
        os.utime(path, ns=(an_hour_ago, an_hour_ago))
    assert repo.run("build").exit_code == 0
    stored = cache.load(repo.root / cache.DEFAULT_FOLDER)["transcripts"].values()
    assert len(stored) == 100 and all(type(entry.transcript) is cache.FrozenAt for entry in stored)
    reads = []
    read = cache._ShardFile.read
    monkeypatch.setattr(cache._ShardFile, "read", lambda self, *place: reads.append(place) or read(self, *place))
    monkeypatch.setattr(pool, "cores_to_fork", lambda: 1)  # every read in this process, where it is counted
    repo.write("content/transcripts/call-00.md", _call(0, ", edited"))
    assert_same_as_cold(repo, monkeypatch, tmp_path)
    assert "Quote number 0, edited." in (repo.root / "site/transcripts/call-00/index.html").read_text()
    assert 0 < len(reads) <= 25  # the persona page's latest 20 (in the plan), and the freshness check's latest


def test_a_load_reads_shards_ahead_of_unpickling_them_but_only_a_few(large, monkeypatch):
    """The shards are read and checked by a thread while this one unpickles (cache.load): what it loads is what
    reading each shard in turn gives, and no more than READ_AHEAD shards are held unread besides the one being
    unpickled (at 100,000 transcripts a shard is 15 MB: holding all of them would add 230 MB to the build)."""
    folder = large.root / cache.DEFAULT_FOLDER
    in_turn = {}
    for number in range(cache.SHARDS):
        in_turn.update(cache.read_shard(folder / f"transcripts-{number:02d}.pickle", Parsed))
    held, most = [0], [0]
    real_read, real_entries = cache._sealed_part, cache._entries

    def read(path):
        found = real_read(path)
        held[0] += 1
        most[0] = max(most[0], held[0])
        time.sleep(0.01)  # a reader far quicker than the unpickling
        return found

    def entries(found, entry_type):
        held[0] -= 1
        time.sleep(0.05)
        return real_entries(found, entry_type)

    monkeypatch.setattr(cache, "_sealed_part", read)
    monkeypatch.setattr(cache, "_entries", entries)
    loaded = cache.load(folder)["transcripts"]
    assert loaded.keys() == in_turn.keys() and len(loaded) == POOL_MIN_FILES + 20
    assert all(loaded[key][1::2] == in_turn[key][1::2] and bytes(loaded[key][0]) == bytes(in_turn[key][0])
               and list(map(QuoteRef.held, loaded[key].quotes)) == list(map(QuoteRef.held, in_turn[key].quotes))
               for key in loaded)
    assert 1 < most[0] <= cache.READ_AHEAD + 1


def test_a_load_with_every_shard_left_out_has_no_transcripts(large):
    """A command that found every shard damaged starts again with all of them left out (cli._recovering): the
    state loads without a transcript, and the build parses them all."""
    folder = large.root / cache.DEFAULT_FOLDER
    every = frozenset(str(folder / f"transcripts-{number:02d}.pickle") for number in range(cache.SHARDS))
    state = cache.load(folder, every)
    assert state["transcripts"] == {} and "scan" in state
    assert len(cache.load(folder, every - {min(every)})["transcripts"]) > 0
