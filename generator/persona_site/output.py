"""Writing the site: the only module that touches the output folder.

The new site is written to a temporary folder beside the output and swapped in
whole, so a failed or killed build leaves the previous site byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

MARKER = ".persona-site-output"
_TEMP_PREFIXES = (".persona-site-tmp-", ".persona-site-old-")


class OutputRefused(Exception):
    """The output folder is somewhere persona-site must not write (or delete)."""


def check_output(out: Path, source: Path) -> None:
    """Refuse an output folder whose replacement could delete someone's work."""
    out_r, source_r = out.resolve(), source.resolve()
    content = source_r / "content"
    if out_r == source_r or out_r in source_r.parents:
        raise OutputRefused(f"refusing to write the site to {out}: it holds the content repository; use --out site")
    if out_r == Path(out_r.anchor) or out_r == Path.home().resolve():
        raise OutputRefused(f"refusing to write the site to {out}: choose a folder of its own, e.g. --out site")
    if out_r == content or out_r.is_relative_to(content) or (out_r / "content").exists():
        raise OutputRefused(f"refusing to write the site to {out}: it is (or holds) a content folder")
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"refusing to write the site to {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputRefused(f"refusing to replace {out}: it is not empty and persona-site did not make it; "
                            "empty it or choose another --out")


def _manifest(out: Path) -> set[str]:
    try:
        return set(json.loads((out / MARKER).read_text("utf-8"))["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _clean_leftovers(parent: Path, name: str) -> None:
    """Temporary folders of a build that was killed mid-write."""
    for prefix in _TEMP_PREFIXES:
        for stale in parent.glob(f"{prefix}{name}-*"):
            shutil.rmtree(stale, ignore_errors=True)


def write_site(outputs: dict[str, bytes], out: Path, source: Path,
               progress: Callable[[int, int], None] | None = None) -> int:
    """Write every output, then swap the new folder in for the old one; returns files written.

    Files whose bytes did not change are hard-linked from the previous site rather
    than written again, and a build that changes nothing writes nothing at all.
    """
    check_output(out, source)
    digests = {rel: hashlib.sha256(data).hexdigest() for rel, data in outputs.items()}
    previous = _manifest_digests(out)
    if previous == digests and all((out / rel).is_file() for rel in digests):
        return 0
    parent = out.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(parent, out.name)
    temp = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIXES[0]}{out.name}-", dir=parent))
    written = 0
    try:
        for done, (rel, data) in enumerate(outputs.items(), 1):
            target = temp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if previous.get(rel) != digests[rel] or not _link(out / rel, target):
                target.write_bytes(data)
                written += 1
            if progress:
                progress(done, len(outputs))
        _keep_user_files(out, temp, set(outputs))
        (temp / MARKER).write_text(json.dumps({"files": digests}, indent=0, sort_keys=True) + "\n", "utf-8")
        os.chmod(temp, 0o755)
        _swap(temp, out, parent)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return written


def _link(existing: Path, target: Path) -> bool:
    try:
        os.link(existing, target)
        return True
    except OSError:
        return False


def _manifest_digests(out: Path) -> dict[str, str]:
    try:
        files = json.loads((out / MARKER).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return files if isinstance(files, dict) else {}


def _keep_user_files(out: Path, temp: Path, written: set[str]) -> None:
    """Files the user put in the output (CNAME, .git, .nojekyll) move to the new site, never deleted."""
    if not out.is_dir():
        return
    ours = _manifest(out) | {MARKER}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if rel in ours or rel in written or (path.is_dir() and not path.is_symlink()):
            continue
        target = temp / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target, follow_symlinks=False)


def _swap(temp: Path, out: Path, parent: Path) -> None:
    if not out.exists():
        os.replace(temp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIXES[1]}{out.name}-", dir=parent))
    os.rmdir(old)
    os.replace(out, old)
    try:
        os.replace(temp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
