"""Writing the site: the only module that touches the output folder and the folders beside it.

The new site is written to a temporary folder beside the output and swapped in
whole, so a failed or killed build leaves the previous site byte for byte. The
build command's pages go to that folder as they are made (Spool), by whichever
process made them.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

MARKER = ".persona-site-output"
_TEMP_PREFIXES = (".persona-site-tmp-", ".persona-site-old-")
SPOOL_PREFIX = ".persona-site-spool-"


class Unchanged(NamedTuple):
    """An output made from what the file the last build wrote at its path was made from (the engine knows by a
    digest): that file is linked into the new site as it is; `make` makes it again if the file is gone or
    was edited since."""

    make: Callable[[], bytes]


class Spooled(NamedTuple):
    """An output written to the build's Spool as it was made (by whichever process made it), not held in memory."""

    size: int
    path: str
    """Where it was written: at its place in the spool (write_site moves it if the site is updated in place)."""


Output = bytes | Unchanged | Spooled


class Copied(NamedTuple):
    """A piece of an output that is a range of an open file (a document spliced from the last build's:
    incremental/spliced.py), copied by the kernel."""

    handle: int
    offset: int
    size: int

    def __bytes__(self) -> bytes:
        data = os.pread(self.handle, self.size, self.offset)
        if len(data) != self.size:
            raise OSError(f"{self.size} bytes were to be read, and {len(data)} were")
        return data


class Spool:
    """A folder beside the output where a build writes its outputs as they are made, in whichever process makes
    them, so that no process holds every page at once (issue 22, goal 4: 127 MB of pages at 10,000 transcripts,
    ten times that at 100,000; with transcripts published, 200 MB more). write_site makes it the new site folder,
    or moves its changed files into the site in place; `spooled()` removes what is left when the build ends. The
    build holds a lock on it (flock, which the system drops when the build's processes are gone, killed or not):
    a spool nobody holds is a killed build's, and the next write_site removes it."""

    def __init__(self, out: Path) -> None:
        out = _target(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out.parent):  # as write_site cleans leftovers: none sees this spool before it is held
            self.folder = Path(tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{out.name}.", dir=out.parent))
            self.lock = os.open(self.folder, os.O_RDONLY)
            fcntl.flock(self.lock, fcntl.LOCK_EX)  # held until spooled() ends (forked workers share it)
        self._folders: set[str] = {""}
        """The folders made in the spool by this process (a forked one starts from its parent's)."""

    def keep(self, rel: str, data: bytes) -> Spooled | bytes:
        """Write an output's bytes at its place in the spool; the bytes themselves when the disk refuses
        (write_site then meets the same refusal and says what it is). A published transcript's page is kept by the
        worker that read the file before the build knows it will be published: the build unspools it if not."""
        return self.keep_pieces(rel, lambda: (data,))

    def keep_pieces(self, rel: str, pieces: Callable[[], Iterable[bytes | Copied]]) -> Spooled | bytes:
        """keep() an output made piece by piece, never held whole (quotes.json: 178 MB at 100,000 transcripts), a
        piece Copied from another file by the kernel; `pieces` gives them, again from the first, for its bytes
        when the disk refuses."""
        path = f"{self.folder}/{rel}"
        try:
            _make_folder(self.folder, rel.rpartition("/")[0], self._folders)
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o666)
        except OSError:
            return b"".join(map(bytes, pieces()))
        size = 0
        try:
            for piece in pieces():
                if type(piece) is Copied:
                    _copy_all(piece, handle)
                    size += piece.size
                else:
                    _write_all(handle, piece)
                    size += len(piece)
        except OSError:  # a full disk: no part of a file left where write_site will write it
            with contextlib.suppress(OSError):
                os.unlink(path)
            return b"".join(map(bytes, pieces()))
        finally:
            os.close(handle)
        return Spooled(size, path)

    def unspool(self, output: Spooled) -> None:
        """Remove a spooled file that is no output after all, and the folders it leaves empty (the spool becomes
        the site: an empty folder there would be taken for the user's)."""
        with contextlib.suppress(FileNotFoundError):
            os.unlink(output.path)
        folder = output.path.rpartition("/")[0]
        while folder.startswith(f"{self.folder}/"):
            try:
                os.rmdir(folder)
            except OSError:  # not empty
                return
            self._folders.discard(folder[len(str(self.folder)) + 1:])
            folder = folder.rpartition("/")[0]


@contextmanager
def spooled(out: Path) -> Iterator[Spool | None]:
    """A Spool for one build of `out`, removed when the build ends unless write_site made it the site; None when
    none can be made beside `out` (the pages are then held, and write_site says what the disk refused)."""
    try:
        spool = Spool(out)
    except OSError:
        yield None
        return
    try:
        yield spool
    finally:  # the spool is gone already when write_site swapped it in as the site
        shutil.rmtree(spool.folder, ignore_errors=True)
        os.close(spool.lock)


def _target(out: Path) -> Path:
    """The folder a site is written to: where a link named `out` points, else `out` itself."""
    return out.resolve() if out.is_symlink() else out.absolute()


class OutputRefused(Exception):
    """The output folder is somewhere persona-site must not write (or delete)."""


def check_output(out: Path, source: Path) -> None:
    """Refuse an output folder whose replacement could delete someone's work."""
    out_r, source_r = out.resolve(), source.resolve()
    content = source_r / "content"
    if out_r == source_r or out_r in source_r.parents:
        raise OutputRefused(f"refusing to write the site to {out}: it holds the content repository; use --out site")
    if out_r == Path(out_r.anchor) or out_r == Path.home().resolve():
        raise OutputRefused(f"refusing to write the site to {out}: choose a folder of its own, e.g. --out site")
    if out_r == content or out_r.is_relative_to(content) or (out_r / "content").exists():
        raise OutputRefused(f"refusing to write the site to {out}: it is (or holds) a content folder")
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"refusing to write the site to {out}: it is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise OutputRefused(f"refusing to replace {out}: it is not empty and persona-site did not make it; "
                            "empty it or choose another --out")


def _manifest(out: Path) -> dict[str, list]:
    """What the previous build wrote: relative path -> [size, mtime_ns] as it left each file (older manifests
    also held a digest first; an entry of another shape never matches, so that file is written again once)."""
    try:
        files = json.loads((out / MARKER).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {rel: entry[-2:] if isinstance(entry, list) else [-1, -1] for rel, entry in files.items()}


def _unchanged_on_disk(out: Path, rel: str, entry: list) -> bool:
    """Whether a file of the previous site is still exactly as that build wrote it."""
    try:
        info = os.lstat(f"{out}/{rel}")  # a string, not a Path: 15,000 outputs at 100,000 transcripts
    except OSError:
        return False
    return [info.st_size, info.st_mtime_ns] == entry


_COMPARE_SIZE = 1 << 20


def _same_bytes(path: str, data: bytes | Spooled) -> bool:
    """Whether the file holds exactly `data` (a Spooled output: the bytes of its file): read and
    compared a MiB at a time, stopping at the first difference (a JSON file differs in its first lines, its
    "generated" time, and is not read further). Faster than hashing every output, and no digest of the old
    file is needed."""
    size = data.size if type(data) is Spooled else len(data)
    try:
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        if os.fstat(handle).st_size != size or (type(data) is Spooled and os.stat(data.path).st_size != size):
            return False
        view = memoryview(data) if type(data) is bytes else None
        chunks = _chunks(data.path) if view is None else (view[i:i + _COMPARE_SIZE] for i in range(0, size, _COMPARE_SIZE))
        return all(os.read(handle, _COMPARE_SIZE) == chunk for chunk in chunks)
    except OSError:
        return False
    finally:
        os.close(handle)


def _chunks(path: str) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(_COMPARE_SIZE):
            yield chunk


def manifest_digest(out: Path) -> bytes | None:
    """A digest of the output folder's manifest (each file's size and time as the build that wrote it left it):
    the same for a copy that keeps the files' times (actions/cache, `cp -a`), wherever the copy is; None when
    there is none."""
    try:
        return hashlib.sha256((out / MARKER).read_bytes()).digest()
    except OSError:
        return None


def site_intact(out: Path, given_up: Callable[[], bool] = lambda: False) -> bool:
    """Every file the last build wrote is still there, untouched (a stat per file); False as soon as
    `given_up()` says the answer is no longer wanted."""
    files = _manifest(out)
    return bool(files) and all(not given_up() and _unchanged_on_disk(out, rel, entry) for rel, entry in files.items())


def _clean_leftovers(parent: Path, name: str, out: Path) -> None:
    """Folders of a build that was killed mid-write; the previous site comes back if it was moved aside."""
    old = sorted(_made_for(parent, _TEMP_PREFIXES[1], name), key=lambda p: p.stat().st_mtime)
    if old and not out.exists():
        os.replace(old.pop(), out)
    spools = [spool for spool in _made_for(parent, SPOOL_PREFIX, name) if not _held(spool)]
    for stale in [*_made_for(parent, _TEMP_PREFIXES[0], name), *old, *spools]:
        shutil.rmtree(stale, ignore_errors=True)


def _made_for(parent: Path, prefix: str, name: str) -> list[Path]:
    """The folders tempfile.mkdtemp made with this prefix for the output folder `name` (not for `name`.v2)."""
    made = re.compile(re.escape(f"{prefix}{name}.") + "[a-z0-9_]+")  # mkdtemp's letters, no dot
    return [path for path in parent.glob(f"{prefix}{name}.*") if made.fullmatch(path.name)]


def _held(spool: Path) -> bool:
    """Whether a build still holds this spool (Spool's lock)."""
    try:
        handle = os.open(spool, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(handle)
    return False


@contextmanager
def _locked(parent: Path) -> Iterator[None]:
    """One build at a time per folder of outputs: two at once must not swap each other's folders away.

    The lock is held on the parent folder itself, so no lock file is left behind.
    """
    handle = os.open(parent, os.O_RDONLY)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


class WriteFailed(OSError):
    """The site could not be written (a full disk, a path too long, no permission); the previous site is whole."""


def write_site(outputs: dict[str, Output], out: Path, source: Path,
               progress: Callable[[int, int], None] | None = None, spool: Spool | None = None) -> int:
    """Write every output, then swap the new folder in for the old one; returns files written.

    Files whose bytes did not change, and that nobody edited since, are hard-linked
    from the previous site rather than written again; a build that changes nothing
    writes nothing at all. A symlinked output folder is written where it points.
    Spooled outputs are in `spool` already: it becomes the new folder, or its changed files move in place.
    Raises WriteFailed, with a message for the user, when the disk refuses (issue 21, item 15).
    """
    try:
        return _write_site(outputs, out, source, progress, spool)
    except WriteFailed:
        raise
    except OSError as exc:
        raise WriteFailed(exc.errno, _write_failure(exc, _target(out))) from None


def _write_failure(exc: OSError, out: Path) -> str:
    """What to tell the user when writing the site failed."""
    kept = "the previous site is unchanged"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"the disk is full: {out} could not be written and {kept}; free some space and build again"
    where = _as_in_site(str(exc.filename or out), out)
    if exc.errno == errno.ENAMETOOLONG:
        return (f"a path in the site is too long for this disk ({where}); {kept}. Shorten the name it comes "
                "from (a tag, a role, a transcript's file or folder), or build into a shorter --out")
    return f"could not write {where}: {exc.strerror}; {kept}"


def _as_in_site(path: str, out: Path) -> str:
    """A path in the temporary folder (or spool) a site is written to, named as it would be in the site."""
    for prefix in (f"{out.parent}/{_TEMP_PREFIXES[0]}{out.name}.", f"{out.parent}/{SPOOL_PREFIX}{out.name}."):
        if path.startswith(prefix):
            return f"{out}/{path[len(prefix):].partition('/')[2]}"
    return path


def _write_site(outputs: dict[str, Output], out: Path, source: Path,
                progress: Callable[[int, int], None] | None, spool: Spool | None) -> int:
    out = _target(out)
    check_output(out, source)
    parent = out.parent
    parent.mkdir(parents=True, exist_ok=True)
    with _locked(parent):
        _clean_leftovers(parent, out.name, out)
        previous = _manifest(out)
        reusable = {rel for rel, entry in previous.items() if rel in outputs and _unchanged_on_disk(out, rel, entry)
                    and (type(outputs[rel]) is Unchanged
                         or _same_bytes(f"{out}/{rel}", outputs[rel]))}
        if len(reusable) == len(outputs) and set(previous) == reusable:
            return 0
        changed = [rel for rel in outputs if rel not in reusable]
        removed = [rel for rel in previous if rel not in outputs]
        if (previous and len(changed) + len(removed) <= max(IN_PLACE_MAX, len(outputs) // 10)
                and _folders_inside(out, changed + removed) and not any((out / rel).is_dir() for rel in changed)):
            return _update(outputs, out, previous, (changed, removed), progress)
        temp = spool.folder if spool else Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIXES[0]}{out.name}.", dir=parent))
        try:
            manifest, written = _fill(temp, out, outputs, reusable, progress)
            _keep_user_files(out, temp, set(outputs), set(previous))
            _write_manifest(temp / MARKER, manifest)
            os.chmod(temp, 0o755)
            _swap(temp, out, parent)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return written


WRITERS = 8
"""Threads that make folders and write files for a new site folder: the disk's work for one file (a folder made,
a file created) overlaps another's; 1,774 files at 10,000 transcripts, 100,000 more with transcripts published."""


def _fill(temp: Path, out: Path, outputs: dict[str, Output], reusable: set[str],
          progress: Callable[[int, int], None] | None) -> tuple[dict[str, list], int]:
    """Write every output into the new folder `temp` (an output in `reusable` linked from `out`; a Spooled one
    moved in, or there already when `temp` is the spool), WRITERS at a time; returns the manifest and how many files
    were written. Outputs are made here, in this thread."""
    from concurrent.futures import ThreadPoolExecutor  # here: a small change is written in place, without threads

    folders = {""}

    def put(rel: str, data: bytes | Spooled | None) -> os.stat_result | None:
        target = f"{temp}/{rel}"
        _make_folder(temp, rel.rpartition("/")[0], folders)
        if type(data) is Spooled:
            os.replace(data.path, target)
            return os.stat(target, follow_symlinks=False)
        if data is None:
            return os.stat(target) if _link(out / rel, target) else None
        return _write(target, data)

    manifest: dict[str, list] = {}
    written = 0
    with ThreadPoolExecutor(WRITERS) as pool:
        try:
            jobs = [(rel, _Done(os.stat(output.path, follow_symlinks=False))  # in place already: no thread
                     if type(output) is Spooled and output.path == f"{temp}/{rel}"
                     else pool.submit(put, rel, output if type(output) is Spooled else None if rel in reusable
                                      else _bytes_of(output))) for rel, output in outputs.items()]
            for done, (rel, job) in enumerate(jobs, 1):
                info = job.result()
                linked = info is not None and rel in reusable and type(outputs[rel]) is not Spooled
                if info is None:  # it could not be linked: made and written after all
                    info = _write(f"{temp}/{rel}", _bytes_of(outputs[rel]))
                written += not linked
                manifest[rel] = [info.st_size, info.st_mtime_ns]
                if progress:
                    progress(done, len(outputs))
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return manifest, written


class _Done(NamedTuple):
    """A file _fill need not write (a spooled output in place already), as a job done: its stat."""

    info: os.stat_result

    def result(self) -> os.stat_result:
        return self.info


IN_PLACE_MAX = 200
"""A build that changes at most this many files (or a tenth of them) updates the site where it is, rather than
writing a new folder beside it (at 10,000 transcripts that is 1,700 folders made, and as many removed)."""


def _update(outputs: dict[str, Output], out: Path, previous: dict[str, list], paths: tuple[list[str], list[str]],
            progress: Callable[[int, int], None] | None) -> int:
    """Update the site in place, as one change: the `changed` files (paths[0]) are first written beside it (in a
    folder that _clean_leftovers removes if the build is killed; a spooled one moved there); then each is moved in,
    the file it replaces moved aside, and the `removed` files (paths[1]) moved aside too. If anything fails (a full
    disk, a name too long for the disk), everything moved is moved back, so the previous site stays whole; the
    manifest is replaced last."""
    changed, removed = paths
    stage = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIXES[0]}{out.name}.", dir=out.parent))
    moved: list[tuple[Path, str | None]] = []
    """(a file now in the site, where the file it replaced was put, if any), to undo."""
    folders: set[str] = {""}
    made: list[str] = []
    try:
        for number, rel in enumerate(changed):
            if type(outputs[rel]) is Spooled:
                os.replace(outputs[rel].path, f"{stage}/{number}")
            else:
                _write(f"{stage}/{number}", _bytes_of(outputs[rel]))
        for number, rel in enumerate(changed):
            target = out / rel
            _make_folder(out, rel.rpartition("/")[0], folders, made)
            aside = f"{stage}/old-{number}" if os.path.lexists(target) else None
            if aside:
                os.replace(target, aside)
            moved.append((target, aside))
            os.replace(f"{stage}/{number}", target)
            if progress:
                progress(number + 1, len(changed))
        for number, rel in enumerate(removed):
            if os.path.lexists(out / rel):
                os.replace(out / rel, f"{stage}/gone-{number}")
                moved.append((out / rel, f"{stage}/gone-{number}"))
    except BaseException:
        for target, aside in reversed(moved):
            if aside is None:
                os.unlink(target)
            else:
                os.replace(aside, target)
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                os.rmdir(out / folder)
        shutil.rmtree(stage, ignore_errors=True)
        raise
    manifest = {rel: entry for rel, entry in previous.items() if rel in outputs}
    for rel in changed:
        info = os.stat(out / rel, follow_symlinks=False)
        manifest[rel] = [info.st_size, info.st_mtime_ns]
    for rel in removed:
        _remove_empty_folders(out, rel.rpartition("/")[0])
    _write_manifest(out / f".{MARKER}.new", manifest)
    os.replace(out / f".{MARKER}.new", out / MARKER)
    shutil.rmtree(stage, ignore_errors=True)
    return len(changed)


def _folders_inside(out: Path, paths: list[str]) -> bool:
    """Whether each path's folder, as far as it exists, is inside the site (not a link out of it: the site is then
    written anew, never through the link)."""
    root = os.path.realpath(out)
    for folder in {rel.rpartition("/")[0] for rel in paths}:
        real = os.path.realpath(f"{out}/{folder}")
        if real != root and not real.startswith(root + os.sep):
            return False
        if real != os.path.normpath(f"{root}/{folder}"):  # a link inside the site: not followed either
            return False
    return True


def _remove_empty_folders(out: Path, folder: str) -> None:
    """Remove the folders a file no longer built leaves empty (a deleted transcript's page)."""
    while folder:
        try:
            os.rmdir(out / folder)
        except OSError:  # not empty (or the user's): kept
            return
        folder = folder.rpartition("/")[0]


def _make_folder(root: Path, folder: str, made: set[str], new: list[str] | None = None) -> None:
    """Make root/folder and its parents, each once (a published site has a folder per transcript); `new`: the
    folders that did not exist, in the order made (to remove them again)."""
    if folder in made:
        return
    _make_folder(root, folder.rpartition("/")[0], made, new)
    try:
        os.mkdir(f"{root}/{folder}")
        if new is not None:
            new.append(folder)
    except FileExistsError:  # there already (in place), or the same folder by another name on a disk ignoring case
        pass
    made.add(folder)


def _write_manifest(path: Path, files: dict[str, list]) -> None:
    """What a build wrote (_manifest reads it): relative path -> [size, mtime_ns]."""
    path.write_text(json.dumps({"files": files}, sort_keys=True) + "\n", "utf-8")  # the C encoder


def _bytes_of(output: Output) -> bytes:
    """An output's bytes: made now when it is Unchanged (its file could not be linked, or was edited)."""
    return output.make() if type(output) is Unchanged else output


def _write(target: str, data: bytes) -> os.stat_result:
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # the umask decides, as for open()
    try:
        _write_all(handle, data)
        return os.fstat(handle)
    finally:
        os.close(handle)


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view):]


def _copy_all(piece: Copied, handle: int) -> None:
    """Append a range of another file to the file open at `handle`, in the kernel where it can (a file system or a
    kernel that cannot: read, then written)."""
    offset, left = piece.offset, piece.size
    copy = getattr(os, "copy_file_range", None)  # not on macOS, nor in a Python built without it
    try:
        while left and copy is not None:
            copied = copy(piece.handle, handle, left, offset)
            if not copied:  # the file ends, or a file system that copies nothing: reading tells which
                break
            offset, left = offset + copied, left - copied
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
            raise
    if left:
        _write_all(handle, bytes(Copied(piece.handle, offset, left)))


def _link(existing: Path, target: str) -> bool:
    try:
        os.link(existing, target)
        return True
    except OSError:
        return False


def _keep_user_files(out: Path, temp: Path, written: set[str], ours: set[str]) -> None:
    """Files and folders the user put in the output (CNAME, .git, .nojekyll) move to the new site, never deleted."""
    if not out.is_dir():
        return
    ours = ours | {MARKER}
    our_folders = {rel.rsplit("/", 1)[0] for rel in ours | written if "/" in rel}
    our_folders |= {"/".join(f.split("/")[:i]) for f in list(our_folders) for i in range(1, f.count("/") + 1)}
    for dirpath, dirnames, filenames in os.walk(out):
        base = Path(dirpath).relative_to(out).as_posix()
        base = "" if base == "." else base + "/"
        for name in list(dirnames):
            rel = base + name
            if rel not in our_folders:  # the user's own folder (.git, downloads/): kept whole
                shutil.copytree(out / rel, temp / rel, symlinks=True, dirs_exist_ok=True)
                dirnames.remove(name)
        for name in filenames:
            rel = base + name
            if rel in ours or rel in written:
                continue
            (temp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(out / rel, temp / rel, follow_symlinks=False)


def _swap(temp: Path, out: Path, parent: Path) -> None:
    if not out.exists():
        os.replace(temp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIXES[1]}{out.name}.", dir=parent))
    os.rmdir(old)
    try:
        os.replace(out, old)
    except OSError as exc:  # a mount point (a Docker volume) cannot be moved aside
        raise OutputRefused(f"cannot replace {out} ({exc.strerror}): if it is a mount point, "
                            f"build into a folder inside it, e.g. --out {out / 'site'}") from None
    try:
        os.replace(temp, out)
    except BaseException:
        os.replace(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
