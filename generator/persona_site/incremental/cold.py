"""ColdEngine: every stage done in full, nothing kept. The reference every shortcut is compared with."""

from __future__ import annotations

from pathlib import Path

from .. import gitmeta
from ..archive import Archive
from ..basics import Diagnostic
from ..content import ContentFiles, read_file, read_revision, read_work_tree
from ..model import Parsed, Persona, Reading, Site, Transcripts
from ..reader import read_personas
from ..reading import (ReadInputs, added_commit, edited_since_added, line_dated, parse_file, read_bytes,
                       undated_for)
from ..render import RenderContext, Renderer
from ..theme import Theme


class ColdEngine:
    """Reads every file, parses every transcript in this process, sorts the archive anew and renders every page."""

    git = gitmeta.RUN_WHEN_ASKED

    def __init__(self, source: Path, rev: str | None = None) -> None:
        self.source = source
        self.rev = rev

    def content(self) -> ContentFiles:
        """The files to build: the work tree, or the revision given (gitmeta.GitError if it is bad)."""
        return read_revision(self.source, self.rev) if self.rev else read_work_tree(self.source)

    def history(self, head: str | None) -> gitmeta.History | None:
        return gitmeta.history(self.source, head) if head is not None else None

    def read_personas(self, files: ContentFiles) -> tuple[list[Persona], list[Diagnostic]]:
        return read_personas(files.personas)

    def read_transcripts(self, files: ContentFiles, inputs: ReadInputs, problems: list[Diagnostic]) -> Reading:
        parsed = {}
        for path, data in files.transcripts.items():
            found = read_bytes(None if self.rev else self.source, path, data)
            if isinstance(found, bytes):
                found = parse_file(path, found, undated_for(path, files, inputs.history), added_commit(path, inputs),
                                   inputs)[0]
            problems += found.diagnostics
            if found.transcript is not None:
                parsed[path.removeprefix("content/")] = found
        parsed.update(self._line_dated(parsed, files, inputs))
        return Reading(Transcripts({path: found.transcript for path, found in parsed.items()}, None,
                                   {path: found.head for path, found in parsed.items()}), parsed)

    def _line_dated(self, parsed: dict[str, Parsed], files: ContentFiles, inputs: ReadInputs) -> dict[str, Parsed]:
        """The transcripts edited since git added them, their quotes dated line by line."""
        return {path: line_dated(found, files.transcripts.get(source_path) or read_file(self.source, source_path),
                                 inputs.history, source_path, uncommitted, inputs.config)
                for path, source_path, found, uncommitted in edited_since_added(self.source, parsed, inputs)}

    def archive(self, reading: Reading) -> Archive:
        return Archive((ref for found in reading.parsed.values() for ref in found.quotes), reading.transcripts.quote)

    def render(self, site: Site, archive: Archive, ctx: RenderContext, theme: Theme) -> dict[str, bytes]:
        return Renderer(theme).render(site, archive, ctx)

    def close(self) -> None:
        pass
