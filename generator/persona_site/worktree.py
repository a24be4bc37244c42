"""The work tree's transcripts without walking it: git's view now, over the stats of the last look (issue 5).

A build starts from every transcript and its stat (content.read_work_tree). At 10,000 transcripts, walking
content/ and stat-ing each file takes 0.12 to 0.17 s in Python, half of a no-change build. Git keeps the
same knowledge in its index and checks it in C, on another core while this process starts (gitmeta.ahead:
`git ls-files` and `git status`). So the cache folder keeps the last look's stats with git's view at that
moment, and the next command stats again only the files git does not vouch for: changed, untracked or
ignored now or then, a different blob in the index, or changed too close to when git was asked. Every other
file has the blob it had then, so the same bytes, and keeps its stat.

Whatever git cannot vouch for goes back to the walk: not a repository, a link or a submodule, a file flagged
assume-unchanged or skip-worktree, a folder git lists whole (a repository inside), a file over the size
limit or with hard links, a memo from another source or version. The answer is the walk's: the same
transcripts, and for each, its stat now or, when its bytes are the same as then, its stat then.
"""

from __future__ import annotations

import os
import pickle
import stat as stat_module
from pathlib import Path
from typing import NamedTuple

from . import __version__, gitmeta
from .cache import ensure_folder, write_atomic
from .content import MAX_FILE_BYTES, RACY_NS, TRANSCRIPTS, ContentFiles, Stat, _stat, read_work_tree

MEMO = "work-tree.pickle"
FORMAT = 2
_PREFIX = TRANSCRIPTS + "/"
_TRUSTED_MODES = (b"H 100644 ", b"H 100755 ")
"""A regular file git checks (tag H): not a link (120000), a submodule (160000), assume-unchanged (h), or
skip-worktree (S)."""


def files(source: Path, folder: Path | None, save: bool) -> ContentFiles:
    """read_work_tree's answer, from git's view and the memo in `folder` when they can tell it, else by a walk;
    with `save`, the memo is brought up to date for the next command."""
    memo = _load(folder, source) if folder is not None else None  # first: git answers meanwhile (gitmeta.ahead)
    view = _git_view(source) if folder is not None else None
    tracked = _tracked(source, view, memo) if view is not None else None
    stats = _stats(source, view, tracked, memo) if tracked is not None and memo is not None else None
    found = read_work_tree(source, stats)
    if save and tracked is not None and view.index is not None and not found.diagnostics and not found.links:
        _save(folder, source, view, tracked, memo, found.stats, None if stats is None else view.again)
    return found


class _View(NamedTuple):
    """What git said about the transcripts, and when it was asked."""

    index: tuple | None
    """The stat of git's index file (git replaces the file whenever it changes it)."""
    listed: frozenset[str]
    """The transcripts `git status` lists: changed, untracked or ignored."""
    asked: int
    again: set[str]
    """The paths _stats stat-ed again (it fills this in)."""


def _git_view(source: Path) -> _View | None:
    if not (source / ".git").exists() or not gitmeta.is_repository(source):  # paths must be from git's top
        return None
    if os.path.islink(source / "content") or os.path.islink(source / TRANSCRIPTS):
        return None  # git sees a link, not the files the walk finds through it
    try:
        entries, asked = gitmeta.status(source)
    except gitmeta.GitError:
        return None
    listed = set()
    for _state, path in entries:
        if path.startswith(_PREFIX):
            if path.endswith("/"):  # a repository inside: git does not list its files
                return None
            listed.add(path)
    return _View(_index(source), frozenset(listed), asked, set())


def _load(folder: Path, source: Path) -> dict | None:
    try:
        with open(folder / MEMO, "rb") as handle:
            memo = pickle.load(handle)
        if memo["version"] == (__version__, FORMAT) and memo["source"] == str(source.resolve()) \
                and isinstance(memo["index"], tuple) and isinstance(memo["tracked"], bytes) \
                and isinstance(memo["unsure"], frozenset) and isinstance(memo["stats"], dict):
            return memo
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError,
            IndexError, KeyError, MemoryError):
        pass
    return None


def _index(source: Path) -> tuple | None:
    try:
        return tuple(_stat(os.stat(source / ".git" / "index")))
    except OSError:  # a linked work tree (.git is a file), or no commit yet
        return None


def _tracked(source: Path, view: _View, memo: dict | None) -> bytes | None:
    """The index's transcript entries: the memo's when the index file is the same, else git's."""
    if memo is not None and view.index is not None and view.index == memo["index"]:
        return memo["tracked"]
    try:
        return gitmeta.tracked(source)
    except gitmeta.GitError:
        return None


def _entries(tracked: bytes) -> set[bytes]:
    return set(tracked.split(b"\0")) - {b""}


def _path(entry: bytes) -> str:
    return entry.partition(b"\t")[2].decode("utf-8", "surrogateescape")


def _stats(source: Path, view: _View, tracked: bytes, memo: dict) -> dict[str, Stat] | None:
    """Each transcript's stat, by path, or None when only a walk can tell."""
    known: dict[str, Stat] = memo["stats"]
    again = view.again
    again |= view.listed | memo["unsure"]
    if tracked != memo["tracked"]:  # a commit, a checkout, an add: the entries that differ
        new, old = _entries(tracked), _entries(memo["tracked"])
        if not all(entry.startswith(_TRUSTED_MODES) for entry in new - old):
            return None
        again.update(map(_path, new ^ old))
        paths = sorted(set(map(_path, new)) | again)
    else:  # the same blobs: the files found then (by path), and those git did not vouch for then or now
        paths = known if again <= known.keys() else sorted(known.keys() | again)
    stats: dict[str, Stat] = {}
    real = os.path.realpath(source)
    for path in paths:
        if path in known and path not in again:
            stats[path] = known[path]
        elif "/." not in path:  # as the walk: no hidden file or folder
            try:
                info = os.lstat(f"{source}/{path}")
            except FileNotFoundError:
                continue  # deleted
            except OSError:
                return None
            if stat_module.S_ISLNK(info.st_mode) or os.path.realpath(f"{source}/{path}") != f"{real}/{path}":
                return None  # a link, or a file in a linked folder: the walk follows it, or refuses it
            if path[-3:] != ".md":
                continue
            if not stat_module.S_ISREG(info.st_mode) or info.st_nlink > 1 or info.st_size > MAX_FILE_BYTES:
                return None  # a folder, a hard link, a file too large: the walk tells
            stats[path] = _stat(info)
    return stats


def _save(folder: Path, source: Path, view: _View, tracked: bytes, memo: dict | None, stats: dict[str, Stat],
          again: set[str] | None) -> None:
    """Keep this look for the next command, unless the memo already says as much. A file stat-ed close to when
    git was asked stays in doubt."""
    looked = stats.keys() if again is None else again & stats.keys()
    racy = view.asked - RACY_NS
    unsure = view.listed | {path for path in looked if max(stats[path][1], stats[path][2]) >= racy}
    if memo is not None and memo["tracked"] == tracked:
        if memo["unsure"] == unsure and memo["index"] == view.index:
            return  # the stats it keeps for the others are the ones used now
    elif not all(entry.startswith(_TRUSTED_MODES) for entry in _entries(tracked)):
        return  # a link, a submodule, a file git does not check: the walk it is, every time
    state = {"version": (__version__, FORMAT), "source": str(source.resolve()), "index": view.index,
             "tracked": tracked, "unsure": frozenset(unsure), "stats": stats}
    try:
        ensure_folder(folder)
        write_atomic(folder / MEMO, pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass
