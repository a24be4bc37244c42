"""What the last build wrote: each output's path with the digest of what it was made from, kept in the cache
folder beside the output folder's own manifest, so the next build renders only the outputs whose inputs changed
(render_memo.render_unchanged) and links the rest from the site on disk (output.Unchanged).

The digests hold only while the output folder is as that build left it: they are kept with a hash of its
manifest (output.MARKER, written last: each file's size and time), and any other build into that folder (another
cache, --no-cache, an older version) writes a new manifest, which voids them. A copy of the folder that keeps the
files' times (actions/cache restoring the last run's site into a fresh clone, `cp -a`) is the same site: its
manifest is the same, and the digests hold for it wherever it is.
"""

from __future__ import annotations

from pathlib import Path

from ..output import manifest_digest
from .cache import keep_state, read_state

FILE = "written.pickle"


def recall(folder: Path | None, out: Path) -> dict[str, bytes]:
    """Path -> digest for the outputs in `out` as the last build with this cache wrote them; {} when unknown."""
    if folder is None:
        return {}
    state = read_state(folder / FILE)
    marker = manifest_digest(out)
    if not state or marker is None or state.get("manifest") != marker:
        return {}
    digests = state.get("digests")
    return digests if isinstance(digests, dict) else {}


def remember(folder: Path | None, out: Path, digests: dict[str, bytes]) -> None:
    """Keep the digests of a build just written to `out` (nothing when the cache is not saved)."""
    marker = manifest_digest(out) if folder is not None else None
    if marker is not None:
        keep_state(folder / FILE, {"manifest": marker, "digests": digests})
