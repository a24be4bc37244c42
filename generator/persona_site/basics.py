"""What the light modules need of the model: diagnostics and the named-tuple helper.

content, config and the command line import these without the model's classes, whose
creation is a tenth of a no-change build's imports (issue 5); model.py re-exports them.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from fnmatch import fnmatch
from typing import NamedTuple

EDITOR_LEFTOVERS = (
    "*.swp", "*.swx", "*.swo", "4913",  # vim's swap files and its "can I write here?" probe
    "*~", "*.bck", "*.tmp", "*.kate-swp", "*.crswap",  # backups and temporary copies
    ".#*", "#*#",  # emacs lock and autosave files
    ".goutputstream-*",  # GNOME's atomic save
    "*___jb_tmp___", "*___jb_old___",  # JetBrains' safe write
    ".DS_Store",
)
"""Editor temporary files and atomic-save artefacts: never read by a build, never a reason to rebuild."""


def never_read(rel: str) -> bool:
    """Whether a path relative to the source (with '/') is one no build reads: with a hidden part below the top
    (.git, a dot-file or dot-folder in content/ or themes/), or an editor's temporary file (EDITOR_LEFTOVERS). serve's
    watcher skips these, and "with uncommitted changes" does not count them."""
    parts = rel.split("/")
    return any(part.startswith(".") for part in parts[1:]) or any(fnmatch(parts[-1], p) for p in EDITOR_LEFTOVERS)


class Diagnostic(NamedTuple):
    """One problem found in the content, with the place to fix it."""

    path: str
    """Path relative to the source folder, with forward slashes."""
    line: int
    """1-based line in the source file (0 when the problem has no line)."""
    severity: str
    """'error', 'warning' or 'notice' (news, such as a stale persona: spec section 5)."""
    message: str
    """What is wrong and how to fix it."""

    def __str__(self) -> str:
        place = f"{self.path}:{self.line}" if self.line else self.path
        return f"{place}: {self.severity}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def error(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, "error", message)


def warning(path: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(path, line, "warning", message)


def notice(path: str, line: int, message: str) -> Diagnostic:
    """News for the site's readers, not a broken build: --strict fails on it only with fail_on_stale."""
    return Diagnostic(path, line, "notice", message)


def fails_strict(d: Diagnostic, fail_on_stale: bool) -> bool:
    """Whether --strict fails the build on d (spec sections 2 and 5)."""
    return d.severity != "notice" or fail_on_stale


def loaded_in_c(cls: type) -> type:
    """A named tuple made from one iterable, QuoteRef((order, ...)), that unpickles without a Python call:
    tuple.__new__ builds it (the cache loads 30,000 of them in half the time)."""
    cls.__new__ = tuple.__new__
    cls.__getnewargs__ = lambda self: (tuple(self),)
    return cls


def moved(items: list, old: object, new: object, key: Callable) -> tuple[int, int] | None:
    """In `items` (sorted by `key`, each item's key its own), `old` taken out and `new` put where its key goes, in
    place (either may be None: nothing to take out, or to put in); where old was and where new went (-1 for None).
    None, and `items` as they were, when old is not where its key says (serve's patched lists)."""
    out = into = -1
    if old is not None:
        out = bisect.bisect_left(items, key(old), key=key)
        if out == len(items) or items[out] is not old:
            return None
        del items[out]
    if new is not None:
        into = bisect.bisect_left(items, key(new), key=key)
        items.insert(into, new)
    return out, into
