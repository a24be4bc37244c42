"""The seam for speed: how build.build_site's stages are done.

ColdEngine does every stage in full and keeps nothing: it is the reference. PersistentEngine keeps what it
can between builds and processes (caches, a process pool, git's view, memos) and must give the same outputs,
byte for byte (tests/test_engines.py). The domain modules import nothing from this package.
"""

from .cold import ColdEngine
from .persistent import PersistentEngine

__all__ = ["ColdEngine", "PersistentEngine"]
