"""A cache restored into a fresh clone (CI: actions/cache) is used for the files git vouches for, by their blob
ids, without reading them, and never for a file whose bytes may differ from its blob (issue 22, goal 5)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import Repo, build_with, cold_build
from test_cache import large  # noqa: F401 (a fixture)
from test_worktree import old_enough

from persona_site.build import BuildOptions, build_site
from persona_site import gitmeta
from persona_site.incremental import PersistentEngine, cache, clean_tree, pool, store, worktree
from persona_site.output import MARKER

BODY = "**Dana Whitfield:** [Quote number {n}.]{{.pain}}\n\n**Priya Raman:** [Another {n}.]{{.criteria}}\n"
NAMES = [f"2026/t{n}.md" for n in range(6)]


class Reads:
    """The transcripts each build reads from the work tree (in this process: fewer than pool.POOL_MIN_FILES)."""

    def __init__(self, monkeypatch) -> None:
        self.paths: list[str] = []
        self.outputs: dict[str, bytes] = {}
        read = pool.read_bytes

        def counted(source, path, data):
            if data is None:
                self.paths.append(path)
            return read(source, path, data)

        monkeypatch.setattr(pool, "read_bytes", counted)

    def build(self, root: Path) -> set[str]:
        """Build root as the build command does, outputs kept; the paths read, relative to content/transcripts/.
        The site is what the reference engine makes of the work tree, byte for byte."""
        del self.paths[:]
        built = build_with(root)
        assert built.ok
        cold = cold_build(root)
        assert list(built.outputs) == list(cold.outputs)
        for path, data in built.outputs.items():
            assert data == cold.outputs[path], path
        self.outputs = built.outputs
        return {path.removeprefix("content/transcripts/") for path in self.paths}

    def quotes(self) -> str:
        return self.outputs["quotes.json"].decode()


@pytest.fixture
def origin(repo, monkeypatch):
    """A repository built once, its cache saved, as CI's last run left it; git vouches for as few files as here."""
    monkeypatch.setattr(worktree, "BLOBS_FROM", 1)
    for n, name in enumerate(NAMES):
        repo.transcript(name, BODY.format(n=n))
    repo.commit_all("start", date="2026-10-20T10:00:00+00:00")
    assert build_with(repo.root).ok
    assert (repo.root / cache.DEFAULT_FOLDER / cache.FILE).is_file()
    return repo


def clone(origin: Repo, to: Path, *options: str) -> Repo:
    """A fresh clone of origin (elsewhere: no stat of the last run is any use), with origin's cache copied in."""
    subprocess.run(["git", "clone", "-q", *options, str(origin.root), str(to)], check=True, capture_output=True)
    shutil.copytree(origin.root / cache.DEFAULT_FOLDER, to / cache.DEFAULT_FOLDER)
    return Repo(to)


def test_a_restored_cache_is_used_for_what_git_vouches_for_and_not_for_what_changed(origin, monkeypatch, tmp_path):
    monkeypatch.setattr(store, "SAVE_AFTER", 6)  # the clone's stats saved once as many are new (here 3 read, 4 vouched)
    origin.transcript(NAMES[1], BODY.format(n="1, committed after the cache was saved"))
    origin.commit_all("one file changed", date="2026-10-21T10:00:00+00:00")
    ci = clone(origin, tmp_path / "ci")
    ci.transcript(NAMES[2], BODY.format(n="2, edited in the clone"))
    ci.transcript("2026/new.md", BODY.format(n="new, not committed"))
    old_enough(ci)
    reads = Reads(monkeypatch)
    assert reads.build(ci.root) == {NAMES[1], NAMES[2], "2026/new.md"}
    quotes = reads.quotes()
    for text in ("1, committed after the cache was saved", "2, edited in the clone", "new, not committed"):
        assert text in quotes
    assert "Quote number 2." not in quotes
    assert reads.build(ci.root) == set()  # the stats the last build saw are kept with the hashes


def test_a_large_clone_with_the_cache_restored_reads_nothing(large, tmp_path):
    """With as many files as the build command meets (the pool, git asked for the blob ids: worktree.BLOBS_FROM)."""
    ci = clone(large, tmp_path / "ci")
    old_enough(ci)
    engine = PersistentEngine.for_command(ci.root)
    try:
        built = build_site(ci.root, BuildOptions(), engine)
    finally:
        engine.close()
    assert built.ok and engine.store.read_count == 0
    assert built.outputs == cold_build(ci.root).outputs


def test_a_file_changed_after_git_was_asked_is_read(origin, monkeypatch, tmp_path):
    """Git vouches for what it saw when asked: a file changed since (or as it was asked) is read, and a clone
    built at once, before its files are out of git's racy window, reads them all."""
    ci = clone(origin, tmp_path / "ci")
    reads = Reads(monkeypatch)
    assert reads.build(ci.root) == set(NAMES)
    old_enough(ci)
    ci.transcript(NAMES[3], BODY.format(n="3, edited"))
    worktree.memo_file(ci.root / cache.DEFAULT_FOLDER, ci.root).unlink()  # as in a clone: no memo of the last look
    assert reads.build(ci.root) == {NAMES[3]}
    assert "3, edited" in reads.quotes()


def test_a_file_staged_then_edited_again_is_read(origin, monkeypatch, tmp_path):
    """Git's index holds the staged blob, not the bytes in the work tree: the cache has that blob (a build saw it
    staged), and the file must still be read."""
    monkeypatch.setattr(store, "SAVE_AFTER", 0)  # every build saves the cache
    ci = clone(origin, tmp_path / "ci")
    old_enough(ci)
    reads = Reads(monkeypatch)
    assert reads.build(ci.root) == set()
    ci.transcript(NAMES[2], BODY.format(n="2, staged"))
    ci.git("add", f"content/transcripts/{NAMES[2]}")
    assert reads.build(ci.root) == {NAMES[2]}
    ci.transcript(NAMES[2], BODY.format(n="2, edited after staging"))
    old_enough(ci)
    assert reads.build(ci.root) == {NAMES[2]}
    assert "2, edited after staging" in reads.quotes() and "2, staged" not in reads.quotes()


@pytest.mark.parametrize("how", ["smudge filter", "filter in the index's attributes", "autocrlf", "text attribute",
                                 "attributes in .git/info"])
def test_files_git_writes_otherwise_than_their_blob_are_read(origin, monkeypatch, tmp_path, how):
    """A blob id stands for the bytes only when git writes them as they are: a filter (Git LFS), end-of-line
    conversion or another attribute may make the work tree's bytes differ from the blob's."""
    options: tuple[str, ...] = ()
    if "filter" in how:  # the clone's files say "QUOTE" where their blobs say "Quote", and git sees no change
        origin.write(".gitattributes", "*.md filter=shout\n")
        options = ("-c", "filter.shout.smudge=sed s/Quote/QUOTE/", "-c", "filter.shout.clean=sed s/QUOTE/Quote/")
    elif how == "autocrlf":
        options = ("-c", "core.autocrlf=true")
    elif how == "text attribute":
        origin.write(".gitattributes", "content/**/*.md text eol=crlf\n")
    if (origin.root / ".gitattributes").exists():
        origin.commit_all("attributes")
        assert build_with(origin.root).ok
    ci = clone(origin, tmp_path / "ci", *options)
    old_enough(ci)
    ci.git("status")  # git writes the index again: no entry is racily clean, so no file is compared with its blob
    if how == "attributes in .git/info":
        (ci.root / ".git/info/attributes").write_text("*.md ident\n")
    elif how == "filter in the index's attributes":  # the files were written through it all the same
        (ci.root / ".gitattributes").write_text("# no filter now\n")
    reads = Reads(monkeypatch)
    assert reads.build(ci.root) == set(NAMES)
    if "filter" in how:
        assert "QUOTE number 4." in reads.quotes()


def test_the_content_hash_is_git_blob_id(repo):
    path = repo.transcript("2026/a.md", BODY.format(n="é 1"))
    repo.commit_all("start")
    blob = repo.git("rev-parse", "HEAD:content/transcripts/2026/a.md").strip()
    assert pool.blob_id(path.read_bytes()) == bytes.fromhex(blob)


def test_a_reinstalled_library_keeps_the_cache_and_an_upgraded_one_does_not(tmp_path):
    """CI installs the libraries afresh each run: the same wheel installed again is the same library."""
    def install(folder: Path, version: str, record: str) -> str:
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "pkg").mkdir(parents=True)
        (folder / "pkg/__init__.py").write_text(f"__version__ = '{version}'\n")
        (folder / f"Some.Pkg-{version}.dist-info").mkdir()
        (folder / f"Some.Pkg-{version}.dist-info/RECORD").write_text(record)
        (folder / "other_pkg-1.0.dist-info").mkdir()
        (folder / "other_pkg-1.0.dist-info/RECORD").write_text("other\n")
        return str(folder / "pkg/__init__.py")

    site = tmp_path / "site-packages"
    first = cache.installed_as(install(site, "1.0", "pkg/__init__.py,sha256=a,19\n"), "some_pkg")
    assert cache.installed_as(install(site, "1.0", "pkg/__init__.py,sha256=a,19\n"), "some_pkg") == first
    assert cache.installed_as(install(site, "1.1", "pkg/__init__.py,sha256=b,19\n"), "some_pkg") != first
    source = tmp_path / "checkout/pkg/__init__.py"  # no dist-info beside it: by the file's stat
    source.parent.mkdir(parents=True)
    source.write_text("x = 1\n")
    before = cache.installed_as(str(source), "some_pkg")
    (tmp_path / "new").write_text("x = 1\n")
    os.replace(tmp_path / "new", source)
    assert cache.installed_as(str(source), "some_pkg") != before


@pytest.mark.slow  # three waits for git's racy window
def test_a_clone_of_the_commit_last_built_with_cache_and_site_restored_is_up_to_date(origin, tmp_path):
    """CI (issue 22, goal 5): the last run (a fresh clone, built) left its cache and site; a new run's fresh clone
    elsewhere, at the same commit, with both restored as actions/cache does, builds nothing and leaves the site
    as it was, and so does the next build there. A transcript edited in the clone, or a clone of a later commit,
    builds for real."""
    from test_rebuild import restore

    def fresh_clone(name: str) -> Repo:
        subprocess.run(["git", "clone", "-q", str(origin.root), str(tmp_path / name)], check=True)
        return Repo(tmp_path / name)

    last = fresh_clone("last-run")
    old_enough(last)
    assert "up to date" not in last.run("build").stderr
    ci = fresh_clone("ci")
    restore(last.root, ci.root, (cache.DEFAULT_FOLDER, "site"))
    old_enough(ci)
    manifest = (ci.root / "site" / MARKER).read_bytes()
    for _ in range(2):
        skipped = ci.run("build")
        assert skipped.exit_code == 0, skipped.output
        assert "Nothing changed since the last build (6 transcripts, 12 quotes" in skipped.stderr
        assert (ci.root / "site" / MARKER).read_bytes() == manifest

    ci.transcript(NAMES[4], BODY.format(n="4, edited in the clone"))
    edited = ci.run("build")
    assert "up to date" not in edited.stderr and "4, edited in the clone" in (ci.root / "site/quotes.json").read_text()

    origin.transcript(NAMES[5], BODY.format(n="5, committed since"))
    origin.commit_all("one file changed", date="2026-10-21T10:00:00+00:00")
    later = fresh_clone("later")
    restore(last.root, later.root, (cache.DEFAULT_FOLDER, "site"))
    old_enough(later)
    built = later.run("build")
    assert "up to date" not in built.stderr and "5, committed since" in (later.root / "site/quotes.json").read_text()


def test_a_fresh_clone_is_found_clean_from_gits_index_as_git_status_finds_it(origin, tmp_path, monkeypatch):
    """Git's index keeps each file's stat to the nanosecond: a clone nobody touched is clean by it (clean_tree.py),
    and git status agrees. A file written in the same instant as the index is read and hashed; once git has written
    its index again, later, none is."""
    read = []
    real = clean_tree._blobs_match
    monkeypatch.setattr(clean_tree, "_blobs_match", lambda root, files: read.append(set(files)) or real(root, files))
    ci = clone(origin, tmp_path / "ci")
    assert clean_tree.clean_since(ci.root, lambda: True) is None  # git status answered first: it is taken
    clean = clean_tree.clean_since(ci.root, under="content/transcripts/")
    assert clean is not None and clean.tracked == gitmeta.tracked(ci.root)  # the index's entries, not asked again
    assert sorted(clean.stats) == sorted(f"content/transcripts/{name}" for name in NAMES)
    assert gitmeta.status(ci.root)[0] == []
    time.sleep(0.02)
    ci.git("update-index", "-q", "--refresh")  # the index written again: every file is older than it
    read.clear()
    assert clean_tree.clean_since(ci.root) is not None and read == [set()]


def test_a_file_written_in_the_same_instant_as_the_index_is_as_committed_only_when_its_bytes_are_its_blob(origin):
    path = f"content/transcripts/{NAMES[0]}"
    blob = origin.git("rev-parse", f"HEAD:{path}").strip().encode()
    assert clean_tree._blobs_match(origin.root, {path.encode(): blob})
    (origin.root / path).write_text(BODY.format(n="0, other bytes"))
    assert not clean_tree._blobs_match(origin.root, {path.encode(): blob})


def _same_size_other_bytes(ci: Repo) -> None:
    path = ci.root / "content/transcripts" / NAMES[0]
    info = path.stat()
    path.write_bytes(path.read_bytes().replace(b"Quote number 0", b"Quote NUMBER 0"))
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))  # the same size and mtime: only ctime tells


def _ignored(ci: Repo) -> None:
    (ci.root / ".git/info/exclude").write_text("content/transcripts/2026/local.md\n")
    ci.transcript("2026/local.md", BODY.format(n="local"))


def _staged(ci: Repo) -> None:
    ci.transcript(NAMES[1], BODY.format(n="1, staged"))
    ci.git("add", "content")


CHANGES = {
    "same size and times, other bytes": _same_size_other_bytes,
    "an untracked file": lambda ci: ci.transcript("2026/new.md", BODY.format(n="new")),
    "an ignored file": _ignored,
    "a staged change": _staged,
    "made executable": lambda ci: (ci.root / "content/transcripts" / NAMES[2]).chmod(0o755),
    "deleted": lambda ci: (ci.root / "content/transcripts" / NAMES[3]).unlink(),
    "a theme file added": lambda ci: ci.write("themes/mine/templates/base.html", "<p>mine</p>"),
    "made executable in the index only": lambda ci: (
        ci.git("update-index", "--chmod=+x", f"content/transcripts/{NAMES[2]}"),
        ci.git("commit", "-qm", "executable", date="2026-10-22T10:00:00+00:00")),
    "a work tree elsewhere": lambda ci: _worktree_elsewhere(ci),
}


def _worktree_elsewhere(ci: Repo) -> None:
    """git's work tree set to another copy of the same files, one of them edited there."""
    other = ci.root.parent / "elsewhere"
    shutil.copytree(ci.root / "content", other / "content")
    (other / "content/transcripts" / NAMES[0]).write_text(BODY.format(n="0, edited elsewhere"))
    ci.git("config", "core.worktree", str(other))


@pytest.mark.parametrize("change", CHANGES)
def test_a_clone_changed_after_its_checkout_is_left_to_git_status(origin, tmp_path, change):
    ci = clone(origin, tmp_path / "ci")
    CHANGES[change](ci)
    assert clean_tree.clean_since(ci.root) is None
    assert gitmeta.status(ci.root)[0] != []  # git lists it: changed, staged, untracked or ignored


@pytest.mark.parametrize("variable", ["GIT_INDEX_FILE", "GIT_DIR", "GIT_WORK_TREE"])
def test_git_pointed_elsewhere_by_its_environment_is_left_to_git_status(origin, tmp_path, monkeypatch, variable):
    ci = clone(origin, tmp_path / "ci")
    monkeypatch.setenv(variable, str(ci.root / ".git" / ("index" if variable == "GIT_INDEX_FILE" else "")))
    assert clean_tree.clean_since(ci.root) is None


def test_the_build_command_in_a_fresh_clone_takes_the_index_for_git_status_and_builds_the_same_site(
        origin, tmp_path, monkeypatch):
    """The build command begins `git status` as it starts; in a fresh clone, where it may hash every file, the index
    answers instead (and the status begun is stopped), and the stats taken to compare with it stand for a walk of
    the transcripts. The site is the one the reference builds."""
    from persona_site import content

    ci = clone(origin, tmp_path / "ci")
    (settled, waited), walked = _settling(monkeypatch), []
    real_walk = content._markdown_files
    monkeypatch.setattr(content, "_markdown_files", lambda source, folder, *rest: (
        walked.append(folder), real_walk(source, folder, *rest))[1])
    engine = PersistentEngine.for_command(ci.root)
    try:
        built = build_site(ci.root, BuildOptions(), engine)
    finally:
        engine.close()
    assert settled == [gitmeta.STATUS] and gitmeta.STATUS not in waited and content.TRANSCRIPTS not in walked
    assert built.ok and built.outputs == cold_build(ci.root).outputs
    ci.transcript(NAMES[4], BODY.format(n="4, edited"))
    walked.clear()
    worktree.memo_file(ci.root / cache.DEFAULT_FOLDER, ci.root).unlink()  # as in a clone: no memo of the last look
    engine = PersistentEngine.for_command(ci.root)
    try:
        built = build_site(ci.root, BuildOptions(), engine)
    finally:
        engine.close()
    assert settled == [gitmeta.STATUS] and gitmeta.STATUS in waited  # not clean: git status answers,
    assert content.TRANSCRIPTS in walked  # and the transcripts are walked
    assert built.ok and built.outputs == cold_build(ci.root).outputs
    assert "with uncommitted changes" in built.outputs["index.html"].decode()


def _settling(monkeypatch) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The git commands whose answer the build settles without them (clean_tree's), and those it waited for as they
    ran, as while `git status` hashes 10,000 files checked out in the index's second; the index is always worth
    asking."""
    from persona_site.incremental.git_ahead import GitAhead

    settled: list[tuple[str, ...]] = []
    waited: list[tuple[str, ...]] = []
    real_settle, real_run = GitAhead.settle, GitAhead.run

    def run(self, root, args, input=None):
        begun = self._begun.get((str(root), args))
        if begun is not None and not isinstance(begun[0], subprocess.CompletedProcess):
            waited.append(args)
        return real_run(self, root, args, input)

    monkeypatch.setattr(GitAhead, "answered", lambda self, root, args: False)
    monkeypatch.setattr(clean_tree, "MIN_INDEX_BYTES", 0)
    monkeypatch.setattr(GitAhead, "settle", lambda self, root, args, *rest: (settled.append(args),
                                                                                 real_settle(self, root, args, *rest)))
    monkeypatch.setattr(GitAhead, "run", run)
    return settled, waited


def test_a_clone_where_the_last_one_was_takes_the_index_for_git_status_with_the_restored_memo(
        origin, tmp_path, monkeypatch):
    """A CI runner checks out each run into the same folder and restores the last run's cache, with its memo of the
    last look at that folder: the new clone's index, not `git status`, tells it is clean, a build with nothing
    changed is skipped, and a build after a commit makes the reference's site."""
    upstream, saved = tmp_path / "upstream.git", tmp_path / "saved"
    old_enough(origin)  # as a runner's clone: its files older than the look, their stats kept in the memo
    assert origin.run("build").exit_code == 0
    subprocess.run(["git", "clone", "-q", "--bare", str(origin.root), str(upstream)], check=True)
    for kept in (cache.DEFAULT_FOLDER, "site"):
        shutil.copytree(origin.root / kept, saved / kept, symlinks=True)  # as actions/cache: file times kept

    def checkout() -> Repo:
        shutil.rmtree(origin.root)
        subprocess.run(["git", "clone", "-q", str(upstream), str(origin.root)], check=True)
        for kept in (cache.DEFAULT_FOLDER, "site"):
            shutil.copytree(saved / kept, origin.root / kept, symlinks=True)
        assert worktree.memo_file(origin.root / cache.DEFAULT_FOLDER, origin.root).is_file()
        old_enough(Repo(origin.root))
        return Repo(origin.root)

    (settled, waited), ci = _settling(monkeypatch), checkout()
    assert "Nothing changed" in ci.run("build").output
    assert settled == [gitmeta.STATUS] and gitmeta.STATUS not in waited
    ci.transcript(NAMES[2], BODY.format(n="2, committed since"))
    ci.git("add", "content")  # not the site: CI's publish step keeps it, and the cache
    ci.git("commit", "-qm", "one file changed", date="2026-10-21T10:00:00+00:00")
    ci.git("push", "-q", str(upstream), "HEAD")
    settled.clear()
    waited.clear()
    ci = checkout()
    engine = PersistentEngine.for_command(ci.root)
    try:
        built = build_site(ci.root, BuildOptions(), engine)
    finally:
        engine.close()
    assert settled == [gitmeta.STATUS] and gitmeta.STATUS not in waited
    assert built.ok and built.outputs == cold_build(ci.root).outputs
    assert "2, committed since" in built.outputs["quotes.json"].decode()


def test_a_commit_in_the_same_clone_leaves_the_tree_to_git_status(origin, monkeypatch):
    """After a commit here the index changed too, but the files the memo of the last look saw are still there (not a
    new clone's in their place): `git status` answers soon, and the index is not compared file by file beside it."""
    old_enough(origin)
    assert origin.run("build").exit_code == 0
    settled, _ = _settling(monkeypatch)
    origin.transcript(NAMES[3], BODY.format(n="3, committed here"))
    origin.git("add", "content")
    origin.git("commit", "-qm", "one file changed here", date="2026-10-21T10:00:00+00:00")
    assert origin.run("build").exit_code == 0 and settled == []
    assert "3, committed here" in (origin.root / "site/quotes.json").read_text()


def test_ci_in_one_folder_reads_again_only_what_the_commits_since_the_last_save_changed(origin, tmp_path, monkeypatch):
    """CI builds each commit where the last run was, with the last run's cache and site restored, and keeps them
    again for the next run (actions/cache, under each commit). A commit of one file leaves the cache as it was
    (store.SAVE_AFTER): the next run reads again the files changed since the cache was saved, and no other, and
    each run makes the reference's site."""
    upstream, saved, dev = tmp_path / "upstream.git", tmp_path / "saved", tmp_path / "dev"
    old_enough(origin)  # as a runner's clone: its files older than the look, their stats kept
    shutil.rmtree(origin.root / cache.DEFAULT_FOLDER)  # the first run: the cache saved with them
    assert origin.run("build").exit_code == 0
    subprocess.run(["git", "clone", "-q", "--bare", str(origin.root), str(upstream)], check=True)
    subprocess.run(["git", "clone", "-q", str(upstream), str(dev)], check=True)
    for kept in (cache.DEFAULT_FOLDER, "site"):
        shutil.copytree(origin.root / kept, saved / kept, symlinks=True)
    saved_head = cache.load(saved / cache.DEFAULT_FOLDER)["git"].head
    reads = Reads(monkeypatch)

    def ci_run() -> set[str]:
        shutil.rmtree(origin.root)
        subprocess.run(["git", "clone", "-q", str(upstream), str(origin.root)], check=True)
        for kept in (cache.DEFAULT_FOLDER, "site"):
            shutil.copytree(saved / kept, origin.root / kept, symlinks=True)
        old_enough(Repo(origin.root))
        read = reads.build(origin.root)
        shutil.rmtree(saved)
        for kept in (cache.DEFAULT_FOLDER, "site"):
            shutil.copytree(origin.root / kept, saved / kept, symlinks=True)
        return read

    for number, name in ((1, NAMES[2]), (2, NAMES[3])):
        Repo(dev).transcript(name, BODY.format(n=f"{number}, committed since"))
        Repo(dev).git("commit", "-qam", f"change {number}", date=f"2026-10-2{number}T10:00:00+00:00")
        Repo(dev).git("push", "-q", "origin", "HEAD")
        assert ci_run() == set((NAMES[2], NAMES[3])[:number])
        assert f"{number}, committed since" in reads.quotes()
        assert cache.load(saved / cache.DEFAULT_FOLDER)["git"].head == saved_head  # not saved for one file
