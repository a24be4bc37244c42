"""What git knows: when each transcript was added, in one pass over `git log`."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

TRANSCRIPTS = "content/transcripts"


class GitError(Exception):
    """git refused: a bad revision, or not a repository when one is needed."""


def _git(root: Path, *args: str, input: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", "-C", str(root), *args],
                              input=input, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout


def is_repository(root: Path) -> bool:
    try:
        return _git(root, "rev-parse", "--is-inside-work-tree").strip() == b"true"
    except GitError:
        return False


def added_dates(root: Path, rev: str = "HEAD") -> dict[str, dt.datetime]:
    """Author date of the commit that added each transcript, by path relative to root.

    One `git log` for all files (never one process per file); a rename keeps the
    date of the original add. Empty when root is not a repository or has no commits.
    """
    try:
        out = _git(root, "log", "--reverse", "-M", "--name-status", "--relative",
                   "--format=%x00%aI", rev, "--", TRANSCRIPTS)
    except GitError:
        return {}
    dates: dict[str, dt.datetime] = {}
    when: dt.datetime | None = None
    for raw in out.decode("utf-8", "replace").splitlines():
        if raw.startswith("\0"):
            when = dt.datetime.fromisoformat(raw[1:].strip())
            continue
        parts = raw.split("\t")
        if len(parts) < 2 or when is None:
            continue
        status = parts[0][:1]
        if status == "A":
            dates[parts[1]] = when
        elif status == "R" and len(parts) == 3:
            dates[parts[2]] = dates.pop(parts[1], when)
        elif status == "D":
            dates.pop(parts[1], None)
    return dates


def resolve(root: Path, rev: str) -> str:
    """The full sha of a revision (tag, branch, sha, HEAD~3), or GitError with git's reason."""
    if rev.startswith("-"):
        raise GitError(f"'{rev}' is not a commit, branch or tag")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        raise GitError(f"'{rev}' is not a commit, branch or tag in {root}") from None


def read_tree(root: Path, rev: str, paths: tuple[str, ...]) -> dict[str, bytes]:
    """The files under `paths` as they are at `rev`: `git ls-tree` plus one `git cat-file --batch`.

    Never checks out or touches the work tree or the index.
    """
    listing = _git(root, "ls-tree", "-r", "-z", "--end-of-options", rev, "--", *paths)
    entries = []
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, name = record.split(b"\t", 1)
        mode, kind, sha = meta.split()
        if kind == b"blob" and mode != b"120000":  # a symlink's target is not content
            entries.append((name.decode("utf-8", "surrogateescape"), sha.decode()))
    if not entries:
        return {}
    out = _git(root, "cat-file", "--batch", input="".join(f"{sha}\n" for _, sha in entries).encode())
    files: dict[str, bytes] = {}
    position = 0
    for name, _ in entries:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        files[name] = out[header_end + 1: header_end + 1 + size]
        position = header_end + 1 + size + 1
    return files


def head_info(root: Path, rev: str = "HEAD") -> dict:
    """The commit a site is built from: sha, short sha, date; {} outside git or before the first commit."""
    try:
        sha, short, date = _git(root, "log", "-1", "--format=%H%x00%h%x00%cI", rev, "--").decode().strip().split("\0")
    except (GitError, ValueError):
        return {}
    return {"commit": sha, "short": short, "date": date[:10]}


def is_dirty(root: Path) -> bool:
    """Whether the content, config or theme has uncommitted changes."""
    try:
        out = _git(root, "--no-optional-locks", "status", "--porcelain", "--untracked-files=normal", "--", "content", "themes",
                   "persona-site.toml")
    except GitError:
        return False
    return bool(out.strip())


def line_history(root: Path, rev: str = "HEAD") -> dict[str, dict[str, tuple[str, str]]]:
    """For each transcript, each line's text -> (sha, date) of the commit that first added it.

    One `git log -p` over the transcripts' history, whatever the number of files.
    """
    try:
        out = _git(root, "log", "--reverse", "-p", "-M", "--unified=0", "--no-color", "--relative",
                   "--format=%x00%H %aI", rev, "--", TRANSCRIPTS)
    except GitError:
        return {}
    history: dict[str, dict[str, tuple[str, str]]] = {}
    commit: tuple[str, str] | None = None
    current: dict[str, tuple[str, str]] | None = None
    rename_from = None
    for raw in out.decode("utf-8", "replace").split("\n"):
        if raw.startswith("\0"):
            sha, _, date = raw[1:].partition(" ")
            commit = (sha, date.strip())
            continue
        if raw.startswith("+++ "):
            target = raw[4:]
            current = history.setdefault(target[2:], {}) if target.startswith("b/") else None
        elif raw.startswith("+") and current is not None and commit:
            current.setdefault(raw[1:].rstrip("\r"), commit)
        elif raw.startswith("diff --git "):
            current = None
        elif raw.startswith("rename from "):
            rename_from = raw[len("rename from "):]
        elif raw.startswith("rename to ") and rename_from is not None:
            history[raw[len("rename to "):]] = history.pop(rename_from, {})
            rename_from = None
        elif raw.startswith("deleted file mode"):
            pass
    return history
