"""Writing an imported transcript: a new file, written whole, never over another one."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_new(path: Path, text: str) -> None:
    """Create path holding text, atomically; FileExistsError when the path exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temp, "x", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temp, path)  # refuses an existing path, even one created a moment ago
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links
            if path.exists():
                raise FileExistsError(path) from None
            os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
