"""Gather the files of a content repository: from the work tree (or, later, a git revision)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import gitmeta
from .config import CONFIG_NAME
from .model import Diagnostic, error

MAX_FILE_BYTES = 5 * 1024 * 1024  # SECURITY.md, item 10: bounded time and memory per file
LINK_OUT = "this is a link to something outside the repository: copy it in instead"
PERSONAS = "content/personas"
TRANSCRIPTS = "content/transcripts"


@dataclass(frozen=True)
class ContentFiles:
    """The raw bytes of every file the build reads, by path relative to the source."""

    config: bytes | None
    """persona-site.toml, if there is one."""
    personas: dict[str, bytes]
    """content/personas/*.md"""
    transcripts: dict[str, bytes]
    """content/transcripts/**/*.md"""
    mtimes: dict[str, dt.datetime]
    """Modification time of each transcript (for those git does not date)."""
    is_git: bool
    """Whether the source is a git repository."""
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    """Files that could not be read."""
    revision: str | None = None
    """The commit the files were read from (--rev), or None for the work tree."""


def _is_hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _markdown_files(source: Path, folder: str, recursive: bool, problems: list[Diagnostic]) -> dict[str, Path]:
    """Markdown files under source/folder, skipping hidden names and links that leave the repository."""
    base = source / folder
    if not base.is_dir():
        return {}
    root = source.resolve()
    found: dict[str, Path] = {}
    pending = [(base, folder)]
    while pending:
        directory, rel_dir = pending.pop()
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = f"{rel_dir}/{entry.name}"
                if entry.is_symlink() and not Path(entry.path).resolve().is_relative_to(root):
                    problems.append(error(rel, 0, LINK_OUT))
                    continue
                if entry.is_dir():
                    if recursive:
                        pending.append((Path(entry.path), rel))
                elif entry.name.endswith(".md") and entry.is_file():
                    found[rel] = Path(entry.path)
    return dict(sorted(found.items()))


def _read(paths: dict[str, Path], problems: list[Diagnostic]) -> dict[str, bytes]:
    data: dict[str, bytes] = {}
    for rel, path in paths.items():
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            problems.append(error(rel, 0, f"this file is {size / 1e6:.1f} MB; the limit is 5 MB: split it"))
            continue
        data[rel] = path.read_bytes()
    return data


def read_persona_files(source: Path) -> tuple[dict[str, bytes], list[Diagnostic]]:
    """The bytes of content/personas/*.md, and the files that could not be read."""
    problems: list[Diagnostic] = []
    return _read(_markdown_files(source, PERSONAS, False, problems), problems), problems


def read_work_tree(source: Path) -> ContentFiles:
    """Every file the build needs, as it is on disk, plus dates from git history."""
    config_path = source / CONFIG_NAME
    config = config_path.read_bytes() if config_path.is_file() else None
    personas, problems = read_persona_files(source)
    transcript_paths = _markdown_files(source, TRANSCRIPTS, True, problems)
    transcripts = _read(transcript_paths, problems)
    mtimes = {rel: dt.datetime.fromtimestamp(transcript_paths[rel].stat().st_mtime, dt.timezone.utc)
              for rel in transcripts}
    return ContentFiles(config, personas, transcripts, mtimes, gitmeta.is_repository(source), tuple(problems))


def read_revision(source: Path, rev: str) -> ContentFiles:
    """Every file the build needs as it is at a git revision; the work tree is never touched.

    Raises gitmeta.GitError for a bad revision or a folder that is not a repository.
    """
    if not gitmeta.is_repository(source):
        raise gitmeta.GitError(f"--rev needs a git repository, and {source} is not one")
    sha = gitmeta.resolve(source, rev)
    files = gitmeta.read_tree(source, sha, (CONFIG_NAME, PERSONAS, TRANSCRIPTS))
    problems = [error(rel, 0, f"this file is {len(data) / 1e6:.1f} MB; the limit is 5 MB: split it")
                for rel, data in files.items() if len(data) > MAX_FILE_BYTES]
    markdown = {rel: data for rel, data in files.items() if rel.endswith(".md") and len(data) <= MAX_FILE_BYTES
                and not _is_hidden(Path(rel))}
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
