"""Quotes' cards on disk (the build command's): each written by the worker that read its transcript, read back by
the page that shows it, so that no process holds every card (40 MB of text at 10,000 transcripts, 400 MB at
100,000, and as much again in the quotes they were keyed by), and none goes through a pipe.

A card is known by its transcript's path and its quote's id (unique in a build that renders), not by the quote
itself: the pages' quotes are the ones the workers read, except those of a transcript dated line by line after
(PersistentEngine._line_dated), whose cards the build leaves out (`CardsOnDisk.without`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection
from typing import NamedTuple

from markupsafe import Markup

from ..model import Quote, Transcript

CardKey = tuple[str, str]
"""(the transcript's path relative to content/, the quote's id)."""


class CardAt(NamedTuple):
    """Where a card is: in the file of the process that wrote it."""

    writer: int
    """That process's id (its file's name)."""
    offset: int
    size: int


class CardFiles:
    """A private folder where each process that reads transcripts writes their cards, one file each; once the
    reading is over the main process opens every file and removes the folder (`opened`): the files live on,
    unnamed, until `close` (a forked process that makes pages reads them too)."""

    def __init__(self) -> None:
        self.folder: str | None = tempfile.mkdtemp(prefix="persona-site-cards-")
        self._writing: tuple[int, int, int] | None = None
        """This process's (pid, file, size written): reset in a forked process, which writes its own file."""
        self._files: dict[int, int] = {}
        """Writer pid -> its file, open for reading (after `opened`)."""

    def keeping(self, cards: Callable[[Transcript], list[tuple[Quote, str]] | None]
                ) -> Callable[[Transcript], list[tuple[CardKey, CardAt | str]] | None]:
        """`cards` (Renderer.cards_for's), with each card written to this process's file and only where it is
        coming back; a card that cannot be written (a full disk) comes back whole."""

        def kept(transcript: Transcript) -> list[tuple[CardKey, CardAt | str]] | None:
            made = cards(transcript)
            if made is None:
                return None
            keys = [(quote.transcript, quote.id) for quote, _ in made]
            texts = [card for _, card in made]
            places = self._write([text.encode("utf-8", "surrogatepass") for text in texts])
            return list(zip(keys, places if places is not None else texts))

        return kept

    def _write(self, encoded: list[bytes]) -> list[CardAt] | None:
        pid = os.getpid()
        try:
            if self._writing is None or self._writing[0] != pid:
                if self.folder is None:
                    return None
                handle = os.open(f"{self.folder}/{pid}", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                self._writing = (pid, handle, 0)
            _, handle, size = self._writing
            data = b"".join(encoded)
            written = 0
            while written < len(data):  # at its place, whatever a write cut short before left after it
                written += os.pwrite(handle, data[written:], size + written)
        except OSError:
            return None
        places, offset = [], size
        for card in encoded:
            places.append(CardAt(pid, offset, len(card)))
            offset += len(card)
        self._writing = (pid, handle, offset)
        return places

    def opened(self) -> None:
        """The reading is over: open every process's file, then remove them and the folder (nothing is left on
        disk, even if the build is killed later)."""
        if self._writing is not None and self._writing[0] == os.getpid():
            os.close(self._writing[1])
        self._writing = None
        folder, self.folder = self.folder, None
        if folder is None:
            return
        with contextlib.suppress(OSError):
            for name in os.listdir(folder):
                if name.isdigit():
                    with contextlib.suppress(OSError):
                        self._files[int(name)] = os.open(f"{folder}/{name}", os.O_RDONLY | os.O_NOFOLLOW)
        shutil.rmtree(folder, ignore_errors=True)

    def read(self, at: CardAt) -> str | None:
        """The card at `at`, as the theme made it (markup); None when it cannot be read (made again then)."""
        handle = self._files.get(at.writer)
        if handle is None:
            return None
        try:
            data = os.pread(handle, at.size, at.offset)
        except OSError:
            return None
        return Markup(data.decode("utf-8", "surrogatepass")) if len(data) == at.size else None

    def close(self) -> None:
        """Close the files (and remove the folder, if the reading never ended)."""
        self.opened()
        for handle in self._files.values():
            with contextlib.suppress(OSError):
                os.close(handle)
        self._files = {}


class CardsOnDisk:
    """The cards the workers made, by quote (RenderContext.cards), read from their files when asked; the cards of
    the transcripts `without` are left out (their quotes were dated again after they were read)."""

    def __init__(self, files: CardFiles, places: dict[CardKey, CardAt | str], without: Collection[str] = ()) -> None:
        self._files, self._places, self._without = files, places, frozenset(without)

    def get(self, quote: Quote) -> str | None:
        """Its card, or None when the workers made none (or it cannot be read): the page makes it."""
        if quote.transcript in self._without:
            return None
        found = self._places.get((quote.transcript, quote.id))
        return self._files.read(found) if type(found) is CardAt else found
