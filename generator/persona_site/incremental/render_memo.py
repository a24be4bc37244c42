"""Rendering only what changed (serve): each output kept with what it was made from, JSON made when first asked.

One edit in a repository of 10,000 transcripts changes a page or two; a page whose inputs (its own values, the
build's context and the theme's templates) are the same as the last render's keeps its bytes. The `*.json`
files are Deferred: made when a browser asks for one, and spliced from the last one made; the query page's
months are made Later, when a browser asks for one.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import operator
import os
import pickle
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import compress, count
from pathlib import Path
from typing import NamedTuple

from ..model import QuoteRef, Site, transcript_page_path
from ..output import Output, Spool, Spooled, Unchanged
from ..querydata import QueryShard
from ..archive import lines_digest
from ..phrases import Months
from ..quotejson import DOCUMENT_TAIL, JSON_OF, QUOTE_SEPARATOR, document_pieces, whole_document
from ..render import (Feed, LazyPage, Page, Planned, QuotesFile, RenderContext, Renderer, TranscriptPage,
                      transcript_version)
from .cache import keep_state, read_state
from .spliced import Layout, layout_of, open_last, pieces as spliced_pieces
from .written import Written

_JSON, _SEPARATOR, _TAIL = JSON_OF, QUOTE_SEPARATOR, DOCUMENT_TAIL


class RenderMemo:
    """The last render's outputs, by path, with what each was made from (published transcripts' pages apart)."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[object, bytes | Deferred]] = {}
        self._pages: tuple[object, dict[str, tuple[object, bytes | Deferred]], dict[str, bytes | Deferred]] = \
            (None, {}, {})
        """The transcripts the last render's transcript pages were made for, and those pages: path -> (key, data),
        and path -> data."""
        self._context: tuple[bytes, object, frozenset[str]] | None = None
        """The last render's inputs, git history and uncommitted paths: what a transcript page's key holds besides
        its transcript's version (_key); None after a render that did not end."""

    def render(self, renderer: Renderer, site: Site, plan: dict[str, Planned], ctx: RenderContext,
               pages: dict[str, bytes], inputs: bytes | None = None) -> dict[str, bytes | Deferred]:
        """Every output of `plan`: the last render's where its inputs are the same, else made (a QuotesFile
        Deferred); `pages`: transcripts' pages already made (by the workers that read them); `inputs`:
        inputs_of(renderer, ctx), when known."""
        made, self._made = self._made, {}
        inputs = inputs_of(renderer, ctx) if inputs is None else inputs
        common = renderer.common(ctx)
        outputs: dict[str, bytes | Deferred] = {}
        context = (inputs, ctx.history, frozenset(ctx.build_info.get("dirty_paths", ())))
        same_page, page_made, page_out, last_pages = self._transcript_pages(context, site)

        def made_again(path: str, planned: Planned, key: object, last: tuple | None) -> bytes | Deferred:
            """The output: the last render's when its key is the same, else made (a QuotesFile Deferred)."""
            if last is not None and last[0] == key and not (type(last[1]) is Later and last[1].pending):
                return last[1]
            if isinstance(planned, QuotesFile):
                return Deferred(planned.head, planned.refs, last[1].base() if last is not None else None)
            if isinstance(planned, QueryShard):  # made with this build's inputs, not an earlier one's kept alive
                return Later(functools.partial(renderer.make, path, planned, site, ctx, common))
            if isinstance(planned, TranscriptPage) and planned.source in pages:
                return pages[planned.source]
            return renderer.make(path, planned, site, ctx, common)

        for path, planned in plan.items():
            if isinstance(planned, bytes):
                outputs[path] = planned
                continue
            is_page = type(planned) is TranscriptPage
            if is_page and path in page_out:
                continue  # kept whole (_transcript_pages)
            last = last_pages.get(path) if is_page else made.get(path)
            if is_page and same_page(last, planned.source):
                key, data = last  # type: ignore[misc]
            else:
                key = _key(inputs, planned, site, ctx)
                data = made_again(path, planned, key, last)
            if is_page:
                page_made[path], page_out[path] = (key, data), data
            else:
                self._made[path] = (key, data)
                outputs[path] = data
        outputs.update(page_out)
        self._pages, self._context = (site.transcripts, page_made, page_out), context
        return outputs

    def _transcript_pages(self, context: tuple[bytes, object, frozenset[str]], site: Site) -> tuple[
            Callable[[tuple | None, str], bool], dict[str, tuple], dict[str, bytes | Deferred], dict[str, tuple]]:
        """Whether a transcript's page (its last entry, its source) is the last render's, known without its key
        (100,000 keys took 0.3 s of each serve rebuild with transcripts published): the `context` (inputs, git's
        history, uncommitted paths) is the last render's but for the last, the transcript's version is the same
        object, and it is uncommitted as it was. And the pages known so together, when the transcripts were patched from the last render's (their paths the same): all
        but those of the paths patched or uncommitted otherwise, taken whole (the last render's two dicts, changed
        in place: copying them took 40 ms). Last, the last render's entries of the pages to look at one by one."""
        last, self._context = self._context, None  # `context` once the render ends (a render that fails says nothing)
        if last is None or last[0] != context[0] or last[1] is not context[1]:
            return lambda found, source: False, {}, {}, self._pages[1]
        flipped = {path.removeprefix("content/") for path in last[2] ^ context[2]}
        head = site.transcripts.head

        def same(found: tuple | None, source: str) -> bool:
            return found is not None and source not in flipped and found[0][1] is head(source).version  # type: ignore[index]

        patched_from, (made_for, page_made, page_out) = site.transcripts.patched_from, self._pages
        self._pages = (None, page_made, page_out)  # changed in place below: kept whole again only once rendered
        if patched_from is None or patched_from[0] is not made_for:
            return same, {}, {}, page_made
        taken_out = {}
        for source in patched_from[1] | flipped:
            path = transcript_page_path(source)
            if path in page_made:
                taken_out[path] = page_made.pop(path)
                del page_out[path]
        return same, page_made, page_out, taken_out


class SiteOnDisk(NamedTuple):
    """The site a build writes over, as its render sees it."""

    written: dict[str, bytes]
    """The digest of what each of its files was made from (the last build's, written.recall)."""
    spool: Spool | None = None
    """Where each output made is written at once, by the process that made it (None: held in memory)."""
    layouts: dict[str, Layout] | None = None
    """Where the months of each `*.json` document lie in its file (the last build's, written.recall)."""
    folder: Path | None = None
    """Where its files are."""


def render_unchanged(renderer: Renderer, site: Site, plan: dict[str, Planned], ctx: RenderContext,
                     pages: dict[str, bytes], disk: SiteOnDisk) -> tuple[dict[str, Output], Written]:
    """Every output of `plan` for a build that writes the site (build, in a new process): an output whose inputs
    have the digest of those the file at its path was written from (`disk.written`) is Unchanged, linked by
    output.write_site and made only if that file is gone; the others are made (published transcripts' pages from
    `pages`, made by the workers that read them), and spooled when `disk.spool`. Returns the outputs and what to
    remember of them: their digests and the documents' layouts."""
    from .pool import MAKE_MIN_OUTPUTS, make_outputs

    inputs = inputs_of(renderer, ctx)
    common = renderer.common(ctx)
    outputs: dict[str, bytes | Unchanged | None] = {}
    to_make: list[tuple[str, bool]] = []
    """(path, whether it is a page of many, that a forked process may make)"""

    def digest_of(path: str) -> bytes | None:
        planned = plan[path]
        if type(planned) is LazyPage and type(planned.key) is bytes:  # a company page: its key a digest already
            return _lazy_digest(inputs, planned)
        return None if isinstance(planned, (bytes, QuotesFile)) else _page_digest(inputs, planned, site, ctx) \
            if isinstance(planned, TranscriptPage) else _digest(_key(inputs, planned, site, ctx))

    def digest_all() -> dict[str, bytes]:
        found = ((path, digest_of(path)) for path in plan)
        return {path: digest for path, digest in found if digest is not None}

    make = lambda path: renderer.make(path, plan[path], site, ctx, common)  # noqa: E731
    with _Documents.meanwhile(plan, disk) as documents:
        # With no file to compare with (a cold build), every output is made, and digested after: what a page
        # computes when made (phrases.Counting) is computed as the forked processes make the pages of many.
        digests = digest_all() if disk.written else {}
        for path, planned in plan.items():
            if isinstance(planned, bytes) or path in documents.paths:
                outputs[path] = planned if isinstance(planned, bytes) else None  # a document: made meanwhile
                continue
            digest = digests.get(path)
            if digest is not None and disk.written.get(path) == digest:
                outputs[path] = Unchanged(functools.partial(renderer.make, path, planned, site, ctx, common))
            elif isinstance(planned, TranscriptPage) and planned.source in pages:
                outputs[path] = pages[planned.source]
            else:
                outputs[path] = None
                to_make.append((path, isinstance(planned, LazyPage)))
        for source, page in pages.items():  # kept in the spool by the worker that read it, and no output after all
            if type(page) is Spooled and outputs.get(transcript_page_path(source)) is not page:
                disk.spool.unspool(page)  # before anything else is made at its place
        if len(to_make) >= MAKE_MIN_OUTPUTS:
            outputs.update(documents.made())  # first: no process is forked while a thread runs (cores_to_fork)
        outputs.update(make_outputs(to_make, make, disk.spool.keep if disk.spool else None))
        outputs.update(documents.made())
    layouts = {path: layout for path, planned in plan.items() if isinstance(planned, QuotesFile)
               and (layout := documents.layouts.get(path) or layout_of(planned.head, planned.months)) is not None}
    return outputs, Written(digests if disk.written else digest_all(), layouts)


DOCUMENTS_THREAD = "persona-site JSON documents"


class _Documents:
    """A rebuild's `*.json` documents (QuotesFile), written month by month by a thread while this one finds what else
    changed: every quote is in them, so each rebuild writes them whole (356 MB at 100,000 transcripts), each month
    whose quotes are the same copied from the last build's file (spliced.py), which leaves the interpreter free for
    the rest of the render. None are, with no thread, for a
    build that does not spool, or a cold one (it makes its pages on every core, and no process is forked while a
    thread runs): those make their documents with the rest."""

    def __init__(self, documents: dict[str, QuotesFile], disk: SiteOnDisk) -> None:
        self.paths = frozenset(documents)
        self.layouts: dict[str, Layout] = {}
        """Where the months of each document made lie in its file (spliced.py)."""
        self._made: dict[str, Output] = {}
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(documents, disk), name=DOCUMENTS_THREAD,
                                        daemon=True) if documents else None
        if self._thread is not None:
            self._thread.start()

    @classmethod
    @contextmanager
    def meanwhile(cls, plan: dict[str, Planned], disk: SiteOnDisk) -> Iterator[_Documents]:
        """The documents being made meanwhile (none, for a build that makes them with the rest); the thread is
        waited for whatever happens."""
        wanted = disk.spool is not None and disk.written
        documents = cls({path: planned for path, planned in plan.items() if isinstance(planned, QuotesFile)}
                        if wanted else {}, disk)
        try:
            yield documents
        finally:
            if documents._thread is not None:
                documents._thread.join()

    def _run(self, documents: dict[str, QuotesFile], disk: SiteOnDisk) -> None:
        try:
            for path, planned in documents.items():  # written piece by piece: never held whole
                self._made[path], layout = self._document(path, planned, disk)
                if layout is not None:
                    self.layouts[path] = layout
        except BaseException as exc:  # noqa: BLE001 - raised again in the render's thread, by made()
            self._failed = exc

    @staticmethod
    def _document(path: str, planned: QuotesFile, disk: SiteOnDisk) -> tuple[Output, Layout | None]:
        """A document, month by month, and its layout: spliced from the last build's file where that file is as its
        layout says (spliced.py); else, or when reading it fails, made whole."""
        spool, laid = disk.spool, []
        if not planned.months:  # no quote
            return spool.keep_pieces(path, functools.partial(document_pieces, planned.head, planned.refs)), None
        last = None
        if disk.folder is not None and disk.layouts:
            last = open_last(f"{disk.folder}/{path}", disk.layouts.get(path))
        try:
            made = spool.keep_pieces(path, functools.partial(
                spliced_pieces, planned.head, planned.months, None if last is None else (last, disk.layouts[path]),
                laid))
            return made, Layout(len(planned.head), tuple(laid))
        except OSError:  # the last file changed meanwhile
            pass
        finally:
            if last is not None:
                os.close(last)
        return spool.keep_pieces(path, functools.partial(document_pieces, planned.head, planned.refs)), None

    def made(self) -> dict[str, Output]:
        """The documents, each Spooled (or its bytes when the disk refused it), once all are made."""
        if self._thread is not None:
            self._thread.join()
        if self._failed is not None:
            raise self._failed
        return self._made


def _key(inputs: bytes, planned: Page | LazyPage | Feed | QuotesFile | QueryShard | TranscriptPage, site: Site,
         ctx: RenderContext) -> object:
    """What an output is made from, comparable with the last render's."""
    if isinstance(planned, QuotesFile):
        return planned  # its head and refs: refs are compared one by one, by identity first
    if isinstance(planned, QueryShard):  # the settings and published transcripts, and the month's quotes' JSON
        return inputs, planned.month, lines_digest(planned.refs)  # by one digest of their lines' digests
    if isinstance(planned, LazyPage):
        return inputs, planned.template, planned.key  # its values are made only when the page is
    if isinstance(planned, TranscriptPage):  # its pickle, by the digest its head keeps (not 10 KB hashed again a
        # transcript: 0.2-0.3 s of a one-file rebuild at 10,000), and its commit
        return inputs, site.transcripts.head(planned.source).version, transcript_version(planned.source, ctx)
    if isinstance(planned, Feed) and not planned.quotes:
        return inputs, planned, ctx.now  # an empty feed was updated when it was built
    return pickle.dumps((inputs, planned), pickle.HIGHEST_PROTOCOL)


def _page_digest(inputs: bytes, planned: TranscriptPage, site: Site, ctx: RenderContext) -> bytes:
    """A published transcript's page's digest, from what _key holds for it joined as bytes: 10,000 pickled through
    _digest took 0.2 s of a one-file rebuild."""
    _, stored, version = _key(inputs, planned, site, ctx)
    return hashlib.sha256(b"\0".join((b"transcript page", inputs, stored, repr(sorted(version.items())).encode()))
                          ).digest()


def _lazy_digest(inputs: bytes, planned: LazyPage) -> bytes:
    """The digest of a page made lazily whose key is a digest itself (pages_archive.Company.key), from what _key
    holds for it joined as bytes, not pickled (15,000 company pages at 100,000 transcripts)."""
    return hashlib.sha256(b"\0".join((b"lazy page", inputs, planned.key, planned.template.encode()))).digest()


def _digest(value: object) -> bytes:
    """A hash of a value that is the same in another process for an equal value: its pickle without the memo (a
    pickle with it depends on which equal strings are one object, and strings read from the cache are not the
    ones a parse makes). A QuotesFile (its head says when it was made) is never kept, so none is asked for."""
    sink = hashlib.sha256()
    pickler = _Plain(_Sink(sink.update), pickle.HIGHEST_PROTOCOL)
    pickler.fast = True  # no memo: nothing in a page's inputs refers to itself
    pickler.dump(value)
    return sink.digest()


class _Sink(NamedTuple):
    write: Callable[[bytes], object]


class _Plain(pickle.Pickler):
    """A pickle of values as plain data, for a digest: a named tuple or a dataclass (30,000 quotes and their refs
    on the month and company pages) as the tuple of its fields (a quote ref's line by its digest), a date-time as
    its ISO text, so each is not written with its class's module and name (three times faster)."""

    def reducer_override(self, obj: object) -> object:
        if type(obj) is QuoteRef:  # by its line's digest: its line is held or kept in a file (QuoteRef.lines)
            return tuple, ((*obj[:7], obj.company, obj.digest),)
        if isinstance(obj, tuple):
            return tuple, (tuple(obj),)
        if isinstance(obj, dt.datetime):
            return str, (obj.isoformat(),)
        fields = getattr(obj, "__dataclass_fields__", None)  # a page's Company, Call, Month, Persona
        if fields is not None and not isinstance(obj, type):
            return tuple, ((type(obj).__name__, *(getattr(obj, name) for name in fields)),)
        return NotImplemented


def inputs_of(renderer: Renderer, ctx: RenderContext) -> bytes:
    """All a page is made from besides its own values: the build's context and the theme's templates
    (included and extended ones too: a dozen small files, read each time). Not the build's time and commit:
    the pages that show them have them in their values (render.Renderer.plan)."""
    templates = [(str(path), _read_or_none(path)) for folder in renderer.theme.folders
                 for path in sorted((folder / "templates").rglob("*")) if path.is_file()]
    # Which transcripts have a page matters only when they are published (and the config is in the digest)
    published = _paths_digest(frozenset(ctx.published)) if ctx.config.publish_transcripts else b""
    return _digest((templates, renderer.common(ctx)["asset_version"], ctx.config, ctx.personas, published,
                    ctx.live_reload))


@functools.lru_cache(maxsize=2)  # the same paths, rebuild after rebuild: 100,000 sorted and hashed once
def _paths_digest(paths: frozenset[str]) -> bytes:
    return hashlib.sha256("\0".join(sorted(paths)).encode()).digest()


def _read_or_none(path: Path) -> bytes | None:
    """A file's bytes; None when it cannot be read (gone since listed, no permission: a page that uses it says so)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


class Later:
    """An output made when first asked for (serve: a month of the query page's data that no browser fetches is never
    made; one that is, is made once)."""

    def __init__(self, make: Callable[[], bytes]) -> None:
        self._make: Callable[[], bytes] | None = make
        self._data = b""
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        return self._make is not None

    def __call__(self) -> bytes:
        with self._lock:
            if self._make is not None:
                self._data, self._make = self._make(), None
            return self._data


class Deferred:
    """A `*.json` output made when first asked for (serve: a file nobody fetches is never made), spliced from
    an earlier one that was made when there is one."""

    def __init__(self, head: bytes, refs: list[QuoteRef], base: tuple[list[QuoteRef], bytes, int] | None) -> None:
        self._head, self._refs, self._base = head, refs, base
        self._data: bytes | None = None
        self._lock = threading.Lock()

    def __call__(self) -> bytes:
        with self._lock:
            if self._data is None:
                if self._base is None:
                    self._data = whole_document(self._head, self._refs)
                else:
                    self._data = spliced_document(*self._base, self._refs, self._head)
                self._base = None
            return self._data

    def base(self) -> tuple[list[QuoteRef], bytes, int] | None:
        """What the next document can be spliced from: this one once made, else what this one would be."""
        with self._lock:
            return (self._refs, self._data, len(self._head)) if self._data is not None else self._base


def spliced_document(old_refs: list[QuoteRef], old: bytes, old_head: int, refs: list[QuoteRef], head: bytes) -> bytes:
    """quotejson.quotes_document(refs) made from the document of old_refs (whose head is `old_head` bytes long): the
    quotes both lists begin and end with are copied, not joined again (one edit in 30,000 quotes: 15 ms, not 60)."""
    if not old_refs or not refs:
        return whole_document(head, refs)
    most = min(len(old_refs), len(refs))
    # In C, not a Python step per quote: the first place the lists differ, then the last (counted from the
    # end, and never into the quotes counted at the start).
    first = next(compress(count(), map(operator.is_not, old_refs, refs)), most)
    last = next(compress(count(), map(operator.is_not, reversed(old_refs[len(old_refs) - most + first:]),
                                      reversed(refs[len(refs) - most + first:]))), most - first)
    view = memoryview(old)
    groups = []
    if first:
        groups.append(view[old_head:old_head + sum(map(len, map(_JSON, old_refs[:first])))
                           + (first - 1) * len(_SEPARATOR)])
    if len(refs) - last > first:
        groups.append(_SEPARATOR.join(map(_JSON, refs[first:len(refs) - last])))
    if last:
        end = len(old) - len(_TAIL)
        groups.append(view[end - sum(map(len, map(_JSON, old_refs[len(old_refs) - last:])))
                           - (last - 1) * len(_SEPARATOR):end])
    return b"".join([head, _SEPARATOR.join(groups), _TAIL])


RECOUNTED = 16
"""How many places UsedMemo.recount keeps its last count of."""


class UsedMemo(dict):
    """A memo that forgets, when told, what was not asked for since it last forgot (serve's "in their words":
    a month of quotes counted before is not counted again; a month that changed is not kept forever).

    Its keys are a month's digest (archive.lines_digest of its quotes, made once a month) or many months' together
    (phrases.Months: their digests), kept by one digest of theirs."""

    def __init__(self, kept: dict | None = None) -> None:
        """`kept`: what an earlier process remembered (the cache's COUNTED file)."""
        super().__init__(kept or {})
        self._asked: set = set()
        self._parts: dict[bytes, tuple[bytes, ...]] = {}
        """A key of many months -> its months' digests: asking for it asks for them (they stay remembered)."""
        self.changed = False
        """Whether it holds anything it did not hold when made or last saved."""
        self._last: dict[tuple, tuple[dict, Counter]] = {}
        """Where a count was last made (phrases: a persona's month, or all of its months) -> its parts and the count
        (recount): the few places a writer edits in serve, the latest RECOUNTED."""

    def recount(self, where: tuple, parts: dict, count: Callable[[list], Counter]) -> Counter:
        """count() of the parts' values, from the count last made at `where` when few parts came or went since (the
        counts must add up part by part): a month at 100,000 transcripts holds 1,700 quotes, a persona 36 months."""
        last = self._last.pop(where, None) if where else None
        found = None
        if last is not None:
            before, total = last
            gone = [before[part] for part in before.keys() - parts.keys()]
            new = [parts[part] for part in parts.keys() - before.keys()]
            if len(gone) + len(new) <= max(1, len(parts) // 4):
                found = total.copy()
                less = count(gone) if gone else Counter()
                found.subtract(less)
                for term in less:  # no term the parts do not have (count() would not have it)
                    if found[term] <= 0:
                        del found[term]
                found.update(count(new) if new else ())
        if found is None:
            found = count(list(parts.values()))
        if where:
            self._last[where] = (parts, found)
            while len(self._last) > RECOUNTED:
                del self._last[next(iter(self._last))]
        return found

    def get(self, key, default=None):  # noqa: ANN001, ANN201 (dict's)
        return super().get(self._ask(key), default)

    def __setitem__(self, key, value) -> None:  # noqa: ANN001
        self.changed = True
        super().__setitem__(self._ask(key), value)

    def _ask(self, key: bytes | Months) -> bytes:
        digest = self._digest(key)
        self._asked.add(digest)
        self._asked.update(self._parts.get(digest, ()))
        return digest

    def _digest(self, key: bytes | Months) -> bytes:
        if type(key) is bytes:  # a month's
            return key
        parts = tuple(key)
        known = hashlib.sha1(b"many" + b"".join(parts)).digest()
        self._parts[known] = parts
        return known

    def forget_unasked(self) -> None:
        for key in self.keys() - self._asked:
            del self[key]
            self.changed = True
        self._parts = {digest: parts for digest, parts in self._parts.items() if digest in self._asked}
        self._asked = set()

    @classmethod
    def load(cls, folder: Path | None) -> UsedMemo:
        """The memo the last build command saved in the cache folder (an empty one when there is none)."""
        kept = read_state(folder / COUNTED).get("counted") if folder is not None else None
        return cls(kept if isinstance(kept, dict) else None)

    def save(self, folder: Path | None) -> None:
        """Keep it for the next build command, when it changed (nothing when the cache is not saved)."""
        if folder is not None and self.changed and keep_state(folder / COUNTED, {"counted": dict(self)}):
            self.changed = False


COUNTED = "counted.pickle"
"""The cache file of "in their words" counted by month (UsedMemo)."""
