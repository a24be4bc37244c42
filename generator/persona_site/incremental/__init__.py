"""The seam for speed: how build.build_site's stages are done.

ColdEngine does every stage in full and keeps nothing: it is the reference. PersistentEngine keeps what it
can between builds and processes (caches, a process pool, git's view, memos) and must give the same outputs,
byte for byte (tests/test_engines.py). The domain modules import nothing from this package.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .cold import ColdEngine
    from .persistent import PersistentEngine

__all__ = ["ColdEngine", "PersistentEngine"]


def __getattr__(name: str) -> object:
    """The engines, imported when first asked for: a build found up to date needs only PersistentEngine, and
    ColdEngine imports the whole pipeline."""
    if name == "ColdEngine":
        from .cold import ColdEngine

        return ColdEngine
    if name == "PersistentEngine":
        from .persistent import PersistentEngine

        return PersistentEngine
    raise AttributeError(name)
