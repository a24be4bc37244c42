"""The one Markdown dialect of persona-site: CommonMark, raw HTML off, attribute spans."""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt
from mdit_py_plugins.attrs import attrs_plugin

# Past these sizes markdown-it's worst cases get slow; see SECURITY.md.
MAX_NESTING = 20


@lru_cache(maxsize=None)
def markdown() -> MarkdownIt:
    """Full parser and renderer: raw HTML is text, unsafe link schemes are dropped."""
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(attrs_plugin, spans=True)
    return md


@lru_cache(maxsize=None)
def block_markdown() -> MarkdownIt:
    """Block-level pass only: inline parsing is run on demand where a span can be."""
    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    md.use(attrs_plugin, spans=True)
    md.core.ruler.disable(["inline"])
    return md


def render(text: str) -> str:
    """Markdown to HTML for persona sketches and other prose."""
    return markdown().render(text)
