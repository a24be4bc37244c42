"""What git knows: when each transcript was added, in one pass over `git log`."""

from __future__ import annotations

import datetime as dt
import subprocess
from dataclasses import dataclass
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


@dataclass
class History:
    """What the history of content/transcripts says, up to one commit."""

    head: str
    """Full sha of the commit this history ends at."""
    added: dict[str, dt.datetime]
    """Author date of the commit that added each transcript, by path relative to the source."""
    lines: dict[str, dict[str, tuple[str, str]]]
    """For each transcript, each line's text -> (sha, ISO author date) of the commit that first added it."""


def history(root: Path, head: str, previous: History | None = None) -> History:
    """One `git log -p` over the transcripts, whatever their number; incremental from `previous`.

    A rename keeps the date of the original add; a line keeps the commit that first added it.
    """
    if previous is not None and previous.head == head:
        return previous
    start = History(head, {}, {})
    span = head
    if previous is not None and _is_ancestor(root, previous.head, head):
        start = History(head, dict(previous.added), dict(previous.lines))
        span = f"{previous.head}..{head}"
    try:
        out = _git(root, "log", "--reverse", "-p", "-M", "--unified=0", "--no-color", "--relative",
                   "--format=%x00%H %aI", span, "--", TRANSCRIPTS)
    except GitError:
        return start
    _apply_log(out.decode("utf-8", "replace"), start)
    return start


def _is_ancestor(root: Path, old: str, new: str) -> bool:
    try:
        _git(root, "merge-base", "--is-ancestor", old, new)
        return True
    except GitError:
        return False


def _apply_log(log: str, into: History) -> None:
    added, lines = into.added, into.lines
    commit = ("", "")
    when: dt.datetime | None = None
    current: dict | None = None
    new_file = False
    old_path = rename_from = None
    for raw in log.split("\n"):
        head = raw[:1]
        if head == "+" and not raw.startswith("+++ ") and current is not None:
            current.setdefault(raw[1:].rstrip("\r"), commit)
        elif head in ("-", "@", " ") and not raw.startswith("--- "):
            continue
        elif raw.startswith("\0"):
            sha, _, date = raw[1:].partition(" ")
            commit = (sha, date.strip())
            when = dt.datetime.fromisoformat(commit[1])
        elif raw.startswith("diff --git "):
            current, new_file, old_path, rename_from = None, False, None, None
        elif raw.startswith("new file mode"):
            new_file = True
        elif raw.startswith("--- "):
            old_path = raw[6:] if raw.startswith("--- a/") else None
        elif raw.startswith("+++ "):
            if raw.startswith("+++ b/"):
                path = raw[6:]
                if new_file and when is not None:
                    added[path] = when
                current = lines[path] = dict(lines.get(path, {}))
            elif old_path:  # deleted
                added.pop(old_path, None)
                lines.pop(old_path, None)
                current = None
        elif raw.startswith("rename from "):
            rename_from = raw[len("rename from "):]
        elif raw.startswith("rename to ") and rename_from is not None:
            target = raw[len("rename to "):]
            if rename_from in added:
                added[target] = added.pop(rename_from)
            lines[target] = lines.pop(rename_from, {})
