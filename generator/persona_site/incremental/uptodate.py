"""Is the site already up to date? A make-style check that lets a no-change `build` finish in a blink.

The fingerprint covers everything a build reads: the content as read_work_tree
found it (each transcript's stat: size, mtime, ctime, inode; the bytes of the
personas and of persona-site.toml), the stat of every file under themes/, the
git HEAD, the options, the tool version, SOURCE_DATE_EPOCH, and today's date in
the site's time zone ("N days ago" changes at midnight). Any difference means a
real build, which then goes through the content-hash cache; a CI checkout, whose
files all have new stats, always builds. Imports here stay light on purpose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
from array import array
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..gitmeta import RUN_WHEN_ASKED, GitRunner, head_info
from .cache import dependency_versions, write_atomic

if TYPE_CHECKING:
    from ..content import ContentFiles

STAMP = "last-build.json"
_STAT = struct.Struct("<qqqQ")


def _walk(folder: Path, into: "hashlib._Hash", seen: set | None = None) -> None:
    """Hash the stat of every file under folder, following links as the build does (once per real folder)."""
    seen = set() if seen is None else seen
    try:
        real = folder.resolve()
        if real in seen:
            return
        seen.add(real)
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        try:
            info = entry.stat()
        except OSError:
            continue
        into.update(entry.path.encode("utf-8", "surrogateescape"))
        into.update(_STAT.pack(info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino))
        if entry.is_dir():
            _walk(Path(entry.path), into, seen)


def _today(files: "ContentFiles") -> str:
    """Today in the site's zone, as the build reads persona-site.toml ("N days ago" changes at midnight)."""
    from ..config import Config, read_config

    try:
        text = files.config.decode("utf-8-sig") if files.config is not None else ""
    except UnicodeDecodeError:
        return ""
    config = read_config(text)[0] if text else Config()
    return dt.datetime.now(config.zone).date().isoformat()


def fingerprint(source: Path, out: Path, options: dict, files: "ContentFiles",
                git: GitRunner = RUN_WHEN_ASKED) -> str:
    """A digest of everything a build of `source` into `out` depends on; `files` is the content as the build
    reads it (the stat of each transcript, the bytes of the rest), so content/ is walked only once; `git` asks
    HEAD's commit."""
    parts = [__version__, dependency_versions(), json.dumps(options, sort_keys=True), str(out.resolve()),
             _today(files), head_info(source, git=git).get("commit", ""), os.environ.get("SOURCE_DATE_EPOCH", ""),
             os.environ.get("PERSONA_SITE_CACHE", "")]
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape"))
    _content(files, digest)
    _walk(source / "themes", digest)
    # persona-site itself: a new version or an edited built-in theme must rebuild.
    package = Path(__file__).parents[1]
    _walk(package, digest)
    theme = package / "themes" if (package / "themes").is_dir() else package.parents[1] / "themes"
    _walk(theme, digest)
    return digest.hexdigest()


def _content(files: "ContentFiles", into: "hashlib._Hash") -> None:
    """Hash what a build reads of the work tree, as read_work_tree found it."""
    into.update(repr((files.config, sorted(files.personas.items()), files.diagnostics, files.is_git)).encode())
    # Two updates in C, not two per file (10,000 files: 3 ms, not 40): the paths, then their stats in order.
    into.update("\0".join(files.stats).encode("utf-8", "surrogateescape"))
    try:
        into.update(array("q", chain.from_iterable(files.stats.values())).tobytes())
    except OverflowError:  # an inode number past 2**63 (some network disks): one stat at a time
        for stat in files.stats.values():
            into.update(_STAT.pack(*stat))


def _marker_stat(out: Path) -> str:
    from ..output import MARKER  # light module

    try:
        info = (out / MARKER).stat()
    except OSError:
        return ""
    return f"{info.st_size}\0{info.st_mtime_ns}\0{info.st_ino}"


def check(folder: Path | None, fingerprint: str, out: Path) -> dict | None:
    """The last build's record (its diagnostics and summary) if nothing changed since, else None."""
    if folder is None:
        return None
    try:
        stamp = json.loads((folder / STAMP).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or stamp.get("fingerprint") != fingerprint:
        return None
    if not stamp.get("marker") or stamp.get("marker") != _marker_stat(out):
        return None  # the site was rebuilt or removed since
    from ..output import site_intact

    if not site_intact(out):
        return None  # a page was edited or deleted since
    return stamp


def record(folder: Path | None, fingerprint: str, out: Path, diagnostics: list[list], summary: str,
           fail_on_stale: bool = False) -> None:
    """Remember a successful build, by the fingerprint taken before it started, so the next may be skipped
    (with whether --strict fails on its notices: the settings it was built with)."""
    if folder is None:
        return
    stamp = {"fingerprint": fingerprint, "marker": _marker_stat(out), "diagnostics": diagnostics, "summary": summary,
             "fail_on_stale": fail_on_stale}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / STAMP, json.dumps(stamp).encode())
    except OSError:
        pass
