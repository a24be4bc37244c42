"""Jinja's compiled templates kept between runs, sealed as the rest of the cache (signing.py).

Jinja's FileSystemBytecodeCache unmarshals whatever file it finds, and marshalled code runs once loaded: a file
committed to the cache folder would run on the next build. These files are written with the cache's seal and
loaded only when it is good; any other file is a miss, and the template is compiled from its source.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from .cache import write_atomic
from .signing import opened, seal_of


class SealedBytecodeCache(jinja2.BytecodeCache):
    """Compiled templates in `folder`, one file per template, each sealed."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def _file(self, bucket: jinja2.bccache.Bucket) -> Path:
        return self.folder / f"{bucket.key}.jinja"

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            data = opened(self._file(bucket).read_bytes())
        except OSError:
            return
        if data is not None:
            bucket.bytecode_from_string(bytes(data))  # checks the template's source checksum too

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = bucket.bytecode_to_string()
        seal = seal_of(data)
        if seal is None:
            return
        try:
            write_atomic(self._file(bucket), seal, data)
        except OSError:
            pass  # a cache we cannot write is no cache
