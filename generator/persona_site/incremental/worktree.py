"""The work tree's transcripts without walking it: git's view now, over the stats of the last look (issue 5).

A build starts from every transcript and its stat (content.read_work_tree). At 10,000 transcripts, walking
content/ and stat-ing each file takes 0.12 to 0.17 s in Python, half of a no-change build. Git keeps the
same knowledge in its index and checks it in C: `git status` runs on another core while this process starts
(git_ahead.py), and `git ls-files` tells the index's entries when git has replaced the index since. So the
cache folder keeps the last look's stats with git's view at that moment, and the next command stats again
only the files git does not vouch for: changed, untracked or ignored now or then, a different blob in the
index, or changed too close to when git was asked. Every other file has the blob it had then, so the same
bytes, and keeps its stat.

Whatever git cannot vouch for goes back to the walk: not a repository, a link (or a file reached through
one) or a submodule, a file flagged assume-unchanged or skip-worktree, a folder git lists whole (a
repository inside), a file over the size limit or with hard links, a memo from another source or version.
The answer is the walk's: the same transcripts, and for each, its stat now or, when its bytes are the same
as then, its stat then. serve's watcher takes another short way, patch_work_tree: the last answer with the
paths it saw change looked at again.

The files stat-ed now that git vouches for also get their blob id from the index (ContentFiles.blobs, issue 22,
goal 5): after a fresh clone (CI, with the cache restored) no stat is known, and the id stands for the bytes,
so the store need not read them. Git vouches for a file when it is a regular file in the index, `git status`
does not list it, its stat is older than when git was asked, and neither core.autocrlf nor an attribute (text,
eol, filter, ident, working-tree-encoding) makes its bytes differ from its blob's. What git itself cannot see is
not seen here either: a conversion setting changed since the file was checked out, without checking it out
again (`git add --renormalize`), leaves git's index, and this, thinking the file holds its blob's bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import stat as stat_module
from collections.abc import Collection
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

from .. import __version__, gitmeta
from ..content import MAX_FILE_BYTES, RACY_NS, TRANSCRIPTS, ContentFiles, Stat, is_hidden, read_work_tree, stat_of
from . import clean_tree
from .cache import keep_state, read_state
from .git_ahead import GitAhead
from .uptodate import stats_digest

MEMO = "work-tree"
"""The memo's files: work-tree-<hash of the source's real path>.pickle, one source's each, so that a clone elsewhere
(a runner's new folder) does not load another folder's memo only to drop it (35 ms at 10,000 transcripts)."""
LOOK = "last-look"
"""The last look's summary beside the memo (last-look-<the same hash>.pickle), kept when git vouched for every
transcript then (none listed by `git status`, none stat-ed too close to when git was asked): git's index file
as it was, and stats_digest of the transcripts' stats. While the index is the same file and `git status` lists
no transcript, the memo would give those same stats, so a no-change build takes the digest and leaves the memo
unread (unchanged_since_last_look: at 100,000 transcripts, 25 MB and a third of a second)."""
VERSION = f"{__version__}/work-tree/4"
_PREFIX = TRANSCRIPTS + "/"
_TRUSTED_MODES = (b"H 100644 ", b"H 100755 ")
"""A regular file git checks (tag H): not a link (120000), a submodule (160000), assume-unchanged (h), or
skip-worktree (S)."""
_ENTRY = re.compile(rb"(?<![^\0])H 100(?:644|755) ([0-9a-f]{40}) 0\t([^\0]*)\0")
"""An index entry git checks (as _TRUSTED_MODES), merged (stage 0), with a SHA-1 blob id: the id and the path.
Only at an entry's start: a path may hold what looks like an entry."""
BLOBS_FROM = 100
"""Fewer files to vouch for than this are read and hashed: that costs less than the three git commands that
tell which files git writes byte for byte."""


def files(source: Path, folder: Path | None, save: bool,
          git: gitmeta.GitRunner = gitmeta.RUN_WHEN_ASKED) -> ContentFiles:
    """read_work_tree's answer, from git's view and the memo in `folder` when they can tell it, else by a walk;
    with `save`, the memo is brought up to date for the next command."""
    if folder is None:
        return read_work_tree(source, git=git)
    real = os.path.realpath(source)
    last_look = _load(folder, real)  # first: git answers meanwhile (git_ahead.py)
    clean = None
    if (last_look is None or (last_look["index"] != _index(source) and not _same_files(source, last_look))) \
            and isinstance(git, GitAhead) and not git.answered(source, gitmeta.STATUS) \
            and clean_tree.worth_asking(source):
        # A fresh clone (CI: with the last run's memo when the clone is where the last one was), or the first build:
        # git's index may tell a clean tree while `git status` hashes every file checked out in the second the index
        # was written (clean_tree.py)
        clean = clean_tree.clean_since(source, lambda: git.answered(source, gitmeta.STATUS), _PREFIX)
        if clean is not None:
            git.settle(source, gitmeta.STATUS, b"", clean.started)
    view = _git_view(source, git)
    tracked = None if view is None else clean.tracked if clean is not None else _tracked(source, view, last_look)
    looked = None
    if tracked is not None and last_look is not None:
        looked = _stats(source, real, view, tracked, last_look)
    elif tracked is not None and clean is not None:  # every file as committed: its stat taken then, not walked
        looked = _vouched(source, real, clean.stats)
    tree = read_work_tree(source, None if looked is None else looked[0], git)
    if tracked == b"" and tree.stats:  # git tracks no transcript, so it vouches for none: nothing committed yet,
        return tree  # or content/ a submodule's path whose .git is gone (git says nothing of what is in it)
    if tracked is not None and not tree.diagnostics and not tree.links:
        if save and view.index is not None:
            _save(folder, real, _Look(view, tracked, tree.stats, None if looked is None else looked[1]), last_look)
        fresh = tree.stats.keys() if looked is None else looked[1]
        if len(fresh) >= BLOBS_FROM:  # a fresh clone, or no memo of the last look
            return replace(tree, blobs=_blobs(source, view, tracked, tree.stats, fresh))
    return tree


class _View(NamedTuple):
    """What git said about the transcripts, and when it was asked."""

    index: Stat | None
    """The stat of git's index file (git replaces the file whenever it changes it)."""
    listed: frozenset[str]
    """The transcripts `git status` lists: changed, untracked or ignored."""
    asked: int


def _git_view(source: Path, git: gitmeta.GitRunner) -> _View | None:
    if not (source / ".git").exists() or not gitmeta.is_repository(source, git):  # paths must be from git's top
        return None
    if os.path.islink(source / "content") or os.path.islink(source / TRANSCRIPTS):
        return None  # git sees a link, not the files the walk finds through it
    if os.path.lexists(source / "content" / ".git") or os.path.lexists(source / TRANSCRIPTS / ".git"):
        return None  # a repository (or a submodule) of its own: this one neither lists nor vouches for its files
    try:
        entries, asked = gitmeta.status(source, git)
    except gitmeta.GitError:
        return None
    listed = set()
    for _state, path in entries:
        if not path.startswith(_PREFIX) or "/." in path[len(TRANSCRIPTS):]:
            continue  # not a transcript, or hidden (.DS_Store, a hidden folder): the walk never reads it
        if path.endswith("/"):  # a repository inside: git does not list its files
            return None
        listed.add(path)
    return _View(_index(source), frozenset(listed), asked)


def memo_file(folder: Path, source: Path | str, kind: str = MEMO) -> Path:
    """Where the memo of the work tree at `source` (or, as `kind`, its LOOK) is kept in the cache folder."""
    real = os.path.realpath(source).encode("utf-8", "surrogateescape")
    return folder / f"{kind}-{hashlib.sha256(real).hexdigest()[:16]}.pickle"


def unchanged_since_last_look(source: Path, folder: Path | None, git: gitmeta.GitRunner) -> bytes | None:
    """stats_digest of the stats files() would give now, when the last look's summary (LOOK) can tell it: git's
    index is the file it was then and `git status` lists no transcript, now as then; else None."""
    if folder is None:
        return None
    real = os.path.realpath(source)
    look = read_state(memo_file(folder, real, LOOK), VERSION)
    if look.get("source") != real or not isinstance(look.get("digest"), bytes) or look.get("index") is None \
            or _index(source) != look["index"]:  # before asking git: a clone's `git status` may take long (files())
        return None
    view = _git_view(source, git)
    if view is None or view.listed or view.index != look["index"]:
        return None
    return look["digest"]


def _load(folder: Path, real: str) -> dict | None:
    memo = read_state(memo_file(folder, real), VERSION)
    try:
        if memo["source"] == real and isinstance(memo["index"], tuple) and isinstance(memo["tracked"], bytes) \
                and isinstance(memo["unsure"], frozenset) and isinstance(memo["stats"], dict):
            kept = memo["stats"]  # plain tuples (_save), each made a Stat again in C (basics.loaded_in_c)
            return {**memo, "stats": dict(zip(kept, map(Stat, kept.values())))}
    except (KeyError, TypeError):
        pass
    return None


SAMPLED = 8
"""Files of the memo looked at to tell a new clone where the last one was from a commit or checkout here."""


def _same_files(source: Path, memo: dict) -> bool:
    """Whether the files the memo saw are still there (a commit or a checkout since: most keep the stat the memo
    has, and `git status` soon answers), rather than a new clone's in their place (none does: CI's runner, its
    folder and the last run's memo restored), by a few of them spread over the memo."""
    stats: dict[str, Stat] = memo["stats"]
    for path in itertools.islice(stats, 0, None, max(1, len(stats) // SAMPLED)):
        try:
            if stat_of(os.lstat(f"{source}/{path}")) == stats[path]:
                return True
        except OSError:
            continue
    return False


def _index(source: Path) -> Stat | None:
    try:
        return stat_of(os.stat(source / ".git" / "index"))
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


def _stats(source: Path, real: str, view: _View, tracked: bytes,
           memo: dict) -> tuple[dict[str, Stat], set[str]] | None:
    """Each transcript's stat, by path, and the paths stat-ed again; None when only a walk can tell."""
    known: dict[str, Stat] = memo["stats"]
    again = {*view.listed, *memo["unsure"]}
    if tracked != memo["tracked"]:  # a commit, a checkout, an add: the entries that differ
        new, old = _entries(tracked), _entries(memo["tracked"])
        if not all(entry.startswith(_TRUSTED_MODES) for entry in new - old):
            return None
        again.update(map(_path, new ^ old))
        paths = sorted(set(map(_path, new)) | again)
    else:  # the same blobs: the files found then (by path), and those git did not vouch for then or now
        paths = known if again <= known.keys() else sorted(known.keys() | again)
    stats: dict[str, Stat] = {}
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
            if os.path.realpath(f"{source}/{path}") != f"{real}/{path}":
                return None  # a link, or a file in a linked folder: the walk follows it, or refuses it
            taken = _as_walked(path, info)
            if taken is None:
                return None
            if taken:
                stats[path] = stat_of(info)
    return stats, again


def _as_walked(path: str, info: os.stat_result) -> bool | None:
    """Whether the walk takes a file it finds at `path` (not hidden, and not in a linked folder) with this lstat
    as a transcript; None when only the walk can tell: a link, a folder named *.md, a hard link, a file too large
    (the walk says so)."""
    if stat_module.S_ISLNK(info.st_mode):
        return None
    if path[-3:] != ".md":
        return False
    if not stat_module.S_ISREG(info.st_mode) or info.st_nlink > 1 or info.st_size > MAX_FILE_BYTES:
        return None
    return True


def _vouched(source: Path, real: str, found: dict[str, os.stat_result]) -> tuple[dict[str, Stat], set[str]] | None:
    """_stats' answer from the stats clean_tree took of the transcripts as committed (none in a linked folder: it
    checks); None when only the walk can tell."""
    if os.path.realpath(source / TRANSCRIPTS) != f"{real}/{TRANSCRIPTS}":
        return None  # content/ or its transcripts reached through a link
    stats: dict[str, Stat] = {}
    for path in sorted(found):  # the walk's order
        if "/." not in path:  # as the walk: no hidden file or folder
            taken = _as_walked(path, found[path])
            if taken is None:
                return None
            if taken:
                stats[path] = stat_of(found[path])
    return stats, set(stats)


class _Look(NamedTuple):
    """One command's look at the transcripts, to keep for the next."""

    view: _View
    tracked: bytes
    """The index's transcript entries (`git ls-files`)."""
    stats: dict[str, Stat]
    """Each transcript's stat, by path."""
    stat_again: set[str] | None
    """The paths stat-ed again, not taken from the last look (None: all of them, by a walk)."""


def _save(folder: Path, real: str, look: _Look, last_look: dict | None) -> None:
    """Keep this look for the next command, unless the last look kept already says as much. A file stat-ed close
    to when git was asked stays in doubt."""
    view, tracked, stats = look.view, look.tracked, look.stats
    stat_now = stats.keys() if look.stat_again is None else look.stat_again & stats.keys()
    racy = view.asked - RACY_NS
    unsure = view.listed | {path for path in stat_now if max(stats[path].mtime_ns, stats[path].ctime_ns) >= racy}
    mine, summary = memo_file(folder, real), memo_file(folder, real, LOOK)
    if last_look is not None and last_look["tracked"] == tracked:
        if last_look["unsure"] == unsure and last_look["index"] == view.index:
            if not unsure and not summary.exists():  # a memo kept before there were summaries
                _keep_summary(summary, real, view, stats)
            return  # the stats it keeps for the others are the ones used now
    elif not all(entry.startswith(_TRUSTED_MODES) for entry in _entries(tracked)):
        return  # a link, a submodule, a file git does not check: the walk it is, every time
    try:
        summary.unlink(missing_ok=True)  # first: a summary never outlives the look it sums up
    except OSError:  # a cache folder this user cannot change (made by another, a file): nothing is kept
        return
    if keep_state(mine, {"source": real, "index": view.index, "tracked": tracked, "unsure": frozenset(unsure),
                         # plain tuples: named ones call Python for each as they are pickled (0.2 of 0.3 s a
                         # save at 100,000 transcripts); _load makes them Stats again
                         "stats": dict(zip(stats, map(tuple, stats.values())))}, VERSION):
        if not unsure:
            _keep_summary(summary, real, view, stats)
        for other in [*folder.glob(f"{MEMO}-*.pickle"), *folder.glob(f"{LOOK}-*.pickle")]:
            if other not in (mine, summary):  # another folder's, kept no more: one source, one memo
                with contextlib.suppress(OSError):  # another user's, in a shared cache folder
                    other.unlink(missing_ok=True)


def _keep_summary(path: Path, real: str, view: _View, stats: dict[str, Stat]) -> None:
    keep_state(path, {"source": real, "index": view.index, "digest": stats_digest(stats)}, VERSION)


def _blobs(source: Path, view: _View, tracked: bytes, stats: dict[str, Stat],
           fresh: Collection[str]) -> dict[str, bytes]:
    """Git's blob id of each transcript in `fresh` that git vouches for: a regular file in the index (not a link,
    submodule, conflict, assume-unchanged or skip-worktree entry) with a SHA-1 id, that `git status` did not list,
    whose stat is older than when git was asked (so git saw the bytes it has), and that git writes and reads byte
    for byte (gitmeta.verbatim)."""
    racy = view.asked - RACY_NS
    found = {}
    for blob, raw in _ENTRY.findall(tracked):
        path = raw.decode("utf-8", "surrogateescape")
        stat = stats.get(path)
        if stat is not None and max(stat.mtime_ns, stat.ctime_ns) < racy and path in fresh \
                and path not in view.listed:
            found[path] = blob
    if len(found) < BLOBS_FROM:
        return {}
    return {path: bytes.fromhex(found[path].decode()) for path in gitmeta.verbatim(source, list(found))}


def patch_work_tree(source: Path, files: ContentFiles, changed: set[str],
                    folders: set[str] | None = None) -> ContentFiles | None:
    """read_work_tree's answer now, from its answer before and the paths changed since (serve's watcher
    tells them), without walking 10,000 files; None when only a walk can tell: a folder came or went, there
    are links, a persona or the config changed, or the last walk found a problem.

    Paths are relative to source; a change under themes/ is no change to the content files. `folders`: the
    transcripts' folders, kept by the caller from one patch to the next (filled here when empty: a pass over
    100,000 paths), as a patch never adds or removes one (a folder left empty stays one the walk would see).
    """
    if files.revision is not None or files.diagnostics or files.links \
            or any(os.path.islink(f"{source}/{folder}") for folder in ("content", TRANSCRIPTS)) \
            or (not files.is_git and os.path.exists(f"{source}/.git")):  # `git init` while serving
        return None
    stats = dict(files.stats)
    if folders is None:
        folders = set()
    if not folders:
        folders.update({rel.rpartition("/")[0] for rel in stats}, (TRANSCRIPTS,))
    added = removed = False
    for rel in changed:
        if rel.startswith("themes/"):
            continue
        if not rel.startswith(TRANSCRIPTS + "/"):
            return None
        if is_hidden(Path(rel)):
            continue  # the walk skips hidden names, and all under a hidden folder
        try:
            info = os.lstat(f"{source}/{rel}")
        except FileNotFoundError:
            info = None
        except OSError:
            return None
        if info is None and (rel in folders or any(folder.startswith(rel + "/") for folder in folders)):
            return None  # a folder gone (one named *.md too): the files in it with it
        if not rel.endswith(".md"):  # a file the walk skips (an editor's temporary copy), unless a folder
            if info is not None and not stat_module.S_ISREG(info.st_mode):
                return None
            continue
        if rel.rpartition("/")[0] not in folders:
            return None
        if info is None:
            removed = stats.pop(rel, None) is not None or removed
            continue
        if not stat_module.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES or info.st_nlink > 1:
            return None  # a link (hard ones too), a folder named *.md, a file over the limit: the walk decides
        added = added or rel not in stats
        stats[rel] = stat_of(info)
    if added:
        stats = dict(sorted(stats.items()))
    # The same paths: the same dict of them, each None (a work tree's file is read when needed)
    transcripts = dict.fromkeys(stats) if added or removed else files.transcripts
    return replace(files, transcripts=transcripts, stats=stats, blobs={})  # git was not asked
