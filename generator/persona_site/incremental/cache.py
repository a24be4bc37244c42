"""The persistent cache: parsed transcripts keyed by content hash, and what git said, per HEAD.

Kept in a git-ignored folder of the content repository (`.persona-cache/`). It is
an optimisation only: a missing, corrupt, other-version or unsealed cache is ignored
and rebuilt, never trusted; every file is sealed with this user's key and unpickled
only when its seal is good (signing.py: a pickle committed to the repository never runs). Writes are atomic (temp file + rename), so two builds at
once each leave a whole file behind, never a torn one.
"""

from __future__ import annotations

import copyreg
import functools
import gc
import hashlib
import io
import os
import pickle
import queue
import struct
import tempfile
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

from .. import __version__
from .signing import opened, seal_of, signing_key

FORMAT = 36  # 3: entries are model.Parsed (pickled transcripts, quote refs), loaded in C; 4: model.freeze; 5: the scan;
# 6: a transcript with errors keeps its good quotes, and misspelt tag spans are warned about; 7: span attributes
# other than tags and a q- id, and bidirectional controls, are warned about; quotes are isolated (issue 21);
# 8: a quote ref holds its company; 9: every file is sealed (signing.py, issue 21, item 1); 10: with
# attribution = "role" a quote's JSON names its transcript by an opaque id (issue 21, item 7); 11: the content
# hash is git's blob id (issue 22, goal 5); 12: git history keeps the last commit that changed each transcript
# (a transcript page shows it, issue 22, goal 1); 13: an entry keeps its transcript's head (model.TranscriptHead);
# 14: the head has a version (a digest of the frozen transcript: a company page is keyed by its calls' heads);
# 15: a shard keeps its frozen transcripts after its sealed entries, each read when a page shows it (FrozenAt), and
# the build keeps what reading each persona file gave (store.read_personas: a change to reading personas needs a
# new FORMAT too); 16: a quote ref keeps the digest of its JSON line (QuoteRef.digest); 17: a shard keeps its quotes'
# JSON lines after its frozen transcripts, each ref where its line is; a shard's entries name one ShardParts; 18: git's
# history reads the names git quotes or pads with a tab (a space, a quote, a backslash): a saved one may hold them wrong;
# 19: a plain label that no space follows ("Name:" ending its line or paragraph, or before a quote) starts a turn;
# 20: a transcript's title and company are read in NFC; 21: a '[' left open before a quote is warned about;
# 22: so is a space between a quote's ']' and its tags' '{'; 23: a participant's label in a quote block or list item
# starts a turn; 24: a file whose lines end in a lone CR has its front matter read; 25: a line "++ x" or "-- x"
# in a patch is a line of the file, not a header (the history's line dates); 26: Latin letters that fold to no ASCII are
# left out of a company slug again (as before 20), a long name's digest is of its slug; 27: no
# warning for a '\[' or '&#91;' before a quote, or a '[' closed after it; 28: a plain
# label that other white space follows is read by the reference; 29: a quote
# holding a code span with a link is read by markdown-it; modifier letters are left out of a company slug;
# 30: a history's lines keep a moved line's first commit, and None for a line that came with the file; 31: phrases
# are counted lower case (not case-folded), as a search folds them; 32: a role
# whose persona's file has an error is no error of its participants; 33: front
# matter mistakes are explained where they were made; 34: a
# published transcript's quote marks carry data-date; 35: front matter
# messages for a backslash, a list's items, words after a closing quote; 36: quotes
# inside a quoted value, brackets inside quotes in a list

LIBRARIES = MappingProxyType({"jinja2": "jinja2", "markdown_it": "markdown_it_py", "mdit_py_plugins": "mdit_py_plugins",
                              "yaml": "pyyaml", "frontmatter": "python_frontmatter", "stop_words": "stop_words"})
"""The libraries whose upgrade can change the output: import name -> distribution name as its dist-info folder
spells it (lower case, `_` for `-`)."""


def dependency_versions() -> str:
    """The libraries whose upgrade can change the output, each by what was installed (installed_as).

    importlib.metadata would cost a tenth of a second; find_spec does not import anything.
    """
    from importlib.util import find_spec

    found, listings = [], {}
    for name, distribution in LIBRARIES.items():
        spec = find_spec(name)
        found.append(f"{name}={installed_as(spec.origin, distribution, listings) if spec and spec.origin else '?'}")
    return " ".join(found)


def installed_as(origin: str, distribution: str, listings: dict[str, dict[str, list[str]]] | None = None) -> str:
    """A package (by its __init__.py) as installed: a hash of the RECORD of its distribution's dist-info folder
    beside it, which lists every installed file with its hash, so the same for each install of the same wheel (a
    CI runner installs afresh each run, and the cache it restores is still good); else, for a source checkout or
    an editable install, the stat of its file. A library edited in place, not installed, keeps its RECORD."""
    folder = os.path.dirname(os.path.dirname(origin))
    try:
        installed = (listings or {}).get(folder)
        if installed is None:  # distribution name -> its dist-info folders
            installed = {}
            for entry in sorted(os.listdir(folder)):
                if entry.endswith(".dist-info"):
                    name = entry.partition("-")[0].lower().replace(".", "_")
                    installed.setdefault(name, []).append(entry)
            if listings is not None:
                listings[folder] = installed
        if distribution in installed:
            hashing = hashlib.sha256()
            for entry in installed[distribution]:
                with open(os.path.join(folder, entry, "RECORD"), "rb") as handle:
                    hashing.update(handle.read())
            return hashing.hexdigest()[:20]
        info = os.stat(origin)
    except OSError:
        return "?"
    return f"{info.st_size}:{info.st_mtime_ns}:{info.st_ino}"


def _version() -> str:
    return f"{__version__}/{FORMAT}/{dependency_versions()}"  # a library upgrade can change what a parse gives


VERSION = _version()
DEFAULT_FOLDER = ".persona-cache"
FILE = "build.pickle"


def cache_folder(source: Path) -> Path | None:
    """Where the cache lives: $PERSONA_SITE_CACHE (empty or 'off' disables it), else SOURCE/.persona-cache."""
    configured = os.environ.get("PERSONA_SITE_CACHE")
    if configured is not None:
        return None if configured.strip() in ("", "off", "0") else Path(configured)
    return source / DEFAULT_FOLDER


SHARDS = 16
"""Parsed transcripts are split over this many files by content hash, so a build that changed a few
transcripts rewrites a few small files, not all of them (benchmarks/README.md, issue 5)."""


READ_AHEAD = 2
"""Shards read and checked ahead of the one being unpickled (15 MB each at 100,000 transcripts)."""


def shard_of(key: tuple) -> int:
    """The file a cache entry lives in: by the first byte of its content hash (key[0])."""
    return key[0][0] % SHARDS if key[0] else 0


def _shard(folder: Path, number: int) -> Path:
    return folder / f"transcripts-{number:02d}.pickle"


_UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError, TypeError,
               IndexError, KeyError, MemoryError)
"""What reading a cache file that is not what this version writes may raise: a miss."""


def read_state(path: Path, version: str = VERSION) -> dict:
    """A cache file's state, or {} when it is missing, unreadable, unsealed or from another version. The seal is
    checked before anything is unpickled."""
    try:
        with open(path, "rb") as handle:
            return _unsealed(handle.read(), version)
    except _UNREADABLE:
        return {}


def _unsealed(sealed: bytes, version: str) -> dict:
    """The state in a file's sealed bytes (seal_of, then a pickle), or {} when the seal is not good or the state is
    not of this version; the seal is checked before anything is unpickled. Raises what a bad pickle raises."""
    data = opened(sealed)
    return {} if data is None else _state_of(data, version)


def _state_of(data: memoryview, version: str) -> dict:
    """The state pickled in a sealed file's data, or {} when it is not of this version."""
    with collector_paused():  # no cycles in a cache (the work tree's memo: 100,000 stats, a third faster)
        state = pickle.loads(data)
    return state if isinstance(state, dict) and state.get("version") == version else {}


@contextmanager
def collector_paused() -> Iterator[None]:
    """No garbage collection meanwhile: there are no cycles in a cache, and collecting while 100,000 objects
    arrive, shard after shard, costs a third of a load (83M instructions at 10,000 transcripts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load(folder: Path | None, left_out: frozenset[str] = frozenset()) -> dict:
    """The cached state, or {} when there is none we can trust; a bad shard only loses its entries, and so does one
    named in `left_out` (found damaged)."""
    if folder is None:
        return {}
    from ..model import Parsed  # here: a no-change build imports this module, not the model

    paths = [path for path in map(functools.partial(_shard, folder), range(SHARDS)) if str(path) not in left_out]
    with collector_paused(), _read_ahead(paths) as sealed_parts:
        state = read_state(folder / FILE)
        if not state:
            return {}
        transcripts: dict = {}
        for found in sealed_parts:
            transcripts.update(_entries(found, Parsed))
        return {**state, "transcripts": transcripts}


@contextmanager
def _read_ahead(paths: list[Path]) -> Iterator[Iterator[tuple | None]]:
    """Each shard's _sealed_part, in order, read and checked by a thread while this one unpickles the one before
    (the reads and the HMACs, which let go of the interpreter, were 0.26 s of a 1.47 s load at 100,000
    transcripts); at most READ_AHEAD parts are held unread, not the whole cache."""
    signing_key()  # in this thread: the key made, if it must be, before the other asks for it
    parts: queue.SimpleQueue = queue.SimpleQueue()
    room, stop = threading.Semaphore(READ_AHEAD), threading.Event()

    def read() -> None:
        for path in paths:
            room.acquire()
            try:
                parts.put(None if stop.is_set() else _sealed_part(path))
            except Exception:  # noqa: BLE001 - out of memory, say: this shard is a miss, and the load goes on
                parts.put(None)

    def taken() -> tuple | None:
        part = parts.get()
        room.release()
        return part

    reader = threading.Thread(target=read, name="cache-reader", daemon=True)
    reader.start()
    try:
        yield (taken() for _ in paths)
    finally:
        stop.set()
        room.release(len(paths) or 1)  # (never 0: release(0) raises, and every shard may be left out)
        reader.join()


def save(folder: Path | None, state: dict, unchanged: set[int] | frozenset[int] = frozenset()) -> None:
    """Write the state atomically, file by file, except the shards numbered in `unchanged` (their
    entries are the same as on disk); a cache that cannot be written is simply skipped."""
    if folder is None:
        return
    try:
        with collector_paused():  # the shards' placed copies are no garbage, and a collection in a forked saver
            _save_all(folder, state, unchanged)  # would write to every page of its parent's objects
    except OSError:
        pass


def _save_all(folder: Path, state: dict, unchanged: set[int] | frozenset[int]) -> None:
    """save's work: OSError when a file cannot be written."""
    ensure_folder(folder)
    shards: list[dict] = [{} for _ in range(SHARDS)]
    for key, entry in state.get("transcripts", {}).items():
        shards[shard_of(key)][key] = entry
    for number, part in enumerate(shards):
        if number not in unchanged:
            write_shard(_shard(folder, number), part)
    write_state(folder / FILE, {name: value for name, value in state.items() if name != "transcripts"})


def ensure_folder(folder: Path) -> None:
    """The cache folder, made git-ignored when it is new."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")


def keep_state(path: Path, state: dict, version: str = VERSION) -> bool:
    """write_state in the cache folder (made if need be); False when it cannot be written (then simply skipped)."""
    try:
        ensure_folder(path.parent)
        write_state(path, state, version)
    except OSError:
        return False
    return True


def write_state(path: Path, state: dict, version: str = VERSION) -> None:
    """A cache file (read_state's), sealed and written atomically; OSError when it cannot be. Without a key,
    nothing is written."""
    data = pickle.dumps({**state, "version": version}, protocol=pickle.HIGHEST_PROTOCOL)
    seal = seal_of(data)
    if seal is not None:
        write_atomic(path, seal, data)


def write_atomic(path: Path, *parts: bytes) -> None:
    """Write to a temporary file beside path, then rename: readers see the old file or the new, never half."""
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            for data in parts:
                out.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


# --- A shard: its entries sealed, then the frozen transcripts they name, each read only when a page shows it ----
#
# A shard file is the length of its sealed part (8 bytes, big-endian), the sealed part (seal_of, then a pickle of
# {"version", "transcripts": cache key -> model.Parsed whose transcript is a FrozenAt (ShardParts, offset, size,
# SHA-256) or None, "parts": (the ShardParts every entry names, where the lines start after the frozen
# transcripts)}), the frozen transcripts one after the other, then the quotes' JSON lines (each ref's `encoded` is
# its line's offset << 32 | size, its `lines` the ShardParts). Loading reads and checks the sealed part only, and
# places the one ShardParts in the file: at 10,000 transcripts published, 80 of 103 MB are frozen transcripts (their
# HTML bodies), and at 100,000 a shard's lines are 11 of its 15.6 MB, which a one-file rebuild does not need and the
# main process need not hold. A frozen transcript or a line is read (os.pread, from the file as it was opened: a
# build that replaces the file meanwhile changes nothing for this one) and used only when its SHA-256, kept in the
# sealed part, is the one of the bytes read: bytes changed in place are never unpickled or published (SECURITY.md,
# item 37); the build is made again without that file's entries (cli._recovering, persistent.build_recovering), as
# if the cache lacked them.

_LENGTH = struct.Struct(">Q")


class CacheDamaged(Exception):
    """A frozen transcript or a quote's line in a cache file is not what the file's sealed part says it is (changed
    in place after it was written: a disk error, another program). Never unpickled: a command starts again with that
    file left out (cli._recovering), serve builds again with its entries dropped (persistent.build_recovering);
    either way those transcripts are parsed again."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path

    def __str__(self) -> str:
        return f"the build cache file {self.path} was changed after it was written"


class _ShardFile:
    """A shard file, open for reading its frozen transcripts (closed when no entry of it is left)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self.fd = str(path), fd
        weakref.finalize(self, os.close, fd)

    def read(self, offset: int, size: int, digest: bytes) -> bytes:
        data = os.pread(self.fd, size, offset)
        if len(data) != size or hashlib.sha256(data).digest() != digest:
            raise CacheDamaged(self.path)
        return data


class ShardParts:
    """A shard file as its entries find their parts in it: the frozen transcripts (FrozenAt) and, after them, the
    quotes' JSON lines (model.LineSource: a ref loaded from the file holds where its line is, read when first asked
    for, checked by the ref's digest, and held from then on). Pickled, it is a new one, placed as its shard is
    loaded (_entries): every entry of a shard names the same one, so no entry is visited to place it.

    Which lines are read: a build command's, those of the months it makes again (its save is forked, or writes
    few shards); serve's, every line by its first build (a persona page counts every month) and each saved shard's,
    held while serve runs, as every line was before lines were kept in the file."""

    __slots__ = ("file", "frozen", "lines", "held")

    def __init__(self) -> None:
        self.file: _ShardFile | None = None
        self.frozen = self.lines = 0
        """Where the frozen transcripts and the lines start in the file."""
        self.held: dict[int, bytes] = {}

    def __reduce__(self):
        return ShardParts, ()

    def place(self, file: _ShardFile, frozen: int, lines: int) -> None:
        self.file, self.frozen, self.lines = file, frozen, lines

    def read(self, offset: int, size: int, digest: bytes) -> bytes:
        """The bytes at `offset` among the frozen transcripts, checked (CacheDamaged)."""
        return self._file().read(self.frozen + offset, size, digest)

    def line(self, at: int, digest: bytes) -> bytes:
        found = self.held.get(at)
        if found is None:
            found = self.held[at] = self._file().read(self.lines + (at >> 32), at & 0xFFFFFFFF, digest)
        return found

    def _file(self) -> _ShardFile:
        if self.file is None:  # never: a shard's is placed as it is loaded, and a copy carries the bytes
            raise RuntimeError("a part asked of a cache file not loaded")
        return self.file


class FrozenAt(tuple):
    """A transcript's frozen form (model.freeze) where it lies in its shard file: (ShardParts, offset, size, SHA-256).
    bytes(it) reads and checks it, as model.thaw does. Stands for the bytes in model.Parsed.transcript; a tuple,
    made in C as its shard is unpickled."""

    __slots__ = ()

    @property
    def digest(self) -> bytes:
        return self[3]

    @property
    def file(self) -> _ShardFile:
        return self[0].file

    def __bytes__(self) -> bytes:
        parts, offset, size, digest = self
        return parts.read(offset, size, digest)

    def __reduce__(self):  # a copy (a worker's, a page key's) carries the bytes, never the open file; write_shard
        return bytes, (bytes(self),)  # pickles its own placed ones through _pickled


def write_shard(path: Path, entries: dict) -> None:
    """A shard file of these entries (cache key -> model.Parsed, its transcript bytes or FrozenAt, its refs' lines
    held or in a ShardParts), sealed and written atomically; OSError when it cannot be. Without a key, nothing is
    written."""
    frozen, lines, placed, offset, written = [], [], {}, 0, 0
    parts = ShardParts()  # what each entry's transcript and lines are placed in when the shard is loaded
    one = {}.setdefault  # equal tags, roles and companies pickled as one object: loaded as one (40 MB at 100,000)
    for key, entry in entries.items():
        transcript = entry.transcript
        try:
            data = None if transcript is None else bytes(transcript)
            held = [ref.json for ref in entry.quotes]
        except CacheDamaged:  # left out: parsed again when next needed
            continue
        refs = []
        for ref, line in zip(entry.quotes, held):
            at = written << 32 | len(line)  # where the line will lie among the shard's lines, and its size
            refs.append(type(ref)((*ref[:5], one(ref.role, ref.role), one(ref.tags, ref.tags), at,
                                   one(ref.company, ref.company), ref.digest, parts)))
            written += len(line)
        lines += held
        frozen_at = None
        if data is not None:
            digest = transcript.digest if type(transcript) is FrozenAt else hashlib.sha256(data).digest()
            frozen.append(data)
            frozen_at = FrozenAt((parts, offset, len(data), digest))
            offset += len(data)
        head = entry.head
        if head is not None:
            head = head._replace(company=one(head.company, head.company), roles=one(head.roles, head.roles))
        placed[key] = type(entry)((frozen_at, entry.diagnostics, tuple(refs), head))
    header = _pickled({"transcripts": placed, "parts": (parts, offset), "version": VERSION})
    seal = seal_of(header)
    if seal is not None:
        write_atomic(path, _LENGTH.pack(len(seal) + len(header)), seal, header, *frozen, *lines)


def _pickled(state: dict) -> bytes:
    """A shard's sealed state, its quote refs and frozen transcripts pickled as they are (write_shard's: placed in the
    shard's ShardParts), not as a copy of one carries them (model.QuoteRef.held, FrozenAt.__reduce__)."""
    from ..model import QuoteRef  # here: a no-change build imports this module, not the model

    out = io.BytesIO()
    pickler = pickle.Pickler(out, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, QuoteRef: _as_placed, FrozenAt: _as_placed}
    pickler.dump(state)
    return out.getvalue()


def _as_placed(placed: tuple) -> tuple:
    return copyreg.__newobj__, (type(placed), tuple(placed))


def read_shard(path: Path, entry_type: type) -> dict:
    """A shard file's entries (cache key -> entry_type, a model.Parsed, its transcript a FrozenAt), or {} when the
    file is missing, unreadable, unsealed or from another version; an entry of another shape is left out."""
    return _entries(_sealed_part(path), entry_type)


def _sealed_part(path: Path) -> tuple[_ShardFile, int, memoryview] | None:
    """A shard file, where its frozen transcripts start, and its sealed part's pickle when the seal is good; None
    when the file is missing, unreadable or unsealed. Nothing is unpickled here (read_ahead's thread)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    file = _ShardFile(path, fd)
    try:
        length = _LENGTH.unpack(os.pread(fd, _LENGTH.size, 0))[0]
        sealed = os.pread(fd, length, _LENGTH.size) if length <= os.fstat(fd).st_size - _LENGTH.size else b""
    except (OSError, struct.error):
        return None
    data = opened(sealed) if len(sealed) == length else None
    return None if data is None else (file, _LENGTH.size + length, data)


def _entries(found: tuple[_ShardFile, int, memoryview] | None, entry_type: type) -> dict:
    """The entries of a shard's sealed part (_sealed_part's), their parts placed in its file, or {} when there is none
    or it is not of this version; an entry of another shape is left out."""
    if found is None:
        return {}
    file, start, data = found
    try:
        state = _state_of(data, VERSION)
        if not state:
            return {}
        parts, lines = state["parts"]
        parts.place(file, start, start + lines)
        entries = state["transcripts"]
        if all(type(entry) is entry_type for entry in entries.values()):
            return entries
        return {key: entry for key, entry in entries.items() if type(entry) is entry_type}
    except _UNREADABLE:
        return {}
