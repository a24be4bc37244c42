"""The persistent cache: parsed transcripts keyed by content hash, and what git said, per HEAD.

Kept in a git-ignored folder of the content repository (`.persona-cache/`). It is
an optimisation only: a missing, corrupt, or other-version cache is ignored and
rebuilt, never trusted. Writes are atomic (temp file + rename), so two builds at
once each leave a whole file behind, never a torn one.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from pathlib import Path

from . import __version__

FORMAT = 1
def _version() -> str:
    from .uptodate import dependency_versions  # a library upgrade can change what a parse gives

    return f"{__version__}/{FORMAT}/{dependency_versions()}"


VERSION = _version()
DEFAULT_FOLDER = ".persona-cache"
FILE = "build.pickle"


def cache_folder(source: Path) -> Path | None:
    """Where the cache lives: $PERSONA_SITE_CACHE (empty or 'off' disables it), else SOURCE/.persona-cache."""
    configured = os.environ.get("PERSONA_SITE_CACHE")
    if configured is not None:
        return None if configured.strip() in ("", "off", "0") else Path(configured)
    return source / DEFAULT_FOLDER


def load(folder: Path | None) -> dict:
    """The cached state, or {} when there is none we can trust."""
    if folder is None:
        return {}
    try:
        with open(folder / FILE, "rb") as handle:
            state = pickle.load(handle)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError,
            IndexError, KeyError, MemoryError):
        return {}
    if not isinstance(state, dict) or state.get("version") != VERSION:
        return {}
    return state


def save(folder: Path | None, state: dict) -> None:
    """Write the state atomically; a cache that cannot be written is simply skipped."""
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("*\n")
        write_atomic(folder / FILE, pickle.dumps({**state, "version": VERSION}, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError:
        pass


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file beside path, then rename: readers see the old file or the new, never half."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
