"""Watching a content repository: file events in, debounced batches of changed paths out.

Only what a build reads is watched: the source folder itself (not recursively, for
persona-site.toml and for content/ or themes/ appearing), and content/ and themes/
recursively. The output folder and .git are never watched, so a build cannot
trigger another build (the rebuild loops of Hugo and Eleventy).
"""

from __future__ import annotations

import os
import queue
import time
from collections.abc import Callable, Iterator
from pathlib import Path, PurePath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from .basics import never_read
from .config import CONFIG_NAME

WATCHED_FOLDERS = ("content", "themes")

# Reads by the build itself emit "opened" and "closed_no_write": never count those.
_CHANGES = frozenset({"created", "deleted", "moved", "modified", "closed", "attrib"})
_POLL_INTERVAL = 0.5


def changed_path(source: Path, path: str) -> str | None:
    """The path relative to source if a change there can change the site, else None."""
    try:
        parts = PurePath(path).relative_to(source).parts
    except ValueError:
        return None
    if not parts or parts[0] not in (CONFIG_NAME, *WATCHED_FOLDERS):
        return None
    if len(parts) > 1 and parts[0] == CONFIG_NAME:
        return None
    relative = PurePath(*parts).as_posix()
    return None if never_read(relative) else relative  # .git, .#lock files, .goutputstream-*


class _Handler(FileSystemEventHandler):
    """Queues relevant paths; an exception here is reported, never allowed to stop the observer."""

    def __init__(self, source: Path, changes: queue.Queue, report: Callable[[str], None]) -> None:
        self.source, self.changes, self.report = source, changes, report

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            if event.event_type not in _CHANGES or (event.is_directory and event.event_type in ("modified", "attrib")):
                return
            # A move counts at both ends: the file that went away and the one that appeared.
            for path in (event.src_path, event.dest_path):
                if path and (relative := changed_path(self.source, os.fsdecode(path))):
                    self.changes.put(relative)
        except Exception as exc:  # noqa: BLE001 -- watchdog's thread would die silently
            self.report(f"the file watcher skipped an event it could not read: {exc!r}")


class Watcher:
    """Watches one content repository and yields batches of changed paths, debounced.

    A burst of changes (an editor's save dance, a `git checkout` of 200 files) is
    one batch: it ends once `quiet` seconds pass without a change, or `longest`
    seconds after it began.
    """

    def __init__(self, source: Path, *, poll: bool = False, quiet: float = 0.05, longest: float = 2.0,
                 report: Callable[[str], None] = print) -> None:
        self.source = source.absolute()
        self.poll, self.quiet, self.longest, self.report = poll, quiet, longest, report
        self._changes: queue.Queue[str | None] = queue.Queue()
        self._handler = _Handler(self.source, self._changes, report)
        self._observer: BaseObserver = PollingObserver(timeout=_POLL_INTERVAL) if poll else Observer()
        self._failed: set[str] = set()

    def start(self) -> None:
        self._observer.start()
        self._ensure_watches()

    def stop(self) -> None:
        self._changes.put(None)
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join(timeout=5)

    def watched(self) -> list[Path]:
        """The folders being watched right now."""
        return sorted(Path(e.watch.path) for e in self._observer.emitters if e.is_alive())

    def batches(self) -> Iterator[set[str]]:
        """Batches of changed paths (relative to the source) until stop()."""
        while True:
            try:
                first = self._changes.get(timeout=1.0)
            except queue.Empty:
                self._ensure_watches()  # a watch died, or a watched folder came back
                continue
            batch = self._collect_burst(first)
            if None in batch:
                return
            if any("/" not in path for path in batch):  # content/ or themes/ itself came or went
                self._ensure_watches()
            yield batch  # type: ignore[misc]

    def _collect_burst(self, first: str | None) -> set[str | None]:
        batch = {first}
        deadline = time.monotonic() + self.longest
        while first is not None and (left := deadline - time.monotonic()) > 0:
            try:
                path = self._changes.get(timeout=min(self.quiet, left))
            except queue.Empty:
                break
            batch.add(path)
            if path is None:
                break
        return batch

    def _ensure_watches(self) -> None:
        """Watch the source folder, content/ and themes/ if they exist and are not watched by a live emitter."""
        wanted = {str(self.source): False, **{str(self.source / f): True for f in WATCHED_FOLDERS}}
        live = set()
        for emitter in list(self._observer.emitters):
            if emitter.is_alive():
                live.add(emitter.watch.path)
                continue
            self._observer.unschedule(emitter.watch)
            if os.path.isdir(emitter.watch.path):
                self.report(f"the file watcher for {emitter.watch.path} stopped; watching it again")
        for path, recursive in wanted.items():
            if path in live or not os.path.isdir(path):
                continue
            try:
                self._observer.schedule(self._handler, path, recursive=recursive)
                self._failed.discard(path)
            except OSError as exc:
                if path not in self._failed:
                    hint = "" if self.poll else "; if this keeps happening, try --poll"
                    self.report(f"cannot watch {path} for changes: {exc.strerror or exc}{hint}")
                self._failed.add(path)
