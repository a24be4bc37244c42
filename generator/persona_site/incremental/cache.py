"""The persistent cache: parsed transcripts keyed by content hash, and what git said, per HEAD.

Kept in a git-ignored folder of the content repository (`.persona-cache/`). It is
an optimisation only: a missing, corrupt, other-version or unsealed cache is ignored
and rebuilt, never trusted; every file is sealed with this user's key and unpickled
only when its seal is good (signing.py: a pickle committed to the repository never runs). Writes are atomic (temp file + rename), so two builds at
once each leave a whole file behind, never a torn one.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

from .. import __version__
from .signing import opened, seal_of

FORMAT = 14  # 3: entries are model.Parsed (pickled transcripts, quote refs), loaded in C; 4: model.freeze; 5: the scan;
# 6: a transcript with errors keeps its good quotes, and misspelt tag spans are warned about; 7: span attributes
# other than tags and a q- id, and bidirectional controls, are warned about; quotes are isolated (issue 21);
# 8: a quote ref holds its company; 9: every file is sealed (signing.py, issue 21, item 1); 10: with
# attribution = "role" a quote's JSON names its transcript by an opaque id (issue 21, item 7); 11: the content
# hash is git's blob id (issue 22, goal 5); 12: git history keeps the last commit that changed each transcript
# (a transcript page shows it, issue 22, goal 1); 13: an entry keeps its transcript's head (model.TranscriptHead);
# 14: the head has a version (a digest of the frozen transcript: a company page is keyed by its calls' heads)

LIBRARIES = MappingProxyType({"jinja2": "jinja2", "markdown_it": "markdown_it_py", "mdit_py_plugins": "mdit_py_plugins",
                              "yaml": "pyyaml", "frontmatter": "python_frontmatter", "stop_words": "stop_words"})
"""The libraries whose upgrade can change the output: import name -> distribution name as its dist-info folder
spells it (lower case, `_` for `-`)."""


def dependency_versions() -> str:
    """The libraries whose upgrade can change the output, each by what was installed (installed_as).

    importlib.metadata would cost a tenth of a second; find_spec does not import anything.
    """
    from importlib.util import find_spec

    found, listings = [], {}
    for name, distribution in LIBRARIES.items():
        spec = find_spec(name)
        found.append(f"{name}={installed_as(spec.origin, distribution, listings) if spec and spec.origin else '?'}")
    return " ".join(found)


def installed_as(origin: str, distribution: str, listings: dict[str, dict[str, list[str]]] | None = None) -> str:
    """A package (by its __init__.py) as installed: a hash of the RECORD of its distribution's dist-info folder
    beside it, which lists every installed file with its hash, so the same for each install of the same wheel (a
    CI runner installs afresh each run, and the cache it restores is still good); else, for a source checkout or
    an editable install, the stat of its file. A library edited in place, not installed, keeps its RECORD."""
    folder = os.path.dirname(os.path.dirname(origin))
    try:
        installed = (listings or {}).get(folder)
        if installed is None:  # distribution name -> its dist-info folders
            installed = {}
            for entry in sorted(os.listdir(folder)):
                if entry.endswith(".dist-info"):
                    name = entry.partition("-")[0].lower().replace(".", "_")
                    installed.setdefault(name, []).append(entry)
            if listings is not None:
                listings[folder] = installed
        if distribution in installed:
            hashing = hashlib.sha256()
            for entry in installed[distribution]:
                with open(os.path.join(folder, entry, "RECORD"), "rb") as handle:
                    hashing.update(handle.read())
            return hashing.hexdigest()[:20]
        info = os.stat(origin)
    except OSError:
        return "?"
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def _version() -> str:
    return f"{__version__}/{FORMAT}/{dependency_versions()}"  # a library upgrade can change what a parse gives


VERSION = _version()
DEFAULT_FOLDER = ".persona-cache"
FILE = "build.pickle"


def cache_folder(source: Path) -> Path | None:
    """Where the cache lives: $PERSONA_SITE_CACHE (empty or 'off' disables it), else SOURCE/.persona-cache."""
    configured = os.environ.get("PERSONA_SITE_CACHE")
    if configured is not None:
        return None if configured.strip() in ("", "off", "0") else Path(configured)
    return source / DEFAULT_FOLDER


SHARDS = 16
"""Parsed transcripts are split over this many files by content hash, so a build that changed a few
transcripts rewrites a few small files, not all of them (benchmarks/README.md, issue 5)."""


def shard_of(key: tuple) -> int:
    """The file a cache entry lives in: by the first byte of its content hash (key[0])."""
    return key[0][0] % SHARDS if key[0] else 0


def _shard(folder: Path, number: int) -> Path:
    return folder / f"transcripts-{number:02d}.pickle"


def read_state(path: Path, version: str = VERSION) -> dict:
    """A cache file's state, or {} when it is missing, unreadable, unsealed or from another version. The seal is
    checked before anything is unpickled."""
    try:
        with open(path, "rb") as handle:
            data = opened(handle.read())
        if data is None:
            return {}
        with collector_paused():  # no cycles in a cache (the work tree's memo: 100,000 stats, a third faster)
            state = pickle.loads(data)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError,
            IndexError, KeyError, MemoryError):
        return {}
    if not isinstance(state, dict) or state.get("version") != version:
        return {}
    return state


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection meanwhile: there are no cycles in a cache, and collecting while 100,000 objects
    arrive, shard after shard, costs a third of a load (83M instructions at 10,000 transcripts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(folder: Path | None) -> dict:
    """The cached state, or {} when there is none we can trust; a bad shard only loses its entries."""
    if folder is None:
        return {}
    from ..model import Parsed  # here: a no-change build imports this module, not the model

    with collector_paused():
        state = read_state(folder / FILE)
        if not state:
            return {}
        transcripts: dict = {}
        for number in range(SHARDS):
            part = read_state(_shard(folder, number)).get("transcripts")
            if isinstance(part, dict):
                transcripts.update((key, entry) for key, entry in part.items() if type(entry) is Parsed)
        return {**state, "transcripts": transcripts}


def save(folder: Path | None, state: dict, unchanged: set[int] | frozenset[int] = frozenset()) -> None:
    """Write the state atomically, file by file, except the shards numbered in `unchanged` (their
    entries are the same as on disk); a cache that cannot be written is simply skipped."""
    if folder is None:
        return
    try:
        ensure_folder(folder)
        shards: list[dict] = [{} for _ in range(SHARDS)]
        for key, entry in state.get("transcripts", {}).items():
            shards[shard_of(key)][key] = entry
        for number, part in enumerate(shards):
            if number not in unchanged:
                write_state(_shard(folder, number), {"transcripts": part})
        write_state(folder / FILE, {name: value for name, value in state.items() if name != "transcripts"})
    except OSError:
        pass


def ensure_folder(folder: Path) -> None:
    """The cache folder, made git-ignored when it is new."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def keep_state(path: Path, state: dict, version: str = VERSION) -> bool:
    """write_state in the cache folder (made if need be); False when it cannot be written (then simply skipped)."""
    try:
        ensure_folder(path.parent)
        write_state(path, state, version)
    except OSError:
        return False
    return True


def write_state(path: Path, state: dict, version: str = VERSION) -> None:
    """A cache file (read_state's), sealed and written atomically; OSError when it cannot be. Without a key,
    nothing is written."""
    data = pickle.dumps({**state, "version": version}, protocol=pickle.HIGHEST_PROTOCOL)
    seal = seal_of(data)
    if seal is not None:
        write_atomic(path, seal, data)


def write_atomic(path: Path, *parts: bytes) -> None:
    """Write to a temporary file beside path, then rename: readers see the old file or the new, never half."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for data in parts:
                out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
