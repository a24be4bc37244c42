"""PersistentEngine: the build command's and serve's engine. Keeps what it can between builds and processes.

What it keeps, and where (benchmarks/README.md has each technique with what it saves):
- parsed transcripts by content hash, with their stats and the last scan: store.TranscriptStore (cache.py on disk);
- git's view of the work tree, so a build need not walk it: worktree.py; git's commands begun ahead: git_ahead.py;
- git history, continued from the last build's: gitmeta.history(previous=...);
- many transcripts parsed on every core, pages of published ones rendered where they were read: pool.py;
- the Jinja environment and its compiled templates; serve's unchanged pages and JSON made when asked: render_memo.py;
- the archive of the last build, patched where few transcripts changed; the line dates of edited transcripts;
- the last build's fingerprints, so a build with nothing changed is skipped: uptodate.py.
"""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable, Collection
from contextlib import nullcontext
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING

from .. import gitmeta
from ..content import ContentFiles, read_file, read_revision, read_work_tree
from . import cache, uptodate, worktree, written
from .git_ahead import GitAhead
from .git_status import PatchedStatus
from .worktree import patch_work_tree

_QUOTES = operator.attrgetter("quotes")

if TYPE_CHECKING:
    from ..archive import Archive
    from ..build import BuildOptions, BuildResult
    from ..basics import Diagnostic
    from ..model import Parsed, Persona, Reading, Site, Transcript, Transcripts
    from ..output import Spool, Spooled
    from ..pages_archive import CompanyIndex
    from ..reading import ReadInputs
    from ..render import RenderContext, Renderer
    from ..theme import Theme
    from .bytecode import SealedBytecodeCache
    from .cards import CardFiles
    from .render_memo import RenderMemo, UsedMemo
    from .store import TranscriptStore

# The pipeline's modules (jinja2, markdown-it, YAML) are imported by the methods that use them: a build found up
# to date by up_to_date() imports none of them (two fifths of a no-change build's instructions at 10,000).


COLLECT_EVERY = 20
"""serve: every this many builds, the collector sees everything again, idle or not (PersistentEngine.built)."""


CARDS_KEPT = 200_000
"""serve keeps at most about this many cards its pages made (a few hundred MB at most); then it starts again."""


class PersistentEngine:
    """An engine that keeps its work: for one command (the cache on disk carries it to the next process), or for
    serve's rebuilds (`watching`: the watcher says what changed, pages are remembered, JSON made when asked)."""

    def __init__(self, source: Path, *, rev: str | None = None, cache_dir: Path | None | str = "auto",
                 save: bool = True, progress: Callable[[str, int, int], None] | None = None,
                 watching: bool = False) -> None:
        self.source, self.rev, self.watching = source, rev, watching
        self.folder = cache.cache_folder(source) if cache_dir == "auto" else cache_dir
        self._save = save
        self.git: gitmeta.GitRunner = PatchedStatus() if watching else gitmeta.RUN_WHEN_ASKED
        """How this engine's builds ask git (for_command: with the first commands begun ahead; serve's: `git status`
        about the paths the watcher saw change)."""
        self._progress = progress
        self._store: TranscriptStore | None = None
        self._left_out: frozenset[str] = frozenset()
        """Cache files not to load (leave_out)."""
        self._files: ContentFiles | None = None
        """The content as the last build that read it found it (serve patches it with the watcher's changes)."""
        self._changed: set[str] | None = None
        self._patched: tuple[dict, frozenset[str]] | None = None
        """serve's: the stats the last content() patched and the watcher's paths it looked at (store.read's)."""
        self._folders: set[str] = set()
        """serve's: the transcripts' folders of the last content (patch_work_tree's, kept from patch to patch)."""
        self._handed: ContentFiles | None = None
        """Files found ahead of the build (up_to_date), handed to its content() once."""
        self._renderer: tuple[tuple, Renderer | None] = ((), None)
        self._counted: UsedMemo | None = None
        """What "in their words" counted, by text (phrases.phrases_by_period), for the next render."""
        self._memo: RenderMemo | None = None
        """serve's: the last render's outputs with what each was made from (made at the first render)."""
        self._pages: dict[str, bytes] = {}
        """Published transcripts' pages made by the workers that read them, by path relative to content/."""
        self._cards: dict = {}
        """Quotes' cards made by the workers that read their transcripts (Quote -> its card; with card files, (path,
        quote id) -> where it is), for this build."""
        self._card_files: CardFiles | None = None
        """The build command's: where the workers wrote the cards (incremental/cards.py)."""
        self._builds = 0
        """serve's builds so far (built())."""
        self._last_archive: tuple[dict[str, Parsed], Archive | None] = ({}, None)
        self._dated: dict[str, tuple] = {}
        """Path -> (Parsed, its inputs, the Parsed with its lines' commits) for transcripts edited since added."""
        self._transcripts: Transcripts | None = None
        self._card_memo: tuple[bytes, dict] = (b"", {})
        """serve's: the cards its pages made (not those its reads made: its first build's are every card), by quote,
        with the inputs they were made from (render_memo.inputs_of)."""
        self._read: tuple[dict[str, Parsed] | None, dict[str, Parsed]] = (None, {})
        """The last read: what the store gave, and what the build had after dating lines (the last Reading's)."""
        self._companies: tuple[Transcripts | None, CompanyIndex | None] = (None, None)
        """serve's: the last build's transcripts and their companies (patched where few transcripts changed)."""
        self._looked_at: tuple[dict[str, Parsed], frozenset[str] | None] = ({}, None)
        """The last Reading's parsed transcripts, and the paths whose entry this build's may differ in (None: any)."""
        self._built = False
        self._out: Path | None = None
        """The folder the site will be written to (build: up_to_date says), whose files may be kept."""
        self._written = written.Written({}, {})
        """What the last render made: the digest of what each output was made from, and the documents' layouts
        (render_memo.render_unchanged)."""
        self._spool: Spool | None = None
        """Where the outputs a build makes go as they are made (spool_to)."""

    @classmethod
    def for_command(cls, source: Path, *, rev: str | None = None, save: bool = True,
                    progress: Callable[[str, int, int], None] | None = None,
                    git: GitAhead | None = None) -> PersistentEngine:
        """The engine of one command in its own process: for a build of the work tree, git's first commands begin
        now (or were begun by the caller, as `git`), to answer on another core while this process loads and walks
        (git_ahead.py)."""
        engine = cls(source, rev=rev, save=save, progress=progress)
        if rev is None:
            engine.git = git if git is not None else GitAhead(source)
        return engine

    # --- content ---------------------------------------------------------------------------------------------

    def expect(self, changed: set[str] | None) -> None:
        """serve: the paths (relative to the source) changed since the last build, when the watcher knows them;
        the next content() patches the last answer with them instead of walking content/ again, and so does the
        next `git status`."""
        self._changed = changed
        if isinstance(self.git, PatchedStatus):
            self.git.expect(changed)

    def content(self) -> ContentFiles:
        if self._handed is not None:
            files, self._handed = self._handed, None
            return files
        if self.rev:
            return read_revision(self.source, self.rev)
        if not self.watching:
            return worktree.files(self.source, self.folder, save=self._save, git=self.git)
        # A build that fails (a walk, a file that cannot be read) leaves nothing to patch: the next one walks, and no
        # change is lost to the error (issue 21, item 14). read_transcripts keeps the list once it has read it.
        last, self._files = self._files, None
        changed, self._changed = self._changed, None
        files = patch_work_tree(self.source, last, changed, self._folders) if changed is not None and last is not None \
            else None
        self._patched = (last.stats, frozenset(changed)) if files is not None else None
        if files is None:
            self._folders = set()  # the walk's, found again at the next patch
        return files or read_work_tree(self.source)  # serve's watcher must know every hard link: a walk

    def up_to_date(self, out: Path, options: dict) -> tuple[dict | None, tuple[str, ...] | None]:
        """The last build's record (its diagnostics and summary) when nothing it read changed since, and the
        fingerprints to record this build under (None: a revision, which is never skipped)."""
        self._out = out.resolve()
        if self.rev is not None:
            return None, None
        with uptodate.SiteCheck(self.folder, out) if not self.watching else nullcontext() as site:
            transcripts = None if site is None else worktree.unchanged_since_last_look(self.source, self.folder,
                                                                                        self.git)  # git answers
            if transcripts is not None:  # nothing changed since the last look: its stats, by their digest alone
                found = uptodate.fingerprints(self.source, options, read_work_tree(self.source, {}, self.git),
                                              self.git, transcripts)
                if site.intact(wanted=site.stamp is not None and uptodate.recorded_under(site.stamp, found)):
                    return uptodate.matching(self.folder, site.stamp, found), found
        self._handed = self.content()  # found once: for the fingerprints, then for the build
        found = uptodate.fingerprints(self.source, options, self._handed, self.git)
        return uptodate.check(self.folder, found, out), found

    def spool_to(self, spool: Spool | None) -> None:
        """The build command's: each output its builds make is written to `spool` at once, by the process that
        made it, not held until the site is written (output.Spool)."""
        self._spool = spool

    def record(self, fingerprint: tuple[str, ...] | None, out: Path, diagnostics: list[Diagnostic], summary: str,
               fail_on_stale: bool = False) -> None:
        """Remember a build that was written, so the next with nothing changed is skipped, and what each of its
        outputs was made from, so the next renders only what changed."""
        written.remember(self.folder if self._save else None, out, self._written)
        if self._counted is not None:
            self._counted.save(self.folder if self._save else None)
        if fingerprint:
            uptodate.record(self.folder, fingerprint, out, [list(d) for d in diagnostics], summary, fail_on_stale)

    @property
    def store(self) -> TranscriptStore:
        """The parsed transcripts kept between builds: loaded when first needed (a build found up to date never
        loads them)."""
        if self._store is None:
            from .store import TranscriptStore

            self._store = TranscriptStore(self.source, self.folder, self._save, self._progress, self._left_out)
        return self._store

    def read_personas(self, files: ContentFiles) -> tuple[list[Persona], list[Diagnostic]]:
        return self.store.read_personas(files.personas)

    def leave_out(self, damaged: Collection[str]) -> None:
        """Cache files an earlier attempt at this command found damaged (cli._recovering): not loaded, so their
        transcripts are parsed again; the next save writes them whole."""
        self._left_out = frozenset(damaged)

    def forget_damaged(self, damaged: cache.CacheDamaged) -> bool:
        """After a build stopped at a damaged frozen transcript: its cache file's entries dropped (False: none were
        this engine's), so that the next build parses those transcripts again."""
        return self._store is not None and self._store.forget_damaged(damaged)

    def history(self, head: str | None) -> gitmeta.History | None:
        if head is None:
            return None
        self.store.history = gitmeta.history(self.source, head, self.store.history)
        return self.store.history

    # --- transcripts -----------------------------------------------------------------------------------------

    def read_transcripts(self, files: ContentFiles, inputs: ReadInputs, problems: list[Diagnostic]) -> Reading:
        from ..model import Reading, Transcripts

        from .store import Made

        made, compile_templates = Made(), None
        if inputs.render is not None:
            theme, ctx = inputs.render
            renderer = self._renderer_for(theme)
            compile_templates = renderer.compile
            page = None
            if inputs.config.publish_transcripts:
                renderer.compile("transcript.html")  # once, before the workers that render these pages fork
                page = lambda transcript: renderer.transcript_page(transcript, ctx)  # noqa: E731
                if self._spool is not None:  # written as it is made, by the worker that made it
                    page = self._spool_aside(page)
            cards = renderer.cards_for(ctx)
            if self._spool is not None and cards is not None:  # the build command's: written as they are made
                from .cards import CardFiles

                self._close_cards()
                try:
                    self._card_files = CardFiles()
                    cards = self._card_files.keeping(cards)
                except OSError:  # no temporary folder: the cards come back to this process, as serve's do
                    pass
            made = Made(page, cards)
        try:
            patched, self._patched = self._patched, None
            parsed, self._pages, self._cards = self.store.read(files, inputs, problems, made, compile_templates,
                                                               patched)
        finally:
            if self._card_files is not None:
                self._card_files.opened()
        if self.watching:
            self._files = files  # read whole: the next build may patch it with the watcher's changes
        if not self.watching or not self._built:  # serve saves its first build's, then when idle (save())
            self.store.persist(always=self.watching)  # now: a forked saver then works while this process goes on
        self._built = True
        looked_at = self.store.looked_at if self.store.patched_from is self._read[0] else None
        was_dated = self._dated.keys()
        read, parsed = parsed, self._line_dated(parsed, files, inputs)
        if looked_at is not None:  # a transcript dated line by line may change with git's history alone
            looked_at = looked_at | was_dated | self._dated.keys()
        before, earlier = self._read[1], self._transcripts
        self._looked_at = (before, looked_at)
        if looked_at is not None and earlier is not None \
                and all(path in parsed and path in before for path in looked_at):
            self._transcripts = earlier.patched({path: (parsed[path].transcript, parsed[path].head) for path in looked_at})
        else:  # a transcript came or went: a new order by path
            self._transcripts = Transcripts({path: found.transcript for path, found in parsed.items()}, earlier,
                                            {path: found.head for path, found in parsed.items()})
        self._read = (read, parsed)
        return Reading(self._transcripts, parsed, self._company_index(earlier, looked_at))

    def _company_index(self, earlier: Transcripts | None, looked_at: frozenset[str] | None) -> CompanyIndex | None:
        """serve's: the companies of this build's transcripts, the last build's patched where few changed; None for
        a command's build (its pages group them once, when asked)."""
        if not self.watching:
            return None
        from ..pages_archive import CompanyIndex

        transcripts, (last, index) = self._transcripts, self._companies
        if index is None or last is not earlier or earlier is None or looked_at is None \
                or len(looked_at) > 10 + len(transcripts) // 20:
            index = CompanyIndex.of(map(transcripts.head, transcripts.paths))
        else:
            index = index.patched([earlier.head(path) for path in looked_at if path in earlier.paths],
                                  [transcripts.head(path) for path in looked_at if path in transcripts.paths])
        self._companies = (transcripts, index)
        return index

    def _line_dated(self, parsed: dict[str, Parsed], files: ContentFiles, inputs: ReadInputs) -> dict[str, Parsed]:
        """reading.line_dated for each transcript edited since git added it; the same objects as the last build's
        where nothing changed (the archive then keeps them)."""
        from ..reading import edited_since_added, line_dated

        history, dated = inputs.history, {}
        for path, source_path, found, new in edited_since_added(self.source, parsed, inputs):
            done = self._dated.get(path)
            if done is None or done[0] is not found or done[1] != (history.head, new):
                data = files.transcripts.get(source_path) or read_file(self.source, source_path)
                done = (found, (history.head, new), line_dated(found, data, history, source_path, new, inputs.config))
            dated[path] = done
        self._dated = dated
        if not dated:
            return parsed
        # A new dict: the store keeps what reading gave, and the memo above compares with it.
        return {**parsed, **{path: done[2] for path, done in dated.items()}}

    def archive(self, reading: Reading) -> Archive:
        """The last build's archive patched where transcripts changed (serve's rebuilds), when few did; else sorted
        anew."""
        from ..archive import Archive

        parsed, load = reading.parsed, reading.transcripts.quote
        last, archive = self._last_archive
        if archive is not None:
            before, looked_at = self._looked_at
            if looked_at is not None and last is before:
                changed = [path for path in looked_at if last.get(path) is not parsed.get(path)]
            else:
                changed = [path for path, found in parsed.items() if last.get(path) is not found]
                changed += last.keys() - parsed.keys()
            if len(changed) <= 10 + len(parsed) // 20:  # patching costs a few µs a ref, sorting 60 ms a 30,000
                archive = archive.patched([ref for path in changed if path in last for ref in last[path].quotes],
                                          [ref for path in changed if path in parsed for ref in parsed[path].quotes],
                                          load)
                self._last_archive = (parsed, archive)
                return archive
        archive = Archive(chain.from_iterable(map(_QUOTES, parsed.values())), load)  # in C: 300,000 refs
        self._last_archive = (parsed, archive)
        return archive

    # --- pages -----------------------------------------------------------------------------------------------

    def render(self, site: Site, archive: Archive, ctx: RenderContext, theme: Theme) -> dict[str, bytes]:
        renderer = self._renderer_for(theme)
        ctx.cards, self._cards = self._cards, {}
        if self._card_files is not None:
            from .cards import CardsOnDisk

            ctx.cards = CardsOnDisk(self._card_files, ctx.cards, self._dated.keys())  # type: ignore[arg-type]
        inputs = None
        if self.watching:
            from .render_memo import inputs_of

            inputs = inputs_of(renderer, ctx)
            if self._card_memo[0] != inputs or len(self._card_memo[1]) > CARDS_KEPT:
                self._card_memo = (inputs, {})
            ctx.card_memo = self._card_memo[1]  # the cards its pages made, for the next build's (a month's: 1,700)
        plan = renderer.plan(site, archive, ctx)
        if self.watching:
            from .render_memo import RenderMemo

            if self._memo is None:
                self._memo = RenderMemo()
            outputs = self._memo.render(renderer, site, plan, ctx, self._pages, inputs)
        else:
            from .render_memo import SiteOnDisk, render_unchanged

            kept = written.recall(self.folder, self._out) if self._out is not None else written.Written({}, {})
            outputs, self._written = render_unchanged(renderer, site, plan, ctx, self._pages,
                                                      SiteOnDisk(kept.digests, self._spool, kept.layouts, self._out))
        renderer.memo.forget_unasked()  # after the pages: a cold build counts "in their words" as it makes them
        return outputs  # type: ignore[return-value]

    def _spool_aside(self, page: Callable[[Transcript], bytes]) -> Callable[[Transcript], Spooled | bytes]:
        """A published transcript's page kept in the spool at its place by the worker that made it (render_unchanged
        unspools one that is no output after all)."""
        from ..model import transcript_page_path

        keep = self._spool.keep
        return lambda transcript: keep(transcript_page_path(transcript.path), page(transcript))

    def _renderer_for(self, theme: Theme) -> Renderer:
        """One Jinja environment across builds (it reloads edited templates itself; serve's rebuilds are twice as
        fast); a new one when the theme's template files come or go."""
        key = (theme, tuple(sorted(str(p) for folder in theme.folders for p in (folder / "templates").rglob("*"))))
        if self._renderer[0] != key:
            from ..render import Renderer

            from .render_memo import UsedMemo

            if self._counted is None:  # serve's is kept in memory; a command's comes from the last one's
                self._counted = UsedMemo() if self.watching else UsedMemo.load(self.folder)
            self._renderer = (key, Renderer(theme, self._bytecode(), self._counted))
        return self._renderer[1]

    def _bytecode(self) -> SealedBytecodeCache | None:
        """Compiled templates kept in the cache folder, sealed; None when the cache is not saved or cannot be."""
        if self.folder is None or not self._save:
            return None
        from .bytecode import SealedBytecodeCache  # imports jinja2

        try:
            return SealedBytecodeCache(self.folder / "templates")
        except OSError:
            return None

    # --- ending ----------------------------------------------------------------------------------------------

    def built(self) -> None:
        """serve: a build is done. What the builds keep (millions of objects at 10,000 transcripts) is moved out of
        the collector's sight (gc.freeze): the next rebuild's collections no longer scan it (0.03-0.1 s a rebuild
        at 10,000); save(), when serve is idle, lets the collector see it all again, and so does every
        COLLECT_EVERY-th build (saves that keep coming leave serve no idle moment)."""
        self._builds += 1
        if self._builds % COLLECT_EVERY == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def save(self) -> None:
        """Save the cache now if the last builds changed it (serve, when idle or stopping); collect what the
        builds since the last save left in cycles (built())."""
        gc.unfreeze()
        gc.collect()
        if self._store is None:
            return
        self.store.finish()
        self.store.persist(always=True)
        self.store.finish()

    def close(self) -> None:
        """Wait for the cache's save; stop what git was asked ahead; close the cards' files."""
        if self._store is not None:
            self._store.finish()
        self.git.close()
        self._close_cards()

    def _close_cards(self) -> None:
        if self._card_files is not None:
            self._card_files.close()
            self._card_files = None


def build_recovering(source: Path, options: BuildOptions, engine: PersistentEngine) -> BuildResult:
    """serve's build.build_site with its engine; made again whenever it stops at a frozen transcript of the cache that
    is not what was frozen (cache.CacheDamaged, never unpickled): that file's entries dropped, those transcripts are
    parsed again, as when the cache had none of them, and the next save writes the file whole. (A command starts
    again from the beginning instead, with a new engine and a new spool: cli._recovering.)"""
    from ..build import build_site

    while True:
        try:
            return build_site(source, options, engine)
        except cache.CacheDamaged as damaged:
            if not engine.forget_damaged(damaged):
                raise
