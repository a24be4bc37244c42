"""A build whose inputs did not change since the last one is skipped, and only then."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time

import pytest

from persona_site.incremental import uptodate, worktree
from persona_site.output import MARKER
from test_worktree import old_enough

GOOD = "**Dana Whitfield:** [A fine quote.]{.pain}\n\n**Priya Raman:** [Another.]{.criteria}\n"


@pytest.fixture
def built(repo):
    repo.transcript("2026/a.md", GOOD)
    repo.commit_all("start", date="2026-10-20T10:00:00+00:00")
    first = repo.run("build")
    assert first.exit_code == 0 and "up to date" not in first.stderr
    return repo


@pytest.fixture
def settled(built, monkeypatch):
    """Built, then left a while: git vouches for every transcript, so a build with nothing changed is found up to
    date by the last look's summary, without loading the work tree's memo."""
    built.write("content/transcripts/2026/.DS_Store", "hidden: git lists it, the build never reads it")
    subprocess.run(["git", "init", "-q", str(built.root / "content/transcripts/.archive")], check=True)  # hidden too
    old_enough(built)
    built.run("build")  # the first look git vouches for whole: nothing a build reads changed (basics.never_read)
    assert "with uncommitted changes" not in (built.root / "site/index.html").read_text()
    loads, load = [], worktree._load
    monkeypatch.setattr(worktree, "_load", lambda *args: loads.append(args) or load(*args))
    assert "up to date" in built.run("build").stderr
    assert not loads
    return built


def marker_mtime(repo) -> int:
    return (repo.root / "site" / MARKER).stat().st_mtime_ns


def test_an_identical_build_is_skipped_and_touches_nothing(built):
    before = marker_mtime(built)
    again = built.run("build")
    assert again.exit_code == 0
    assert "Nothing changed since the last build (1 transcript, 2 quotes, 2 personas" in again.stderr
    assert marker_mtime(built) == before


@pytest.mark.parametrize("since", ["built", "settled"])
@pytest.mark.parametrize("change", ["edit", "edit added to git", "new file", "file deleted", "config", "theme",
                                    "commit", "base url", "day", "site removed", "page edited",
                                    "stamp sealed with another key"])
def test_any_change_builds_for_real(request, since, monkeypatch, change):
    built = request.getfixturevalue(since)
    args = ["build"]
    if change.startswith("edit"):
        built.transcript("2026/a.md", GOOD.replace("A fine quote.", "Edited."))
        if change == "edit added to git":
            built.git("add", "content/transcripts/2026/a.md")
    elif change == "new file":
        built.transcript("2026/b.md", GOOD.replace("A fine quote.", "New."))
    elif change == "file deleted":
        (built.root / "content/transcripts/2026/a.md").unlink()
    elif change == "config":
        built.write("persona-site.toml", 'title = "Renamed"\n')
    elif change == "theme":
        built.write("themes/default/templates/404.html", "gone")
    elif change == "commit":
        built.git("commit", "--allow-empty", "-qm", "empty", date="2026-11-01T10:00:00+00:00")
    elif change == "base url":
        args += ["--base-url", "/other/"]
    elif change == "day":
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1796169600")  # a day later
    elif change == "site removed":
        shutil.rmtree(built.root / "site")
    elif change == "page edited":
        page = built.root / "site/tags/index.html"
        page.write_text(page.read_text() + "<!-- edited by hand -->")
    elif change == "stamp sealed with another key":  # a cache from elsewhere: its stamp never skips (SECURITY.md 41)
        monkeypatch.setenv("PERSONA_SITE_CACHE_KEY", "not the key this cache was sealed with")
    result = built.run(*args)
    assert result.exit_code == 0, result.output
    assert "up to date" not in result.stderr
    assert (built.root / "site/index.html").is_file()
    assert "edited by hand" not in (built.root / "site/tags/index.html").read_text()
    assert "up to date" in built.run(*args).stderr


def test_a_file_git_does_not_have_yet_is_news_on_the_next_build(built):
    """The pages say when the site was built from files not committed: a new file, even one the build never
    reads, makes the next build a real one."""
    assert "with uncommitted changes" not in (built.root / "site/index.html").read_text()
    built.write("content/notes.txt", "not a transcript")
    assert "up to date" not in built.run("build").stderr
    assert "with uncommitted changes" in (built.root / "site/index.html").read_text()
    assert "up to date" in built.run("build").stderr


def test_a_content_folder_left_as_a_submodules_path_is_read_whole(built):
    """content/ was a submodule whose .git is gone (its files kept by hand): git's index still holds the
    submodule's entry, so `git status` says nothing of the files in it, and only a walk sees an edit."""
    root, sub = built.root, built.root.parent / "sub"
    shutil.copytree(root / "content", sub)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@e.org",
                                                                 "commit", "-qm", "content"]):
        subprocess.run(["git", "-C", str(sub), *args], check=True)
    built.git("rm", "-rq", "--cached", "content")
    shutil.rmtree(root / "content")
    built.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "content")
    built.git("commit", "-qm", "content as a submodule")
    (root / "content/.git").unlink()
    old_enough(built)
    assert built.run("build").exit_code == 0
    old_enough(built)
    built.run("build")
    built.transcript("2026/a.md", GOOD.replace("A fine quote.", "Edited in the kept folder."))
    old_enough(built)
    assert "up to date" not in built.run("build").stderr
    assert "Edited in the kept folder." in (root / "site/index.html").read_text()


def test_an_edit_put_back_by_hand_is_built_again(settled):
    """Git's index is the same file throughout, and lists nothing once the bytes are back: the look after the edit
    was not one git vouched for whole, so nothing it kept may say the site is up to date."""
    path = settled.root / "content/transcripts/2026/a.md"
    original = path.read_bytes()
    settled.transcript("2026/a.md", GOOD.replace("A fine quote.", "Edited for a while."))
    old_enough(settled)  # as an edit saved a while before the build: git's index is left as it was
    assert "up to date" not in settled.run("build").stderr
    assert "Edited for a while." in (settled.root / "site/index.html").read_text()
    path.write_bytes(original)
    old_enough(settled)
    assert "up to date" not in settled.run("build").stderr
    assert "Edited for a while." not in (settled.root / "site/index.html").read_text()


def test_a_build_does_not_wait_for_the_sites_check_once_a_transcript_changed(settled, monkeypatch):
    asked = []
    intact = uptodate.SiteCheck.intact
    monkeypatch.setattr(uptodate.SiteCheck, "intact", lambda self, wanted=True: asked.append(wanted)
                        or intact(self, wanted))
    assert "up to date" in settled.run("build").stderr
    assert True in asked  # waited for
    asked.clear()
    settled.transcript("2026/a.md", GOOD.replace("A fine quote.", "Edited."))
    assert "up to date" not in settled.run("build").stderr
    assert asked and True not in asked  # given up


def test_a_cache_folder_that_cannot_be_written_only_costs_the_cache(built, monkeypatch, tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("PERSONA_SITE_CACHE", str(tmp_path / "a-file"))
    built.transcript("2026/a.md", GOOD.replace("A fine quote.", "Edited."))
    result = built.run("build")
    assert result.exit_code == 0, result.output
    assert "Edited." in (built.root / "site/index.html").read_text()


def test_another_sources_memo_that_cannot_be_removed_is_left_where_it_is(built):
    """A cache folder shared by two sources (PERSONA_SITE_CACHE) may hold the other's memo as a file this user
    cannot remove: a folder of that name stands for it here."""
    other = built.root / ".persona-cache" / "work-tree-0000000000000000.pickle"
    other.mkdir()
    (other / "kept").write_text("not this build's to remove")
    old_enough(built)
    built.transcript("2026/b.md", GOOD.replace("A fine quote.", "A new one."))  # a new look to keep
    result = built.run("build")
    assert result.exit_code == 0, result.output
    assert "A new one." in (built.root / "site/index.html").read_text()
    assert (other / "kept").is_file()


def test_the_sites_check_is_given_up_once_git_says_a_transcript_changed(built, monkeypatch):
    """The site's files are stat-ed while git answers; an answer that makes it moot stops it (10,000 published
    pages are not stat-ed for a build that runs anyway)."""
    from persona_site import output
    from persona_site.incremental import cache

    looked, go = [], threading.Event()
    real = output._unchanged_on_disk

    def slow(*args):
        looked.append(args)
        go.wait(10)
        return real(*args)

    monkeypatch.setattr(output, "_unchanged_on_disk", slow)
    check = uptodate.SiteCheck(built.root / cache.DEFAULT_FOLDER, built.root / "site")
    while not looked:
        time.sleep(0.01)
    threading.Timer(0.2, go.set).start()
    assert not check.intact(wanted=False)
    assert len(looked) == 1
    monkeypatch.setattr(output, "_unchanged_on_disk", real)
    assert len(output._manifest(built.root / "site")) > 10
    assert uptodate.SiteCheck(built.root / cache.DEFAULT_FOLDER, built.root / "site").intact()


def test_a_skipped_build_repeats_the_warnings_and_strict_still_fails(repo):
    repo.transcript("2026/a.md", "**Dana Whitfield:** [Only revops.]{.pain}\n")
    assert repo.run("build").exit_code == 0
    again = repo.run("build")
    assert "up to date" in again.stderr
    assert "content/personas/vp-sales.md:1: warning: no transcript quotes 'vp-sales' yet" in again.stderr
    strict = repo.run("build", "--strict")
    assert strict.exit_code == 1


def test_no_cache_means_no_skipping(built, monkeypatch):
    monkeypatch.setenv("PERSONA_SITE_CACHE", "off")
    assert built.run("build").exit_code == 0
    assert "up to date" not in built.run("build").stderr


def test_a_change_to_persona_site_itself_rebuilds(built, monkeypatch, tmp_path):
    from persona_site.content import read_work_tree
    files = read_work_tree(built.root)
    before = uptodate.fingerprints(built.root, {}, files)
    theme_file = tmp_path / "fake-package" / "themes" / "default" / "templates" / "x.html"
    theme_file.parent.mkdir(parents=True)
    theme_file.write_text("x")
    monkeypatch.setattr(uptodate, "__file__", str(tmp_path / "fake-package" / "uptodate.py"))
    assert uptodate.fingerprints(built.root, {}, files) != before


def test_a_linked_transcript_edited_at_its_target_rebuilds(repo, tmp_path):
    shared = repo.root / "content" / "shared"  # a link within content/: one out of it is refused (SECURITY.md, 40)
    shared.mkdir(parents=True)
    target = shared / "t.md"
    from conftest import transcript
    target.write_text(transcript(GOOD))
    (repo.root / "content/transcripts").mkdir(parents=True)
    (repo.root / "content/transcripts/t.md").symlink_to(target)
    assert repo.run("build").exit_code == 0
    target.write_text(transcript(GOOD.replace("A fine quote.", "ZZUNIQUE quote.")))
    result = repo.run("build")
    assert "up to date" not in result.stderr
    assert "ZZUNIQUE" in (repo.root / "site/quotes.json").read_text()
