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
