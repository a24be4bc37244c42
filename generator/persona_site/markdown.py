"""The one Markdown dialect of persona-site: CommonMark, raw HTML off, attribute spans."""

from __future__ import annotations

import html
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # markdown-it is imported when first used: the fast paths do without it (quotes_fast.py)
    from markdown_it import MarkdownIt
    from markdown_it.token import Token

# Past these sizes markdown-it's worst cases get slow; see SECURITY.md.
MAX_NESTING = 20


@lru_cache(maxsize=None)
def markdown() -> MarkdownIt:
    """Full parser and renderer: raw HTML is text, unsafe link schemes are dropped."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING, "typographer": False})
    md.enable(["table", "strikethrough"])
    _use_attributes(md)
    md.add_render_rule("span_open", _render_span_open)
    return md


@lru_cache(maxsize=None)
def block_markdown() -> MarkdownIt:
    """Block-level pass only: inline parsing is run on demand where a span can be."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough"])
    _use_attributes(md)
    md.core.ruler.disable(["inline"])
    return md


def escape_html(text: str) -> str:
    """Text as markdown-it escapes it (its escapeHtml: html.escape, a single quote left as it is), for the fast paths,
    which give markdown-it's answer without loading it (tests/test_fastpath.py compares the two)."""
    return html.escape(text).replace("&#x27;", "'")


def render(text: str) -> str:
    """Markdown to HTML for persona sketches and other prose."""
    return markdown().render(text)


# Attribute syntax (issue 21, item 6). The spec gives meaning to `[words]{.tag #q-id}` only, so attributes follow
# a span and nothing else (`[link](url){target=_blank}` stays text), and a span's `style`, `onclick`, `href`,
# `target` or other id never reach a page, whatever a version of mdit-py-plugins lets through: its defaults
# have changed from version to version (0.6.1 kept `onclick`; 0.7.0 keeps `style` and `target`).
SPAN_ATTRIBUTES = ("class", "id")


def _use_attributes(md: MarkdownIt) -> None:
    from mdit_py_plugins.attrs import attrs_plugin

    md.use(attrs_plugin, spans=True, after=("span_close",))


def allowed_span_attribute(name: str, value: object) -> bool:
    """Whether a span's attribute may reach a page: its classes (tags), and an id starting with 'q-'."""
    return name == "class" or (name == "id" and str(value).startswith("q-"))


def _render_span_open(self, tokens: list[Token], index: int, options, env) -> str:
    span = tokens[index]
    if span.tag == "span":  # not a quote's <mark>, whose attributes extract_quotes writes
        from markdown_it.token import Token

        kept = {name: value for name, value in span.attrs.items() if allowed_span_attribute(name, value)}
        tokens, index = [Token("span_open", "span", 1, attrs=kept)], 0
    return self.renderToken(tokens, index, options, env)
