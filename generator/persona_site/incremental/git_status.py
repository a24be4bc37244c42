"""serve's `git status`: the last full answer, with the paths the watcher saw change asked again (issue 22, goal 3).

Every build asks git which files are uncommitted (gitmeta.status): for the footer's "with uncommitted changes", a
published transcript's "changes not committed yet", and the dates of its quotes, line by line. At 100,000
transcripts git takes 0.2-0.3 s to answer, in every rebuild of serve, after an edit to one file. serve's watcher
says which paths changed since the last rebuild, so only those are looked at again, and the last answer stands for
every other path while nothing else that decides git's answer
changed: HEAD's commit, the index file, and the ignore files at the top (.gitignore there, in content/ and in
themes/, and .git/info/exclude). Otherwise (the first rebuild, a commit, `git add`, a batch the watcher could not
tell) git is asked about everything, as by the build command.

A changed path git's index holds as a merged regular file (the usual edit) is answered here: git's index lists
its blob (`git ls-files --stage`, read once while the index and HEAD are the same) and `git hash-object` gives the
file's, as git would store it (its attributes' filters and line ends applied); the file is changed when they differ.
What the index says against HEAD (a staged change) is the last answer's, as the index is the same. Any other
path is asked of git (`git status -- <paths>`): at 100,000 transcripts that reads the 10 MB index, 45 ms a rebuild.

Git is asked about everything, too, when the last answer cannot be patched path by path: a changed path inside a
repository of its own (a theme kept as a submodule: git reports the submodule's folder, not the file), a folder
listed whole (a repository inside), a rename or an intent-to-add entry (git pairs paths), or a batch of more than
MAX_PATHS paths (a folder of thousands deleted: git would compare each file with each path, or refuse so long a
command line).

What this does not see, and git would: the files the watcher skips (basics.never_read: hidden files, editors'
temporary ones), which "with uncommitted changes" does not count either (gitmeta.dirty_paths); a .gitignore deeper
in content/ or themes/ edited while serving, or git's own settings changed (core.excludesFile): either may change
whether a file nobody committed counts as uncommitted, in the preview, until the next full answer.
"""

from __future__ import annotations

import os
import stat as stat_module
import subprocess
from pathlib import Path
from typing import NamedTuple

from ..content import stat_of
from ..gitmeta import STATUS, STATUS_PATHS, GitRunner, head_commit, status_records
from .clean_tree import ENTRY, LISTING

MAX_PATHS = 200
"""More changed paths than this in one batch: git is asked about everything (as quick as asking about 200)."""
_DECIDING = (".git/index", ".gitignore", "content/.gitignore", "themes/.gitignore", ".git/info/exclude")
"""The files besides HEAD whose change may change git's answer for a path nobody edited."""


class _Answer(NamedTuple):
    state: tuple
    """What else decided it (_state)."""
    records: dict[bytes, tuple[bytes, ...]]
    """Path -> its record (gitmeta.status_records)."""
    asked: int
    """When git was asked about every path."""


class PatchedStatus(GitRunner):
    """A GitRunner whose `git status` (gitmeta.STATUS) is the last answer with the paths changed since asked again;
    every other command runs as asked."""

    def __init__(self) -> None:
        self._last: _Answer | None = None
        self._changed: set[str] | None = None
        """The paths (relative to the source) changed since the last answer; None when not known."""
        self._listing: tuple[tuple, bytes] | None = None
        """(the state it was read in, `git ls-files --stage -v --debug -z` of STATUS_PATHS): each tracked file's
        blob and the size git saw."""

    def expect(self, changed: set[str] | None) -> None:
        """The watcher's batch for the next build; the paths of a build that never asked add up with the next's."""
        self._changed = None if changed is None or self._changed is None else self._changed | changed

    def run(self, root: Path, args: tuple[str, ...],
            input: bytes | None = None) -> tuple[subprocess.CompletedProcess[bytes], int]:
        if args != STATUS or input is not None:
            return super().run(root, args, input)
        changed, self._changed = self._changed, set()
        last, self._last = self._last, None
        state = _state(root)
        paths = sorted({path for path in changed or () if path.split("/")[0] in STATUS_PATHS})
        if state is None or changed is None or last is None or last.state != state or len(paths) > MAX_PATHS \
                or any(_in_a_repository_of_its_own(root, path) for path in paths):
            return self._full(root, state)
        here = self._answered_here(root, state, paths, last.records)
        rest = [path for path in paths if path not in here]
        done, asked = super().run(root, ("--literal-pathspecs", *STATUS[:-len(STATUS_PATHS)], *rest)) if rest \
            else (subprocess.CompletedProcess(args, 0, b"", b""), last.asked)
        if done.returncode != 0:
            return self._full(root, state)
        below = tuple(path.encode("utf-8", "surrogateescape") + b"/" for path in paths)  # a file now: nothing below
        asked_again = {path.encode("utf-8", "surrogateescape") for path in paths}
        records = {path: record for path, record in last.records.items()
                   if path not in asked_again and not path.startswith(below)}
        records.update((record[0][3:], record) for record in here.values() if record is not None)
        records.update(_by_path(done.stdout))
        self._last = _Answer(state, records, last.asked) if _patchable(records) else None
        out = b"".join(field + b"\0" for record in records.values() for field in record)
        return subprocess.CompletedProcess(args, 0, out, b""), last.asked

    def _answered_here(self, root: Path, state: tuple, paths: list[str],
                       last: dict[bytes, tuple[bytes, ...]]) -> dict[str, tuple[bytes, ...] | None]:
        """The record (None: none, the file is as committed) of each of the paths that the index answers for, as
        git does: a merged regular file, still one (or gone), with the mode the index keeps, is changed when its
        size is not the one the index keeps (unless that is 0), else when its blob is not the index's (a file with a
        carriage return is asked of git)."""
        entries = {path: entry for path, entry in ((path, self._entry(root, state, path)) for path in paths)
                   if entry is not None}
        to_hash, found = [], {}
        for path, (mode, _, size) in entries.items():
            try:
                info = os.lstat(root / path)
            except FileNotFoundError:
                found[path] = b"D"
                continue
            except OSError:
                continue
            if not stat_module.S_ISREG(info.st_mode) or (mode == b"100755") != bool(info.st_mode & stat_module.S_IXUSR):
                continue  # git tells
            if size and info.st_size & 0xFFFFFFFF != size:
                found[path] = b"M"
            elif not _has_cr(root / path):  # a CR: git's line ends depend on the index's blob (git tells)
                to_hash.append(path)
        if to_hash:
            done, _ = super().run(root, ("hash-object", "--", *to_hash))
            blobs = done.stdout.split()
            if done.returncode == 0 and len(blobs) == len(to_hash):
                found.update((path, b" " if blob == entries[path][1] else b"M") for path, blob in zip(to_hash, blobs))
        answers: dict[str, tuple[bytes, ...] | None] = {}
        for path, worktree in found.items():
            name = path.encode("utf-8", "surrogateescape")
            record = last.get(name, (b"  ",))
            if len(record) == 1:  # else a rename: git pairs it
                index = record[0][:1]
                answers[path] = None if index + worktree == b"  " else (index + worktree + b" " + name,)
        return answers

    def _entry(self, root: Path, state: tuple, path: str) -> tuple[bytes, bytes, int] | None:
        """(mode, blob, size) of the path's one entry in the index, when it is one clean_tree.ENTRY matches (else
        None)."""
        if self._listing is None or self._listing[0] != state:
            done, _ = super().run(root, LISTING)
            self._listing = (state, done.stdout if done.returncode == 0 else b"")
        listing, name = self._listing[1], path.encode("utf-8", "surrogateescape")
        at = listing.find(b"\t" + name + b"\0")  # a path's stage 0 entry is its only one
        if at == -1:
            return None
        entry = ENTRY.match(listing, listing.rfind(b"\n", 0, at) + 1)
        return None if entry is None or entry.start(3) != at + 1 else (entry[1], entry[2], int(entry[5]))

    def _full(self, root: Path, state: tuple | None) -> tuple[subprocess.CompletedProcess[bytes], int]:
        done, asked = super().run(root, STATUS)
        if done.returncode == 0 and state is not None:
            records = _by_path(done.stdout)
            if _patchable(records):
                self._last = _Answer(state, records, asked)
        return done, asked


def _has_cr(path: Path) -> bool:
    """Whether the file holds a carriage return (or cannot be read): `git hash-object` converts CRLF under
    core.autocrlf or a text attribute where `git status` leaves a blob committed with CRLF as it is."""
    try:
        return b"\r" in path.read_bytes()
    except OSError:
        return True


def _by_path(out: bytes) -> dict[bytes, tuple[bytes, ...]]:
    return {record[0][3:]: record for record in status_records(out)}


def _patchable(records: dict[bytes, tuple[bytes, ...]]) -> bool:
    """Whether git's answer for one path stands alone: no rename or intent-to-add entry (git pairs those with other
    paths) and no folder listed whole (a repository inside: git says nothing of the files in it)."""
    return not any(len(record) > 1 or record[0][1:2] == b"A" or path.endswith(b"/") for path, record in records.items())


def _in_a_repository_of_its_own(root: Path, path: str) -> bool:
    """Whether the path, or a folder it is in below `root`, holds a .git (a submodule, a repository inside)."""
    parts = path.split("/")
    return any(os.path.lexists(os.path.join(root, *parts[:end], ".git")) for end in range(1, len(parts) + 1))


def _state(root: Path) -> tuple | None:
    """HEAD's commit and the stats of the files in _DECIDING (None: missing); None when `root` is not the top of
    a repository of its own (git's paths would not be the watcher's)."""
    if not os.path.isdir(root / ".git"):
        return None
    stats = []
    for name in _DECIDING:
        try:
            stats.append(stat_of(os.stat(root / name)))
        except FileNotFoundError:
            stats.append(None)
        except OSError:
            return None
    return str(root), head_commit(root), tuple(stats)
