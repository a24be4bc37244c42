"""Is the site already up to date? A make-style check that lets a no-change `build` finish in a blink.

The fingerprint covers everything a build reads: the content as read_work_tree found it (each transcript by
git's blob id where git vouches for its bytes, else by its stat: size, mtime, ctime, inode; the bytes of the
personas and of persona-site.toml), the bytes of every file under themes/ and of persona-site itself, the git
HEAD and which files `git status` says are not committed (the pages say so), the options, the tool version,
SOURCE_DATE_EPOCH, and today's date in the site's time zone ("N days ago"
changes at midnight); and the output folder must hold what the last build wrote (its manifest, each file's size
and time, and every file as the manifest says). No absolute path and no inode is in it: a fresh clone of the
same commit, with the cache and the last site restored (CI, issue 22 goal 5), is up to date when git vouches for
every transcript. Any difference means a real build, which then goes through the content-hash cache. Imports
here stay light on purpose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import struct
import threading
from array import array
from collections.abc import Callable, Collection, Mapping
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..gitmeta import RUN_WHEN_ASKED, GitRunner, dirty_paths, head_info
from .cache import dependency_versions, keep_state, read_state

if TYPE_CHECKING:
    from ..content import ContentFiles, Stat

STAMP = "last-build.pickle"
"""Sealed as every cache file (signing.py): a stamp from elsewhere (another branch's cache) never skips a build
and publishes a site folder that came with it (SECURITY.md, item 41)."""
_STAT = struct.Struct("<qqqQ")


def _walk(folder: Path | str, into: "hashlib._Hash", within: Path, seen: set | None = None, under: str = "") -> None:
    """Hash the name (under the folder) and bytes of every regular file under folder, following links as the build
    does (once per real folder) while they stay `within` that real folder: a fresh checkout or install of the same
    files hashes the same (584 KB of persona-site, 140 KB of theme: about 2 ms). Nothing else is opened: a link
    out of it (the build refuses it: SECURITY.md, item 9) counts by where it points, a FIFO or device by its type,
    so no theme can make this check hang or read the disk."""
    seen = set() if seen is None else seen
    try:
        real = Path(folder).resolve()
        if _hashed_out(real, within, into) or real in seen:
            return
        seen.add(real)
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except (OSError, RuntimeError):  # RuntimeError: a loop of links
        return
    for entry in entries:
        if entry.name == "__pycache__":
            continue
        name = f"{under}/{entry.name}"
        into.update(name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            if entry.is_dir():  # a link to a folder too: checked as the folder is walked
                _walk(entry.path, into, within, seen, name)
            elif entry.is_symlink() and _hashed_out(Path(entry.path).resolve(), within, into):
                continue
            elif entry.is_file():
                _file(entry.path, into)
            else:
                into.update(b"mode %d\0" % os.stat(entry.path).st_mode)
        except (OSError, RuntimeError):
            into.update(b"unreadable\0")


def _hashed_out(real: Path, within: Path, into: "hashlib._Hash") -> bool:
    """Whether a real path is outside `within`: then where it points is hashed, and nothing there is read."""
    if real.is_relative_to(within):
        return False
    into.update(b"out\0" + os.fsencode(real) + b"\0")
    return True


def _file(path: str, into: "hashlib._Hash") -> None:
    """A file's bytes, a MiB at a time (a theme's large image is hashed, not held)."""
    with open(path, "rb") as handle:
        into.update(b"%d\0" % os.fstat(handle.fileno()).st_size)
        for block in iter(lambda: handle.read(1 << 20), b""):
            into.update(block)


def _today(files: "ContentFiles") -> str:
    """Today in the site's zone, as the build reads persona-site.toml ("N days ago" changes at midnight)."""
    from ..config import Config, read_config

    try:
        text = files.config.decode("utf-8-sig") if files.config is not None else ""
    except UnicodeDecodeError:
        return ""
    config = read_config(text)[0] if text else Config()
    return dt.datetime.now(config.zone).date().isoformat()


def fingerprints(source: Path, options: dict, files: "ContentFiles", git: GitRunner = RUN_WHEN_ASKED,
                 transcripts: bytes | None = None) -> tuple[str, ...]:
    """Digests of everything a build of `source` depends on besides its output folder (check() looks at that):
    one with each transcript's stat and, when git vouched for transcripts' blob ids (a fresh clone: `files.blobs`),
    one with those ids in place of their stats, the same in any clone of the commit. `files` is the content as
    the build reads it, so content/ is walked only once; `git` asks HEAD's commit. The cache folder is not in
    them: the stamp is kept there. `transcripts`, when given, is stats_digest of the transcripts' stats, known
    without them (worktree.unchanged_since_last_look); then `files` need hold no transcript."""
    parts = [__version__, dependency_versions(), json.dumps(options, sort_keys=True), _today(files),
             head_info(source, git=git).get("commit", ""), os.environ.get("SOURCE_DATE_EPOCH", ""),
             "\1".join(sorted(dirty_paths(source, git)))]  # the pages say which files are not committed
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape"))
    digest.update(repr((files.config, sorted(files.personas.items()), files.diagnostics, files.is_git)).encode())
    _walk(source / "themes", digest, source.resolve())
    # persona-site itself: a new version or an edited built-in theme must rebuild.
    package = Path(__file__).parents[1]
    _walk(package, digest, package.resolve())
    theme = package / "themes" if (package / "themes").is_dir() else package.parents[1] / "themes"
    _walk(theme, digest, theme.resolve())
    by_stat = digest.copy()
    by_stat.update(stats_digest(files.stats) if transcripts is None else transcripts)
    if not files.blobs:
        return (by_stat.hexdigest(),)
    digest.update("\0".join(files.stats).encode("utf-8", "surrogateescape"))
    vouched = [path for path in files.stats if path in files.blobs]
    digest.update(b"\1" + "\0".join(vouched).encode("utf-8", "surrogateescape") + b"\1")
    digest.update(b"".join(files.blobs[path] for path in vouched))
    _stats([stat for path, stat in files.stats.items() if path not in files.blobs], digest)
    return by_stat.hexdigest(), digest.hexdigest()


def stats_digest(stats: Mapping[str, "Stat"]) -> bytes:
    """A digest of the transcripts' paths and stats, in order. A few updates in C, not two per file (10,000
    files: 3 ms, not 40)."""
    digest = hashlib.sha256("\0".join(stats).encode("utf-8", "surrogateescape") + b"\1")
    _stats(stats.values(), digest)
    return digest.digest()


def _stats(stats: Collection["Stat"], into: "hashlib._Hash") -> None:
    try:
        into.update(array("q", chain.from_iterable(stats)).tobytes())
    except OverflowError:  # an inode number past 2**63 (some network disks): one stat at a time
        for stat in stats:
            into.update(_STAT.pack(*stat))


def _marker(out: Path) -> str:
    from ..output import manifest_digest  # light module

    digest = manifest_digest(out)
    return digest.hex() if digest is not None else ""


def check(folder: Path | None, found: tuple[str, ...], out: Path) -> dict | None:
    """The last build's record (its diagnostics and summary) if nothing changed since, else None."""
    stamp = _stamp(folder)
    if stamp is None or not recorded_under(stamp, found) or not _site_as_left(stamp, out):
        return None
    return matching(folder, stamp, found)


class SiteCheck:
    """Whether the output folder holds what the last build wrote, each file as it left it: looked at in a thread
    as soon as this is made, so the site's files are stat-ed while git answers (a stat lets go of the
    interpreter), and given up once the answer is moot (a transcript changed, or the fingerprints are not the
    stamp's: 10,000 published pages need not be stat-ed first)."""

    def __init__(self, folder: Path | None, out: Path) -> None:
        self.stamp = _stamp(folder)
        """The last build's record, whatever changed since (matching() tells that); None when there is none."""
        self._intact = False
        self._moot = threading.Event()
        self._thread = threading.Thread(target=self._look, args=(out,), daemon=True)
        if self.stamp is not None:
            self._thread.start()

    def _look(self, out: Path) -> None:
        self._intact = _site_as_left(self.stamp, out, self._moot.is_set)

    def intact(self, wanted: bool = True) -> bool:
        """The answer (False when there is no stamp); with `wanted` False, the look is given up, and False."""
        if not wanted:
            self._moot.set()
        if self._thread.is_alive():
            self._thread.join()
        return wanted and self._intact

    def __enter__(self) -> SiteCheck:
        return self

    def __exit__(self, *exc: object) -> None:
        self.intact(wanted=False)  # an error meanwhile: nothing is left stat-ing the site


def recorded_under(stamp: dict, found: tuple[str, ...]) -> bool:
    """Whether the stamp was recorded under one of the fingerprints `found`."""
    return bool(set(found) & set(stamp["fingerprints"]))


def matching(folder: Path | None, stamp: dict, found: tuple[str, ...]) -> dict | None:
    """The stamp, if it was recorded under one of the fingerprints `found`. A stamp found by blob ids (a fresh
    clone) is kept again with this clone's fingerprints, so the next build here, which knows the files by their
    stats, finds it too."""
    if folder is None or not recorded_under(stamp, found):
        return None
    if stamp["fingerprints"] != list(found):
        _keep(folder, {**stamp, "fingerprints": list(found)})
    return stamp


def _stamp(folder: Path | None) -> dict | None:
    if folder is None:
        return None
    stamp = read_state(folder / STAMP)
    return stamp if isinstance(stamp.get("fingerprints"), list) else None


def _site_as_left(stamp: dict, out: Path, given_up: Callable[[], bool] = lambda: False) -> bool:
    """Whether the output folder is the one the stamp's build wrote, each file as it left it."""
    if not stamp.get("marker") or stamp.get("marker") != _marker(out):
        return False  # the site was rebuilt or removed since
    from ..output import site_intact

    return site_intact(out, given_up)  # False when a page was edited or deleted since


def record(folder: Path | None, found: tuple[str, ...], out: Path, diagnostics: list[list], summary: str,
           fail_on_stale: bool = False) -> None:
    """Remember a successful build, by the fingerprints taken before it started, so the next may be skipped
    (with whether --strict fails on its notices: the settings it was built with)."""
    if folder is not None:
        _keep(folder, {"fingerprints": list(found), "marker": _marker(out), "diagnostics": diagnostics,
                       "summary": summary, "fail_on_stale": fail_on_stale})


def _keep(folder: Path, stamp: dict) -> None:
    keep_state(folder / STAMP, {key: value for key, value in stamp.items() if key != "version"})
