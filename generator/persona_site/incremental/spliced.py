"""A `*.json` document of a rebuild spliced from the last build's file: the months whose quotes are the same are
copied from it by the kernel, not joined again from 300,000 lines (issue 22).

Every quote is in `quotes.json` and in its persona's `quotes.json` (356 MB at 100,000 transcripts), so each rebuild
writes them again, though one edit changes one month of them. A document's bytes are its head, its months' pieces
(a month's quotes' JSON lines, joined as quotejson.document_pieces joins them) between separators, and its tail;
its Layout, kept with the digests of the last build (written.py), says where each month's piece lies in the file,
by the month's key (archive.lines_digest: one digest of its quotes' lines). A rebuild copies each piece whose key is
in the last file's layout (os.copy_file_range) and joins the others. The last file is taken only when the site
folder is as the last build left it (written.recall: its manifest) and the file has the size and modification time
it was written with (Layout.stamped, when the build was remembered): one changed by hand since is not copied from.

The reference is quotejson.whole_document: tests/test_rebuild.py compares each rebuild's documents with a cold
build's (test_a_rebuilds_json_documents_copy_the_months_it_left_alone_from_the_last_files: the months copied, by
the kernel or not).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from ..archive import lines_digest
from ..model import QuoteRef
from ..output import Copied
from ..quotejson import DOCUMENT_TAIL, JSON_OF, QUOTE_SEPARATOR


class Layout(NamedTuple):
    """Where a document's months lie in its file."""

    head: int
    """The head's bytes (quotejson.quotes_head)."""
    months: tuple[tuple[bytes, int], ...]
    """Each month's key (archive.lines_digest) and its piece's bytes, newest first."""
    written: tuple[int, int] | None = None
    """The file's size and modification time once written (stamped): a file changed since is not taken."""

    def stamped(self, path: str) -> Layout | None:
        """The layout with the stat of the file at `path`, written as it says; None when there is no such file."""
        try:
            info = os.lstat(path)
        except OSError:
            return None
        return self._replace(written=(info.st_size, info.st_mtime_ns)) if info.st_size == self.size() else None

    def size(self) -> int:
        return self.head + sum(size for _, size in self.months) + len(QUOTE_SEPARATOR) * (len(self.months) - 1) \
            + len(DOCUMENT_TAIL)

    def places(self) -> dict[bytes, tuple[int, int]]:
        """Each month's key -> its piece's offset in the file and its bytes."""
        found, offset = {}, self.head
        for key, size in self.months:
            found[key] = (offset, size)
            offset += size + len(QUOTE_SEPARATOR)
        return found


def _piece_size(refs: Sequence[QuoteRef]) -> int:
    return sum(map(len, map(JSON_OF, refs))) + len(QUOTE_SEPARATOR) * (len(refs) - 1)


def layout_of(head: bytes, months: Sequence[Sequence[QuoteRef]]) -> Layout | None:
    """The layout of the document of these months (quotejson.whole_document of their refs, in order); None for a
    document with no quote."""
    if not months:
        return None
    return Layout(len(head), tuple((lines_digest(refs), _piece_size(refs)) for refs in months))


def pieces(head: bytes, months: Sequence[Sequence[QuoteRef]], last: tuple[int, Layout] | None,
           laid: list[tuple[bytes, int]]) -> Iterator[bytes | Copied]:
    """The document's bytes, month by month (quotejson.whole_document's): a month whose key `last` places (an open
    file, the last build's, and its layout) as a range of that file, the others joined. Each month's key and size
    are added to `laid` as it goes: Layout(len(head), tuple(laid)) is the document's, once all are given."""
    places = last[1].places() if last is not None else {}
    laid.clear()
    for number, refs in enumerate(months):
        yield head if not number else QUOTE_SEPARATOR
        key = lines_digest(refs)
        place = places.get(key)
        piece = QUOTE_SEPARATOR.join(map(JSON_OF, refs)) if place is None else Copied(last[0], *place)  # type: ignore[index]
        laid.append((key, len(piece) if place is None else place[1]))
        yield piece
    yield DOCUMENT_TAIL


def open_last(path: str, layout: Layout | None) -> int | None:
    """The last build's file of a document, open for reading, when it is as that build wrote it (its size and
    modification time as stamped); else None."""
    if layout is None or layout.written is None:
        return None
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if (info.st_size, info.st_mtime_ns) == layout.written:
            return handle
    except OSError:
        pass
    os.close(handle)
    return None
