"""Gather the files of a content repository: from the work tree (or, later, a git revision)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from . import gitmeta
from .config import CONFIG_NAME
from .basics import Diagnostic, error, loaded_in_c

MAX_FILE_BYTES = 5 * 1024 * 1024  # SECURITY.md, item 10: bounded time and memory per file
LINK_OUT = "this is a link to something outside the repository: copy it in instead"
LINK_NOT_CONTENT = ("this is a link to a file that is not content (outside content/, or hidden, as .git/ and "
                    "dot-files are): only files under content/ are read; copy it in instead")
LINK_LOOP = "this link leads back to itself (a loop of links, or a folder inside itself): delete it or point it at a file"
PERSONAS = "content/personas"
TRANSCRIPTS = "content/transcripts"
RACY_NS = 2_000_000_000
"""A file changed this close to a look at it may change again within the same mtime tick, or after git looked:
look at it again next time (git's "racily clean" entries)."""


@loaded_in_c
class Stat(NamedTuple):
    """What git's index keeps to tell a changed file without reading it."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @property
    def mtime(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime_ns / 1e9, dt.timezone.utc)


@dataclass(frozen=True)
class ContentFiles:
    """The raw bytes of every file the build reads, by path relative to the source."""

    config: bytes | None
    """persona-site.toml, if there is one."""
    personas: dict[str, bytes]
    """content/personas/*.md"""
    transcripts: dict[str, bytes | None]
    """content/transcripts/**/*.md: the bytes at a revision, or None for a work-tree file read when needed
    (read_file): a rebuild never reads a file whose stat it has seen before."""
    stats: dict[str, Stat]
    """Each work-tree transcript's stat (a revision's files have none)."""
    is_git: bool
    """Whether the source is a git repository."""
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    """Files that could not be read."""
    revision: str | None = None
    """The commit the files were read from (--rev), or None for the work tree."""
    links: bool = False
    """Whether a transcript, or a folder of them, is a link (within the repository), or has hard links: a change
    to it may come under another name."""
    blobs: dict[str, bytes] = field(default_factory=dict)
    """Git's blob id (20 bytes) of the transcripts git vouches for, by path: tracked, unchanged in the work tree
    since before git was asked, written there byte for byte (incremental/worktree.py); a cache may take the id
    for the bytes' hash instead of reading the file. Empty unless a cache asked."""


def is_hidden(rel: Path) -> bool:
    """Whether a path has a hidden part (a dot-file or dot-folder): never content."""
    return any(part.startswith(".") for part in rel.parts)


def _markdown_files(source: Path, folder: str, recursive: bool, problems: list[Diagnostic],
                    links: list[str] | None = None) -> list[tuple[str, os.DirEntry]]:
    """(path, entry) of the Markdown files under source/folder, by path, skipping hidden names and links that
    leave the repository (the links that stay in it are added to `links`). One step per file is most of a
    no-change build at 10,000 transcripts: the usual file takes the first branch's three calls."""
    base = source / folder
    if not base.is_dir():
        return []
    linked = _linked_out(source, ("content", folder))
    if linked is not None:
        problems.append(error(linked, 0, LINK_OUT))
        return []
    root = content_root = None
    found: list[tuple[str, os.DirEntry]] = []
    pending = [(os.fspath(base), folder)]
    while pending:
        directory, rel_dir = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name[0] == ".":
                    continue
                if name[-3:] == ".md" and entry.is_file(follow_symlinks=False):  # a regular file
                    found.append((f"{rel_dir}/{name}", entry))
                    continue
                rel = f"{rel_dir}/{name}"
                if entry.is_symlink():
                    root = root or source.resolve()
                    content_root = content_root or (source / "content").resolve()
                    target = _resolved(entry.path)
                    if target is None or (recursive and Path(directory).resolve().is_relative_to(target)):
                        problems.append(error(rel, 0, LINK_LOOP))  # a loop of links, or a folder inside itself
                        continue
                    if not target.is_relative_to(root):
                        problems.append(error(rel, 0, LINK_OUT))
                        continue
                    if not target.is_relative_to(content_root) or is_hidden(target.relative_to(content_root)):
                        problems.append(error(rel, 0, LINK_NOT_CONTENT))  # .git/config, .env: issue 21, item 2
                        continue
                    if links is not None:
                        links.append(rel)
                if entry.is_dir():
                    if recursive:
                        pending.append((entry.path, rel))
                elif name[-3:] == ".md" and entry.is_file():
                    found.append((rel, entry))
    found.sort()  # by path: no two are the same, so entries are never compared
    return found


def _linked_out(source: Path, folders: tuple[str, ...]) -> str | None:
    """The first of these folders that is a link leading out of the repository (content/ as a link to a folder
    elsewhere publishes that folder: issue 21, item 3), or None."""
    root = source.resolve()
    for folder in folders:
        target = _resolved(os.fspath(source / folder))
        if os.path.islink(source / folder) and (target is None or not target.is_relative_to(root)):
            return folder
    return None


def _resolved(path: str) -> Path | None:
    """Where a link leads, or None for a loop of links (ELOOP: Python 3.11 raises RuntimeError, 3.13 OSError)."""
    try:
        return Path(path).resolve()
    except (RuntimeError, OSError):
        return None


def _stats(entries: list[tuple[str, os.DirEntry]], problems: list[Diagnostic],
           links: list[str] | None = None) -> dict[str, Stat]:
    """The stat of each file within the size limit (SECURITY.md, item 10); a problem for each one over it. A
    file with hard links is added to `links`."""
    stats = {}
    for rel, entry in entries:
        info = entry.stat()
        if info.st_nlink > 1 and links is not None:
            links.append(rel)
        if info.st_size > MAX_FILE_BYTES:
            problems.append(too_large(rel, info.st_size))
        else:
            stats[rel] = stat_of(info)
    return stats


def stat_of(info: os.stat_result) -> Stat:
    return Stat((info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))


def too_large(rel: str, size: int) -> Diagnostic:
    return error(rel, 0, f"this file is {size / 1e6:.1f} MB; the limit is 5 MB: split it")


_READ_SIZE = 256 * 1024


def read_file(source: Path, rel: str) -> bytes:
    """One content file's bytes (a rebuild reads only the files whose stat changed)."""
    handle = os.open(f"{source}/{rel}", os.O_RDONLY)  # no buffered file object: most files take one read
    try:
        # Reads of 256 KiB: a read of 5 MiB allocates (and maps) 5 MiB for every file, however small.
        chunks = [os.read(handle, _READ_SIZE)]
        while chunks[-1] and sum(map(len, chunks)) <= MAX_FILE_BYTES:
            chunks.append(os.read(handle, _READ_SIZE))
        return b"".join(chunks)
    finally:
        os.close(handle)


def _read(source: Path, entries: list[tuple[str, os.DirEntry]], problems: list[Diagnostic]) -> dict[str, bytes]:
    return {rel: read_file(source, rel) for rel in _stats(entries, problems)}


def read_persona_files(source: Path) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The bytes of content/personas/*.md, and the files that could not be read."""
    problems: list[Diagnostic] = []
    return _read(source, _markdown_files(source, PERSONAS, False, problems), problems), problems


def read_work_tree(source: Path, stats: dict[str, Stat] | None = None,
                   git: gitmeta.GitRunner = gitmeta.RUN_WHEN_ASKED) -> ContentFiles:
    """Every file the build needs, as it is on disk; the transcripts are walked unless their stats, by path, are
    given (worktree.files: git's view). `git` asks whether source is a repository."""
    config_path = source / CONFIG_NAME
    config = config_path.read_bytes() if config_path.is_file() else None
    personas, problems = read_persona_files(source)
    links: list[str] = []
    if stats is None:
        stats = _stats(_markdown_files(source, TRANSCRIPTS, True, problems, links), problems, links)
    return ContentFiles(config, personas, dict.fromkeys(stats), stats, gitmeta.is_repository(source, git),
                        tuple(problems), links=bool(links))


def read_revision(source: Path, rev: str) -> ContentFiles:
    """Every file the build needs as it is at a git revision; the work tree is never touched.

    Raises gitmeta.GitError for a bad revision or a folder that is not a repository.
    """
    if not gitmeta.is_repository(source):
        raise gitmeta.GitError(f"--rev needs a git repository, and {source} is not one")
    sha = gitmeta.resolve(source, rev)
    files, oversized = gitmeta.read_tree(source, sha, (CONFIG_NAME, PERSONAS, TRANSCRIPTS), MAX_FILE_BYTES)
    problems = [too_large(rel, size) for rel, size in oversized.items()]
    markdown = {rel: data for rel, data in files.items() if rel.endswith(".md") and not is_hidden(Path(rel))}
    personas = {rel: data for rel, data in markdown.items()
                if rel.startswith(PERSONAS + "/") and rel.count("/") == 2}
    transcripts = {rel: data for rel, data in markdown.items() if rel.startswith(TRANSCRIPTS + "/")}
    return ContentFiles(files.get(CONFIG_NAME), personas, dict(sorted(transcripts.items())), {}, True,
                        tuple(problems), revision=sha)


def decode(path: str, data: bytes) -> tuple[str | None, Diagnostic | None]:
    """UTF-8 text (a BOM is fine), or an error naming the line of the first bad byte."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return None, error(path, line, "this file is not UTF-8 text: open it in your editor and save it as UTF-8")
