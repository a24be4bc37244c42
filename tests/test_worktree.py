"""Finding the transcripts from git's view and the last look (worktree.py) gives what walking the folder gives:
the same files, and for each its stat now, or its stat from before when its bytes are the same as then."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import transcript

from persona_site import content, gitmeta
from persona_site.incremental import cache, uptodate, worktree
from test_cache import GOOD, assert_same_as_cold, cached  # noqa: F401 (a fixture)

BODY = "**Dana Whitfield:** [A quote.]{.pain}\n"


class Looks:
    """Each look at the work tree, by worktree.files and by a walk, checked against each other."""

    def __init__(self, repo, monkeypatch) -> None:
        self.repo, self.folder = repo, repo.root / cache.DEFAULT_FOLDER
        self.seen: dict[tuple, bytes] = {}
        """(path, stat) -> the bytes the file had when a walk saw that stat."""
        self.walks = 0
        self.unchanged = False
        """Whether the last check found nothing changed by the last look's summary alone."""
        walk = content._markdown_files

        def counted(*args, **kwargs):
            if args[1] == content.TRANSCRIPTS:
                self.walks += 1
            return walk(*args, **kwargs)

        monkeypatch.setattr(content, "_markdown_files", counted)

    def check(self, walked: bool = False) -> content.ContentFiles:
        """One look (a new command: git's answers are its own), which walks only if `walked`. When the last look's
        summary says nothing changed, it says what this look finds."""
        before = self.walks
        quick = worktree.unchanged_since_last_look(self.repo.root, self.folder, gitmeta.RUN_WHEN_ASKED)
        found = worktree.files(self.repo.root, self.folder, save=True)
        assert (self.walks > before) == walked
        self.unchanged = quick is not None
        if quick is not None:
            assert quick == uptodate.stats_digest(found.stats)
        truth = content.read_work_tree(self.repo.root)
        for path, stat in truth.stats.items():
            self.seen[path, stat] = (self.repo.root / path).read_bytes()
        assert list(found.stats) == list(truth.stats)  # the same files, in the same order
        for path, stat in found.stats.items():
            if stat != truth.stats[path]:  # an old stat only for the same bytes
                assert self.seen[path, stat] == (self.repo.root / path).read_bytes(), path
        assert (found.diagnostics, found.links) == (truth.diagnostics, truth.links)
        return found


def age(path: Path, seconds: int = 10) -> None:
    """An edit made a while ago (not within the moments git could miss)."""
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 1_000_000_000))


def old_enough(repo) -> None:
    """Wait until the files' last changes are out of the racy window, as they are in real use."""
    newest = max(max(p.stat().st_mtime_ns, p.stat().st_ctime_ns) for p in (repo.root / "content").rglob("*"))
    while time.time_ns() < newest + worktree.RACY_NS + 10_000_000:
        time.sleep(0.05)


@pytest.fixture
def looks(repo, monkeypatch):
    for n in range(6):
        repo.transcript(f"2026/t{n}.md", BODY.replace("A quote", f"Quote {n}"))
    repo.commit_all("start")
    old_enough(repo)
    found = Looks(repo, monkeypatch)
    found.check(walked=True)  # no memo yet
    return found


def test_edits_adds_deletes_commits_and_checkouts_are_seen_without_a_walk(looks):
    repo, root = looks.repo, looks.repo.root
    t = root / "content/transcripts/2026"
    assert looks.check().stats == looks.check().stats  # nothing changed: the memo's answer
    assert looks.unchanged  # and the summary's, without the memo
    (t / "t0.md").write_text(transcript(BODY.replace("A quote", "Edited")))
    looks.check()
    assert not looks.unchanged
    (t / "t0.md").write_text(transcript(BODY.replace("A quote", "Edited again, same size?")))
    looks.check()
    repo.git("checkout", "--", "content/transcripts/2026/t0.md")  # back to the committed bytes
    looks.check()
    repo.transcript("2026/new.md", BODY)  # untracked
    repo.transcript("2027/q1/deep.md", BODY)  # in a new, untracked folder
    looks.check()
    (t / "t1.md").unlink()
    looks.check()
    repo.git("mv", "content/transcripts/2026/t2.md", "content/transcripts/2026/moved.md")
    looks.check()
    repo.commit_all("more")
    looks.check()
    (t / "t3.md").touch()  # a new stat, the same bytes
    looks.check()
    repo.git("checkout", "-q", "-b", "other")
    repo.git("rm", "-q", "content/transcripts/2026/t4.md")
    repo.transcript("2026/t5.md", BODY.replace("A quote", "Other branch"))
    repo.commit_all("other")
    looks.check()
    repo.git("checkout", "-q", "main")  # git rewrites t4 and t5
    looks.check()
    (t / "t5.md").write_text(transcript(BODY.replace("A quote", "Stashed")))
    repo.git("stash", "-q")
    looks.check()
    repo.git("stash", "pop", "-q")
    looks.check()
    (root / ".gitignore").write_text("content/transcripts/private/\n")
    repo.transcript("private/secret.md", BODY)  # ignored by git, read by the build
    looks.check()
    repo.transcript("private/secret.md", BODY.replace("A quote", "Changed in secret"))
    looks.check()
    repo.transcript(".hidden/x.md", BODY)
    repo.write("content/transcripts/2026/notes.txt", "not a transcript")
    looks.check()


def test_a_rename_git_sees_in_the_work_tree_drops_the_old_name(looks):
    root = looks.repo.root / "content/transcripts/2026"
    (root / "t0.md").rename(root / "renamed.md")
    looks.repo.git("add", "-N", "content/transcripts/2026/renamed.md")  # status: " R renamed.md\0t0.md"
    assert "content/transcripts/2026/t0.md" not in looks.check().stats


def test_an_edit_that_keeps_size_and_times_is_seen_whatever_the_repository_says_of_ctime(looks):
    looks.repo.git("config", "core.trustctime", "false")
    looks.repo.git("config", "core.checkstat", "minimal")
    path = looks.repo.root / "content/transcripts/2026/t2.md"
    age(path, 100)
    looks.repo.git("update-index", "--refresh")  # git's entry: that older time, not racily clean
    looks.check()
    time.sleep(1.1)  # a ctime in another second than git's entry (git may keep whole seconds)
    info = path.stat()
    path.write_text(path.read_text().replace("Quote 2", "Quote 7"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    looks.check()


def test_an_edit_that_keeps_size_and_modification_time_is_seen(looks):
    path = looks.repo.root / "content/transcripts/2026/t0.md"
    info = path.stat()
    path.write_text(path.read_text().replace("Quote 0", "Quote 9"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    found = looks.check()
    assert found.stats["content/transcripts/2026/t0.md"] != info  # git lists it: stat-ed again (its ctime)


def test_a_file_changed_as_git_was_asked_is_looked_at_again_next_time(looks, monkeypatch):
    repo = looks.repo
    path = repo.root / "content/transcripts/2026/t0.md"
    path.write_text(transcript(BODY.replace("A quote", "Committed")))
    repo.commit_all("edit")  # a new blob in the index: the next look stats t0 again
    status = gitmeta.status

    def late(root, git):  # git found t0 clean; t0 changed before its stat was taken
        answer = status(root, git)
        path.write_text(transcript(BODY.replace("A quote", "Edited as git answered")))
        return answer

    monkeypatch.setattr(gitmeta, "status", late)
    worktree.files(repo.root, looks.folder, save=True)
    monkeypatch.setattr(gitmeta, "status", status)
    repo.git("checkout", "--", "content/transcripts/2026/t0.md")  # the committed bytes again, clean to git
    looks.check()


@pytest.mark.parametrize("case", ["untracked link", "tracked link", "assume-unchanged", "skip-worktree",
                                  "nested repository", "content a repository", "transcripts a repository",
                                  "large file", "linked folder", "folder moved out and linked"])
def test_what_git_cannot_vouch_for_is_walked(looks, case, tmp_path):
    repo, root = looks.repo, looks.repo.root
    t = root / "content/transcripts/2026"
    if case == "linked folder":
        (t.parent / "alias").symlink_to("2026")  # no .md in its name: git lists it as one untracked file
    elif case == "folder moved out and linked":
        shutil.move(t, tmp_path / "elsewhere")
        t.symlink_to(tmp_path / "elsewhere")  # the walk refuses it (LINK_OUT); git lists its files as deleted
    elif case.endswith("link"):
        (t / "link.md").symlink_to("t0.md")
        if case == "tracked link":
            repo.commit_all("link")
    elif case in ("assume-unchanged", "skip-worktree"):
        repo.git("update-index", f"--{case}", "content/transcripts/2026/t0.md")
    elif case == "nested repository":
        repo.transcript("inner/x.md", BODY)
        subprocess.run(["git", "init", "-q", str(t.parent / "inner")], check=True)
    elif case.endswith("a repository"):  # its files are that repository's: this one's index says nothing of them
        subprocess.run(["git", "init", "-q", str(root / "content" if case.startswith("content") else t.parent)],
                       check=True)
    else:
        (t / "big.md").write_bytes(b"x" * (content.MAX_FILE_BYTES + 1))
    looks.check(walked=True)
    looks.check(walked=True)  # every time


def test_a_memo_is_used_only_for_its_own_source_and_version(looks, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(looks.repo.root, copy, symlinks=True)
    looks.repo.root = copy  # the memo in the copy names the original
    looks.folder = copy / cache.DEFAULT_FOLDER
    looks.check(walked=True)
    looks.check()
    assert [p.name for p in looks.folder.glob("work-tree*.pickle")] == [worktree.memo_file(looks.folder, copy).name]
    memo = worktree.memo_file(looks.folder, looks.repo.root)
    memo.write_bytes(b"not a pickle")
    looks.check(walked=True)
    looks.check()  # written anew
    memo.write_bytes(memo.read_bytes()[:100])  # torn
    looks.check(walked=True)


def test_outside_git_and_in_a_sub_folder_of_a_repository_the_folder_is_walked(repo, tmp_path, monkeypatch):
    repo.transcript("2026/a.md", BODY)
    folder = repo.root / cache.DEFAULT_FOLDER
    looks = Looks(repo, monkeypatch)
    looks.check(walked=True)
    looks.check(walked=True)  # not a repository
    outer = tmp_path / "outer"
    shutil.copytree(repo.root, outer / "personas")
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    repo.root = outer / "personas"
    looks.folder = folder = repo.root / cache.DEFAULT_FOLDER
    looks.check(walked=True)
    looks.check(walked=True)  # git's paths start at outer/


def test_builds_that_find_the_files_by_git_equal_cold_builds(cached, monkeypatch, tmp_path):
    old_enough(cached)
    assert cached.run("build").exit_code == 0  # the memo, from a walk
    t = cached.root / "content/transcripts/2026"
    (t / "a.md").write_text(transcript(GOOD.replace("A fine quote.", "An edited quote.")))
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    cached.commit_all("edit", date="2026-10-21T10:00:00+00:00")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    cached.git("checkout", "-q", "HEAD~1", "--", "content")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "An edited quote." not in (cached.root / "site/quotes.json").read_text()
    (t / "b.md").unlink()
    cached.transcript("2026/c.md", "**Dana Whitfield:** [Sea.]{.objection}\n", date="2026-09-02")
    assert_same_as_cold(cached, monkeypatch, tmp_path)
    assert "Sea." in (cached.root / "site/quotes.json").read_text()
