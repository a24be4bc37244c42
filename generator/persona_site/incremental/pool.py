"""Parsing many transcripts on every core: forked workers that read, parse and (when published) render.

Each worker reads its own files, so the main process neither reads nor sends their bytes; the main process
compiles templates (or does whatever `meanwhile` does) as they work.
"""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from collections.abc import Callable, Collection
from pathlib import Path
from typing import NamedTuple, TypeVar

import jinja2

from ..model import Parsed, Quote, Transcript
from ..render import template_frame
from ..reader import Undated
from ..reading import ReadInputs, parse_file, read_bytes
from .cache import collector_paused

T = TypeVar("T")

POOL_MIN_FILES = 300
"""Below this many files to parse, a process pool costs more than it saves (benchmarks/README.md)."""


class Job(NamedTuple):
    """One transcript to read and parse, with everything its result depends on besides its bytes."""

    path: str
    """Path relative to the source."""
    data: bytes | None
    """The bytes (from a revision), or None to read the file from the work tree."""
    undated: Undated
    """The date to use when the front matter has none."""
    added: tuple[str, str] | None
    """The commit that added the file, for every quote's added_in; None when its quotes are dated line by line."""
    inputs: tuple
    """What the result depends on besides the bytes: path, a hash of the config and personas, the undated
    date's timestamp and its warning, added (the scan makes them once, with the key)."""

    def key(self, digest: bytes | None) -> tuple:
        """The cache key: the bytes' hash (blob_id) and everything else the result depends on."""
        return (digest, *self.inputs)


class Work(NamedTuple):
    """What every job of one build shares."""

    inputs: ReadInputs
    cached: Collection[tuple]
    """The cache's keys: a job whose key is here is not parsed again (its file was touched, not changed)."""
    source: Path | None
    """Where to read files that have no bytes in their job (None: a revision, whose jobs carry them)."""
    page: Callable[[Transcript], bytes] | None
    """Renders a published transcript's page."""
    cards: Callable[[Transcript], list[tuple[Quote, str]]] | None = None
    """Each of a transcript's quotes and its card, as the month and company pages show it (Renderer.cards_for):
    made where the transcript is read, on every core, rather than all in the main process after."""


def blob_id(data: bytes) -> bytes:
    """The content hash: git's blob id of these bytes (SHA-1 of "blob <size>\\0" and the bytes), so that git's
    index can give it for a tracked file without the file being read (worktree.py). With the CPU's SHA
    instructions, 7 µs a 6 KB transcript here (blake2b: 27 µs)."""
    hashing = hashlib.sha1(b"blob %d\0" % len(data))
    hashing.update(data)
    return hashing.digest()


def cores_to_fork() -> int:
    """The cores this process may use (its affinity, as a container or `taskset` limits it), or 1 when it must not
    fork: threads (the dev server's) and fork do not mix, and serve's rebuilds are small anyway."""
    if threading.active_count() > 1:
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parse_transcripts(jobs: list[Job], work: Work, progress: Callable[[str, int, int], None] | None = None,
                      meanwhile: Callable[[], None] | None = None, freeze: bool = False) -> list[tuple]:
    """(digest, Parsed or None when cached, page or None, cards) per job: on every core for a large repository,
    in-process for a small one. The main process runs `meanwhile` as the workers parse.

    The workers' results arrive with the collector paused (plain tuples, no cycles: at 10,000 transcripts its
    passes over them took 90 ms), and with `freeze` go to gc.freeze's generation, never scanned again (40 ms
    more)."""
    cores = cores_to_fork()
    if len(jobs) < POOL_MIN_FILES or cores < 2:
        if meanwhile:
            meanwhile()
        return [parse_job(job, work) for job in jobs]
    import multiprocessing  # here: only a large build starts processes (13 ms of imports)
    from concurrent.futures import ProcessPoolExecutor

    size = max(50, len(jobs) // (cores * 8))
    chunks = [jobs[i:i + size] for i in range(0, len(jobs), size)]
    results: list[tuple] = []
    # Forked workers inherit `work` (the cache's keys included) without pickling it.
    with ProcessPoolExecutor(max_workers=cores, mp_context=multiprocessing.get_context("fork"),
                             initializer=_Worker.start, initargs=(work,)) as pool:
        parsing = pool.map(_Worker.parse, chunks)
        if meanwhile:
            meanwhile()
        with collector_paused():
            for chunk in parsing:
                results.extend(chunk)
                if progress:
                    progress("Reading transcripts", len(results), len(jobs))
            if freeze:
                gc.freeze()
    return results


class _Worker:
    """A forked worker's share of the build: set once as it starts (the one mutable class attribute, in the
    worker processes only)."""

    work: Work | None = None

    @classmethod
    def start(cls, work: Work) -> None:
        cls.work = work

    @classmethod
    def parse(cls, chunk: list[Job]) -> list[tuple]:
        return [parse_job(job, cls.work) for job in chunk]


def parse_job(job: Job, work: Work) -> tuple:
    """(digest, what reading the file gave or None when the cache has it, its page or None, its quotes' cards)."""
    data = read_bytes(work.source, job.path, job.data)
    if isinstance(data, Parsed):  # unreadable
        return None, data, None, ()
    found = blob_id(data)
    if job.key(found) in work.cached:
        return found, None, None, ()
    parsed, transcript = parse_file(job.path, data, job.undated, job.added, work.inputs)
    return found, parsed, _made(work.page, transcript), _made(work.cards, transcript) or ()


def _made(make: Callable[[Transcript], T] | None, transcript: Transcript | None) -> T | None:
    """The transcript's published page or its cards; None when there are none, or when the theme fails (the main
    process makes them again and reports the template's problem)."""
    if make is None or transcript is None:
        return None
    try:
        return make(transcript)
    except Exception as exc:  # Jinja's, an unreadable template, or Python's met in a template's line ({{ 1/0 }})
        if isinstance(exc, (jinja2.TemplateError, UnicodeDecodeError, OSError)) or template_frame(exc) is not None:
            return None
        raise


MAKE_MIN_OUTPUTS = 200
"""Below this many outputs to make, a forked process costs more than it saves."""

MAKE_CHUNK = 16
"""Outputs a forked process makes per call: small enough that both processes finish together (a company page
takes 1-3 ms to make and write, a month's query shard 10 ms), large enough that calls cost little."""


def make_outputs(jobs: list[tuple[str, bool]], make: Callable[[str], bytes],
                 keep: Callable[[str, bytes], T] | None = None) -> dict[str, bytes | T]:
    """make(path) for each (path, movable) of `jobs`, on every core when there are many: the movable outputs
    (pages of many: months, companies) go in chunks to forked processes, the first first, while this process
    makes the others and then takes back the chunks no process has started, the last first; so the processes
    finish together, whatever each page costs. An output a worker could not make (a theme's error) is made
    here, where its error is raised. With `keep` (output.Spool.keep), each output is kept as soon as it is made,
    by the process that made it, and what keep returns (a small marker of a file written) stands for it: no
    process holds them all."""
    if keep is not None:
        made_by = make
        make = lambda path: keep(path, made_by(path))  # noqa: E731
    cores = cores_to_fork()
    movable = [path for path, may_move in jobs if may_move]
    if len(jobs) < MAKE_MIN_OUTPUTS or cores < 2 or len(movable) < MAKE_CHUNK * 2:
        return {path: make(path) for path, _ in jobs}
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    chunks = [movable[start:start + MAKE_CHUNK] for start in range(0, len(movable), MAKE_CHUNK)]
    # All the workers fork at the first submit: no more than there are chunks for them besides this process's
    with ProcessPoolExecutor(max_workers=min(cores - 1, len(chunks) - 1),
                             mp_context=multiprocessing.get_context("fork"),
                             initializer=_Maker.start, initargs=(make,)) as pool:
        making = [(chunk, pool.submit(_Maker.make_share, chunk)) for chunk in chunks]
        made = {path: make(path) for path, may_move in jobs if not may_move}
        for chunk, future in reversed(making):
            if future.cancel():  # no process has started it: made here
                made.update((path, make(path)) for path in chunk)
        for chunk, future in making:
            if future.cancelled():
                continue
            try:
                done = future.result()
            except Exception:  # noqa: BLE001 - the process died (killed, out of memory): its chunk is made here
                done = [None] * len(chunk)
            made.update((path, data if data is not None else make(path)) for path, data in zip(chunk, done))
    return {path: made[path] for path, _ in jobs}


class _Maker:
    """A forked process's way to make outputs: set once as it starts (in the worker processes only)."""

    maker: Callable[[str], bytes] | None = None

    @classmethod
    def start(cls, make: Callable[[str], bytes]) -> None:
        cls.maker = make

    @classmethod
    def make_share(cls, paths: list[str]) -> list[bytes | None]:
        made = []
        for path in paths:
            try:
                made.append(cls.maker(path))
            except Exception:  # noqa: BLE001 - made again in the main process, which reports it
                made.append(None)
        return made
