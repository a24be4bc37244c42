"""A fresh clone's work tree found clean from git's index, without `git status` (issue 22, goal 5).

In a fresh clone (CI, with the cache restored), every file checked out in the same second as git wrote its index is
"racily clean" for git as Debian and Ubuntu build it (without USE_NSEC it compares times to the second), so each
`git status` reads and hashes all of them again: 0.2-0.7 s at 10,000 transcripts, seconds at 100,000. Yet git's
index keeps each file's stat to the nanosecond. Here, as git built with USE_NSEC does: a file is as committed when
its stat is the one the index keeps, every field of it, and it was last changed before the index was written; a
file changed in the same instant (the last ones checked out: file times tick every few milliseconds) is read, and
is as committed when its bytes are its blob, which git writes byte for byte (gitmeta.verbatim). The tree is clean
when every tracked file under content/, themes/ and the config is so, nothing is staged, and there is no other file
there (untracked or ignored), and git's top, index and work tree are root's own (no core.worktree, GIT_DIR or
GIT_INDEX_FILE elsewhere). Anything else, and `git status` tells, as before.

What git built without USE_NSEC would catch and this does not: bytes changed after git looked at the file with no
change to its stat at all (a second write of the same size within one tick of the file clock, or a write through
a shared memory mapping, which moves no time), in the same second as the index was written but not in the same
instant. Git misses the same change once it falls in an earlier second than the index; in a fresh clone nothing
writes the files between the checkout and the build.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat as stat_module
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..gitmeta import STATUS_PATHS, GitError, answers, verbatim

_TOP = ("rev-parse", "--show-toplevel")
LISTING = ("ls-files", "-v", "--stage", "--debug", "-z", "--", *STATUS_PATHS)
_OTHERS = ("ls-files", "--others", "-z", "--", *STATUS_PATHS)
_STAGED = ("diff-index", "--cached", "--quiet", "HEAD", "--", *STATUS_PATHS)
ENTRY = re.compile(rb"H (100644|100755) ([0-9a-f]+) 0\t([^\0]+)\0(  ctime: \d+:\d+\n  mtime: \d+:\d+\n"
                    rb"  dev: \d+\tino: \d+\n  uid: \d+\tgid: \d+\n  size: (\d+))\tflags: ([0-9a-f]+)\n")
"""An index entry as `git ls-files -v --stage --debug -z` (LISTING) shows it: one git checks (tag H: not
assume-unchanged or skip-worktree), a regular file, merged (stage 0), with its stat as the index keeps it: mode,
blob, path, the stat's lines (ctime and mtime in s:ns, dev, ino, uid, gid and size, as STAT_LINES writes them),
the size alone, and the flags. (serve's git_status.py reads the same listing.)"""
STAT_LINES = b"  ctime: %d:%d\n  mtime: %d:%d\n  dev: %d\tino: %d\n  uid: %d\tgid: %d\n  size: %d"
"""A stat as git's listing shows it (each field as the index keeps it: 32 bits, unsigned, in decimal): one
comparison of bytes for a file's stat, not nine numbers read."""
_ELSEWHERE = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR")
"""Environment that points git at another repository, work tree or index than root/.git's."""
_UNUSUAL = 0x8000 | 1 << 29 | 1 << 30
"""Entry flags of an entry git does not check as it does others: assume-valid, intent-to-add, skip-worktree."""
_U32 = 0xFFFFFFFF
MIN_INDEX_BYTES = 256 * 1024
"""A smaller index (fewer than about 2,000 files): `git status` hashes little, and is asked (worth_asking)."""
MAX_READ = 1000
"""More files than this changed in the instant the index was written: `git status` tells."""


def worth_asking(root: Path) -> bool:
    """Whether the index holds enough files for `git status` to take long hashing them."""
    try:
        return os.stat(os.path.join(root, ".git", "index")).st_size >= MIN_INDEX_BYTES
    except OSError:
        return False


class Clean(NamedTuple):
    """A work tree found as committed."""

    started: int
    """When the look began (time.time_ns())."""
    stats: dict[str, os.stat_result]
    """The lstat of each file under the folder asked about (`under`), by path: what a walk would find there now
    (worktree.py takes them for its walk)."""
    tracked: bytes
    """The index's entries under that folder as `gitmeta.tracked` lists them (`ls-files --stage -v -z`), from the
    same listing: not asked of git again."""


def clean_since(root: Path, answered: Callable[[], bool] = lambda: False, under: str | None = None) -> Clean | None:
    """The look, if git's index says the work tree's content, themes and config are as committed; None when it
    cannot say so (changed, staged, untracked or ignored files, a file git does not check as others, a file changed
    in the same instant as the index was written, no index, not git's top), or as soon as `answered` says `git
    status` has answered meanwhile (it was quicker: 100,000 files, few of them racy). `under`: a folder
    ("content/transcripts/") whose files' stats the answer keeps."""
    index = os.path.join(root, ".git", "index")
    if any(name in os.environ for name in _ELSEWHERE):
        return None
    try:
        before = os.stat(index)
        started = time.time_ns()
        top, listing, others, _ = answers(root, [(args, None) for args in (_TOP, LISTING, _OTHERS, _STAGED)])
    except (OSError, GitError):  # _STAGED fails when something is staged
        return None
    if others or os.fsdecode(top.rstrip(b"\n")) != os.path.realpath(root) or answered():  # core.worktree elsewhere
        return None
    looked = _as_indexed(root, listing, before.st_mtime_ns, answered, None if under is None else os.fsencode(under))
    if looked is None or not _blobs_match(root, looked[0]):
        return None
    try:
        after = os.stat(index)
    except OSError:
        return None
    if (after.st_mtime_ns, after.st_ino, after.st_size) != (before.st_mtime_ns, before.st_ino, before.st_size):
        return None  # git wrote its index meanwhile: asked again, by `git status`
    return Clean(started, {os.fsdecode(path): info for path, info in looked[1].items()}, looked[2])


def _as_indexed(root: Path, listing: bytes, index_mtime_ns: int, answered: Callable[[], bool],
                under: bytes | None) -> tuple[dict[bytes, bytes], dict[bytes, os.stat_result], bytes] | None:
    """The files (path -> blob id) changed in the same instant as the index was written, and the stat and the entry
    (as Clean.tracked) of each file `under` that folder, when every entry of the listing is one git checks as others
    and its file has the stat the index keeps; None when one is not so. (A folder made a link is an untracked file:
    clean_since sees it.)"""
    top, position, lstat, billion, u32 = os.fsencode(root) + b"/", 0, os.lstat, 1_000_000_000, _U32
    same_instant, kept, count, entries = {}, {}, 0, []
    while position < len(listing):
        count += 1
        if not count % 4096 and answered():
            return None
        entry = ENTRY.match(listing, position)
        if entry is None:  # another kind of entry (a link, a submodule, a conflict, a flag): git status tells
            return None
        position = entry.end()
        mode, blob, path, stat_lines, _, flags = entry.groups()
        try:
            info = lstat(top + path)
        except OSError:
            return None
        mtime, ctime = info.st_mtime_ns, info.st_ctime_ns
        if STAT_LINES % (ctime // billion & u32, ctime % billion, mtime // billion & u32, mtime % billion,
                         info.st_dev & u32, info.st_ino & u32, info.st_uid & u32, info.st_gid & u32,
                         info.st_size & u32) != stat_lines \
                or (len(flags) > 3 and int(flags, 16) & _UNUSUAL) or not stat_module.S_ISREG(info.st_mode) \
                or (mode == b"100755") != bool(info.st_mode & stat_module.S_IXUSR):
            return None
        if mtime >= index_mtime_ns:
            same_instant[path] = blob
            if len(same_instant) > MAX_READ:
                return None
        if under is not None and path.startswith(under):
            kept[path] = info
            entries.append(listing[entry.start():entry.end(3) + 1])  # "H <mode> <blob> 0\t<path>\0"
    return same_instant, kept, b"".join(entries)


def _blobs_match(root: Path, files: dict[bytes, bytes]) -> bool:
    """Whether each file's bytes are its blob (git's id of them, SHA-1 or SHA-256 as the repository's), and git
    writes them byte for byte."""
    if not files:
        return True
    paths = [os.fsdecode(path) for path in files]
    if len(verbatim(root, paths)) != len(paths):
        return False
    for path, blob in files.items():
        try:
            data = (root / os.fsdecode(path)).read_bytes()
        except OSError:
            return False
        hashing = (hashlib.sha1 if len(blob) == 40 else hashlib.sha256)(b"blob %d\0" % len(data))
        hashing.update(data)
        if hashing.hexdigest().encode() != blob:
            return False
    return True
