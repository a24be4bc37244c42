"""What git knows: when each transcript was added, in one pass over `git log`."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

from .basics import never_read

TRANSCRIPTS = "content/transcripts"


class GitError(Exception):
    """git refused: a bad revision, or not a repository when one is needed."""


def command(root: Path, args: tuple[str, ...]) -> list[str]:
    """The command line that asks git `args` in `root`."""
    # git checks every field of a file's stat, whatever the repository says: worktree.py trusts its "unchanged".
    return ["git", "-c", "core.quotepath=off", "-c", "core.trustctime=true", "-c", "core.checkstat=default",
            "-C", str(root), *args]


class GitRunner:
    """How the functions here ask git: each command runs when its answer is needed. A build of the work tree may
    be given one that began some commands ahead (incremental.git_ahead.GitAhead)."""

    def run(self, root: Path, args: tuple[str, ...],
            input: bytes | None = None) -> tuple[subprocess.CompletedProcess[bytes], int]:
        """git's answer to `args` in `root`, and when git was asked (time.time_ns(): a file changed since may not
        be in the answer). FileNotFoundError without git."""
        asked = time.time_ns()
        return subprocess.run(command(root, args), input=input, capture_output=True, check=False), asked

    def close(self) -> None:
        """Nothing to stop: every command has ended."""


RUN_WHEN_ASKED = GitRunner()
"""The plain runner (it keeps nothing)."""


def _git(root: Path, *args: str, input: bytes | None = None, git: GitRunner = RUN_WHEN_ASKED) -> bytes:
    return _answer(git, root, args, input)[0]


def _answer(git: GitRunner, root: Path, args: tuple[str, ...], input: bytes | None = None) -> tuple[bytes, int]:
    """git's output, and when it was asked; GitError with git's reason when it refuses."""
    try:
        done, asked = git.run(root, args, input)
    except FileNotFoundError:
        raise GitError("git is not installed") from None
    if done.returncode != 0:
        raise GitError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return done.stdout, asked


def answers(root: Path, asks: Sequence[tuple[tuple[str, ...], bytes | None]]) -> list[bytes]:
    """git's outputs to several commands (args, and what each reads from its input, or None), asked at once: each
    runs while the others do, and while this process waits. GitError when one refuses, or git cannot be run."""
    try:
        begun = [(subprocess.Popen(command(root, args), stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE), data) for args, data in asks]
        done = [(process.communicate(data), process.returncode) for process, data in begun]
    except OSError as exc:
        raise GitError("git is not installed" if isinstance(exc, FileNotFoundError) else str(exc)) from None
    for ((_, err), code), (args, _) in zip(done, asks):
        if code != 0:
            raise GitError(err.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
    return [out for (out, _), _ in done]


def _head_info(rev: str) -> tuple[str, ...]:
    return ("log", "-1", "--format=%H%x00%h%x00%cI", rev, "--")


_IS_REPOSITORY = ("rev-parse", "--is-inside-work-tree")
STATUS_PATHS = ("content", "themes", "persona-site.toml")
"""What `git status` is asked about: every file a build reads."""
STATUS = ("--no-optional-locks", "status", "--porcelain", "-z", "--untracked-files=all", "--ignored", "--",
           *STATUS_PATHS)
"""Every file git does not vouch for: changed, untracked (one by one, not by folder) and ignored."""
_TRACKED = ("ls-files", "--stage", "-v", "-z", "--", TRANSCRIPTS)
"""The transcripts in git's index: tag, mode, blob and path of each (worktree.py)."""
ASKED_BY_EVERY_BUILD = (_IS_REPOSITORY, _head_info("HEAD"), STATUS)
"""What a build of the work tree asks git first, whatever changed: is it a repository (is_repository), HEAD's
commit (head_info) and what is uncommitted (status): the commands worth beginning ahead."""


def is_repository(root: Path, git: GitRunner = RUN_WHEN_ASKED) -> bool:
    try:
        return _git(root, *_IS_REPOSITORY, git=git).strip() == b"true"
    except GitError:
        return False


def resolve(root: Path, rev: str) -> str:
    """The full sha of a revision (tag, branch, sha, HEAD~3), or GitError with git's reason."""
    if rev.startswith("-"):
        raise GitError(f"'{rev}' is not a commit, branch or tag")
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").decode().strip()
    except GitError:
        if not _has_commits(root):
            raise GitError(f"the repository in {root.resolve()} has no commits yet, so there is no '{rev}' to build: "
                           "commit your content first, or leave out --rev to use the files as they are") from None
        raise GitError(f"'{rev}' is not a commit, branch or tag in {root}") from None


def _has_commits(root: Path) -> bool:
    return head_commit(root) is not None


def head_commit(root: Path) -> bytes | None:
    """HEAD's full sha, or None before the first commit or outside git."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").strip()
    except GitError:
        return None


def read_tree(root: Path, rev: str, paths: tuple[str, ...],
              max_size: int | None = None) -> tuple[dict[str, bytes], dict[str, int]]:
    """The files under `paths` as they are at `rev`: `git ls-tree` plus one `git cat-file --batch`; and, by
    path, the size of each file over max_size, which is never read (a 200 MB blob is not loaded only to be
    refused: issue 21, item 15).

    Never checks out or touches the work tree or the index.
    """
    listing = _git(root, "ls-tree", "-r", "-l", "-z", "--end-of-options", rev, "--", *paths)
    entries, oversized = [], {}
    for record in listing.split(b"\0"):
        if not record:
            continue
        meta, name = record.split(b"\t", 1)
        mode, kind, sha, size = meta.split()
        if kind == b"blob" and mode != b"120000":  # a symlink's target is not content
            path = name.decode("utf-8", "surrogateescape")
            if max_size is not None and int(size) > max_size:
                oversized[path] = int(size)
            else:
                entries.append((path, sha.decode()))
    if not entries:
        return {}, oversized
    out = _git(root, "cat-file", "--batch", input="".join(f"{sha}\n" for _, sha in entries).encode())
    files: dict[str, bytes] = {}
    position = 0
    for name, _ in entries:
        header_end = out.index(b"\n", position)
        size = int(out[position:header_end].split()[2])
        files[name] = out[header_end + 1: header_end + 1 + size]
        position = header_end + 1 + size + 1
    return files, oversized


def head_info(root: Path, rev: str = "HEAD", git: GitRunner = RUN_WHEN_ASKED) -> dict:
    """The commit a site is built from: sha, short sha, date; {} outside git or before the first commit."""
    try:
        sha, short, date = _git(root, *_head_info(rev), git=git).decode().strip().split("\0")
    except (GitError, ValueError):
        return {}
    return {"commit": sha, "short": short, "date": date[:10]}


def status(root: Path, git: GitRunner = RUN_WHEN_ASKED) -> tuple[list[tuple[bytes, str]], int]:
    """(state, path) of each content, config and theme file that is changed, untracked (b"??") or ignored
    (b"!!"), by `git status --porcelain` (a rename gives its new path, and its old one as b"D "); and when git
    was asked. GitError outside git."""
    out, asked = _answer(git, root, STATUS)
    entries = []
    for record in status_records(out):
        entries.append((record[0][:2], record[0][3:].decode("utf-8", "surrogateescape")))
        if len(record) > 1:  # a rename: the path it came from
            entries.append((b"D ", record[1].decode("utf-8", "surrogateescape")))
    return entries, asked


def status_records(out: bytes) -> list[tuple[bytes, ...]]:
    """`git status --porcelain -z`'s records: (b"XY path",) each, or (b"XY path", b"old path") for a staged or an
    intent-to-add rename or copy, whose old path follows as a field of its own."""
    records, fields = [], iter(out.split(b"\0"))
    for entry in fields:
        if len(entry) > 3:
            records.append((entry, next(fields, b"")) if entry[0] in b"RC" or entry[1] in b"RC" else (entry,))
    return records


def tracked(root: Path) -> bytes:
    """`git ls-files --stage -v -z` of the transcripts: "H 100644 <blob> 0\t<path>" for each (GitError outside git)."""
    return _git(root, *_TRACKED)


_CONVERTING = frozenset({b"text", b"eol", b"crlf", b"filter", b"ident", b"working-tree-encoding"})
"""The attributes under which git may write a file to the work tree as other bytes than its blob's
(gitattributes(5))."""


def verbatim(root: Path, paths: list[str]) -> set[str]:
    """Those of the paths that git writes to the work tree, and reads from it, byte for byte: no end-of-line
    conversion (core.autocrlf, or a text, eol or crlf attribute), filter (Git LFS), ident or working-tree-encoding,
    by the work tree's attributes or the index's. None of them when git cannot say."""
    asked = b"".join(path.encode("utf-8", "surrogateescape") + b"\0" for path in paths)
    try:  # all three at once; check-attr --all lists only the attributes set (10 ms for 10,000 paths, not 100)
        autocrlf, *attributes = answers(root, [(("config", "--default", "false", "--get", "core.autocrlf"), None),
                                               (("check-attr", "-z", "--stdin", "--all"), asked),
                                               (("check-attr", "-z", "--stdin", "--all", "--cached"), asked)])
    except GitError:
        return set()
    if autocrlf.strip().lower() not in (b"false", b"no", b"off", b"0", b""):
        return set()
    converted = set()
    for out in (listing.split(b"\0") for listing in attributes):  # the work tree's attributes, and the index's
        converted.update(out[i] for i in range(0, len(out) - 2, 3)
                         if out[i + 1] in _CONVERTING and out[i + 2] != b"unset")
    return {path for path in paths if path.encode("utf-8", "surrogateescape") not in converted}


def dirty_paths(root: Path, git: GitRunner = RUN_WHEN_ASKED) -> set[str]:
    """Paths (relative to root) of content, config and theme files with uncommitted changes: files a build reads
    (not hidden files or an editor's temporary ones, basics.never_read)."""
    try:
        return {path for state, path in status(root, git)[0] if state != b"!!" and not never_read(path)}
    except GitError:
        return set()


def uncommitted_lines(root: Path, paths: list[str]) -> dict[str, set[str]]:
    """Lines added in the work tree since HEAD, per file: one `git diff` for all of them."""
    if not paths:
        return {}
    try:
        out = _git(root, "diff", "HEAD", "--unified=0", "--no-color", "--relative", "--", *paths)
    except GitError:
        return {}
    added: dict[str, set[str]] = {}
    current: set[str] | None = None
    in_hunk = False
    for raw in out.decode("utf-8", "replace").split("\n"):
        if raw.startswith("diff --git "):
            in_hunk = False
        elif raw.startswith("@@"):
            in_hunk = True
        elif raw.startswith("+++ ") and not in_hunk:
            path = header_path(raw, "b/")
            current = added.setdefault(path, set()) if path is not None else None
        elif raw.startswith("+") and current is not None and in_hunk:
            current.add(raw[1:].rstrip("\r"))
    return added


_ESCAPED = re.compile(r'\\([0-7]{3}|[abtnvfr"\\])')
_ESCAPES = MappingProxyType({"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r", '"': '"',
                             "\\": "\\"})


def unquoted(name: str) -> str:
    """A file name as git writes it in a log or a diff: in double quotes, C-escaped, when it holds a quote, a
    backslash or a control character (in octal: core.quotepath=off, which every command here sets, leaves other
    characters as they are); else as it is."""
    if len(name) < 2 or name[0] != '"' or name[-1] != '"':
        return name
    return _ESCAPED.sub(lambda m: chr(int(m[1], 8)) if len(m[1]) == 3 else _ESCAPES[m[1]], name[1:-1])


def header_path(line: str, prefix: str) -> str | None:
    """The file a diff's `--- a/<name>` or `+++ b/<name>` line names (`prefix` "a/" or "b/"); None for /dev/null.
    Git ends the line with a tab when the name holds a space, and quotes the name (prefix included) as unquoted
    reads."""
    name = unquoted(line[4:].removesuffix("\t"))
    return name[len(prefix):] if name.startswith(prefix) else None


class Since(NamedTuple):
    """What a history continued from another took in: the commits after that one's head."""

    head: str
    """The head of the history it was continued from."""
    commits: int
    """How many commits came since, all of them (merges too): each makes `git log` from that head longer."""
    paths: frozenset[str]
    """The transcripts they added, changed, renamed (both paths) or deleted: only these paths' dates, line commits
    and last commits can differ from the other history's."""


@dataclass
class History:
    """What the history of content/transcripts says, up to one commit."""

    head: str
    """Full sha of the commit this history ends at."""
    added: dict[str, tuple[str, str]]
    """(sha, ISO author date) of the commit that added each transcript, by path relative to the source."""
    lines: dict[str, dict[str, tuple[str, str] | None]]
    """For transcripts changed after they were added: line text -> (sha, ISO author date) of its first commit, or None
    for a line that came with the file (its date is the add's, whatever the file was called then)."""
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)
    """(sha, ISO author date) of the last commit that added, edited or renamed each transcript."""
    since: Since | None = None
    """What the commits since the history this one was continued from changed; None when it was made anew."""

    def added_date(self, path: str) -> dt.datetime | None:
        """Author date of the commit that added the transcript."""
        commit = self.added.get(path)
        return _date(commit[1]) if commit else None

    def line_commit(self, path: str, text: str) -> tuple[str, str] | None:
        """The commit that first added this line of a transcript."""
        return self.lines.get(path, {}).get(text) or self.added.get(path)


_date = lru_cache(maxsize=4096)(dt.datetime.fromisoformat)  # a commit adds many files: read its date once


def history(root: Path, head: str, previous: History | None = None) -> History:
    """Two `git log` passes over the transcripts, whatever their number; incremental from `previous`.

    The first lists which commit added, renamed or deleted each file; the second reads
    patches only for commits that changed a file after adding it. A rename keeps the
    original add; a line keeps the commit that first added it.
    """
    if previous is not None and previous.head == head:
        return previous
    into = History(head, {}, {})
    span = head
    since = _commits_since(root, previous.head, head) if previous is not None else None
    if since is not None:
        into = History(head, dict(previous.added), dict(previous.lines), dict(previous.changed))
        span = f"{previous.head}..{head}"
    try:
        files = _git(root, "log", "--reverse", "-M", "--name-status", "--relative", "--no-color",
                     "--format=%x00%H %aI", span, "--", TRANSCRIPTS)
        paths = _apply_files(files.decode("utf-8", "replace"), into)
        patches = _git(root, "log", "--reverse", "-p", "-M", "--diff-filter=MRD", "--unified=0", "--no-color",
                       "--relative", "--format=%x00%H %aI", span, "--", TRANSCRIPTS)
        _apply_patches(patches.decode("utf-8", "replace"), into)
        if since is not None:
            into.since = Since(previous.head, since, frozenset(paths))
    except GitError:
        pass
    return into


def _commits_since(root: Path, old: str, new: str) -> int | None:
    """How many commits `new` has that `old` has not, when `old` is an ancestor of `new` (none of old's commits is
    missing from new's history); None when it is not (a rebase, a reset to an older commit), or git cannot say."""
    try:
        missing, since = _git(root, "rev-list", "--left-right", "--count", f"{old}...{new}").split()
    except (GitError, ValueError):
        return None
    return int(since) if missing == b"0" else None


def _apply_files(log: str, into: History) -> set[str]:
    """The log's adds, changes, renames and deletes into `into`; returns the paths they touch."""
    commit, paths = ("", ""), set()
    for raw in log.split("\n"):
        if raw.startswith("\0"):
            sha, _, date = raw[1:].partition(" ")
            commit = (sha, date.strip())
            continue
        parts = raw.split("\t")  # a quoted name's tab is written \t
        if '"' in raw:
            parts = list(map(unquoted, parts))
        if len(parts) < 2:
            continue
        paths.update(parts[1:3])
        status = parts[0][:1]
        if status == "A":
            into.added[parts[1]] = into.changed[parts[1]] = commit
        elif status == "M":
            into.changed[parts[1]] = commit
        elif status == "R" and len(parts) == 3:
            into.added[parts[2]] = into.added.pop(parts[1], commit)
            into.changed.pop(parts[1], None)
            into.changed[parts[2]] = commit
        elif status == "D":
            into.added.pop(parts[1], None)
            into.changed.pop(parts[1], None)
    return paths


def _apply_patches(log: str, into: History) -> None:
    lines = into.lines
    commit = ("", "")
    first_seen: dict[str, tuple[str, str] | None] | None = None
    added: list[str] = []  # this file's lines added by this commit: taken in after its removed ones (a moved line)
    old_path = rename_from = None
    in_hunk = False  # in a hunk every line that starts '+' or '-' is a line of the file, '+++ note' too
    for raw in itertools.chain(log.split("\n"), ["diff --git "]):  # a last header ends the last file's patch too
        head = raw[:1]
        if head in ("+", "-") and first_seen is not None and in_hunk:
            text = raw[1:].rstrip("\r")
            if head == "+":
                added.append(text)
            elif text not in first_seen:  # removed before it was ever added: it came with the file's first commit
                first_seen[text] = None
            continue
        if added and raw.startswith(("\0", "diff --git ")):  # the file's patch ends
            for text in added:
                first_seen.setdefault(text, commit)
            added.clear()
        if raw.startswith("\0"):
            sha, _, date = raw[1:].partition(" ")
            commit = (sha, date.strip())
        elif raw.startswith("@@"):
            in_hunk = True
        elif raw.startswith("diff --git "):
            first_seen, old_path, rename_from, in_hunk = None, None, None, False
        elif raw.startswith("--- "):
            old_path = header_path(raw, "a/")
        elif raw.startswith("+++ "):
            path = header_path(raw, "b/")
            if path is not None:
                old_path = old_path or path
                first_seen = lines[path] = dict(lines.get(path, {}))
            elif old_path:  # +++ /dev/null: deleted
                lines.pop(old_path, None)
        elif raw.startswith("rename from "):
            rename_from = unquoted(raw[len("rename from "):])
        elif raw.startswith("rename to ") and rename_from is not None:
            lines[unquoted(raw[len("rename to "):])] = lines.pop(rename_from, {})
