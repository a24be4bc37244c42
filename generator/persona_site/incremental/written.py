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
from typing import TYPE_CHECKING, NamedTuple

from ..output import manifest_digest
from .cache import keep_state, read_state

if TYPE_CHECKING:
    from .spliced import Layout

FILE = "written.pickle"


class Written(NamedTuple):
    """What a build wrote, as the next one needs it."""

    digests: dict[str, bytes]
    """Path -> the digest of what the output there was made from."""
    layouts: dict[str, Layout]
    """Path -> where each month of the `*.json` document there lies in its file, and the file's stat once written
    (spliced.py)."""


def recall(folder: Path | None, out: Path) -> Written:
    """What the last build with this cache wrote to `out`, when the folder is as it left it; else nothing."""
    nothing = Written({}, {})
    if folder is None:
        return nothing
    state = read_state(folder / FILE)
    marker = manifest_digest(out)
    if not state or marker is None or state.get("manifest") != marker:
        return nothing
    digests, layouts = state.get("digests"), state.get("layouts")
    if not isinstance(digests, dict):
        return nothing
    return Written(digests, layouts if isinstance(layouts, dict) else {})


def remember(folder: Path | None, out: Path, written: Written) -> None:
    """Keep what a build just wrote to `out` (nothing when the cache is not saved)."""
    marker = manifest_digest(out) if folder is not None else None
    if marker is not None:
        stamped = {path: layout.stamped(f"{out}/{path}") for path, layout in written.layouts.items()}
        keep_state(folder / FILE, {"manifest": marker, "digests": written.digests,
                                   "layouts": {path: layout for path, layout in stamped.items() if layout is not None}})
