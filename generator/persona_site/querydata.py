"""The query page's data (spec section 6): the quotes as one small JSON shard per month, and a manifest.

    data/quotes/index.json      {"generated", "count", "timezone", "months": [{"month", "count"}...] newest
                                first, "companies": [...] (not with attribution = "role")}
    data/quotes/<yyyy-mm>.json  the month's quotes (the month in the site's timezone), in the site's order

A shard is columns, not objects, with every repeated string kept once (the shard's own lists):

    {"month": "2026-11", "count": 2, "columns": [...the names below...],
     "roles": ["head-of-revops"], "tags": ["pain", "objection criteria"], "companies": ["Acme Corp"],
     "transcripts": ["transcripts/2026/acme/"], "people": ["Dana Whitfield", "VP Sales"],
     "quotes": [["q-3f9a2c1b7e", 14, 0, 0, 0, "We spend the last four days..."], ...]}

A row: id; date (the day of the month for a plain date, else the ISO date-time); role, tags, company (-1:
none) as indexes into the lists above; text; html (0: the text, escaped); timestamp (0: none); transcript
(-1: not published; else its page, under base_url); speaker (-1: none; only with attribution = "name") and the
speaker's job title (-1: none; as every quote card shows it), indexes into "people". Trailing columns at their
default are left off. Nothing attribution withholds is in a shard.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse
from collections.abc import Collection, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from .archive import Archive, month_companies
from .config import Config
from .model import QuoteRef, transcript_url_path

if TYPE_CHECKING:
    from .render import RenderContext

COLUMNS = ("id", "date", "role", "tags", "company", "text", "html", "timestamp", "transcript", "speaker", "title")
_DEFAULTS = (None, None, None, None, -1, None, 0, 0, -1, -1, -1)


def months(archive: Archive, zone: dt.tzinfo) -> Sequence[tuple[str, list[QuoteRef]]]:
    """(yyyy-mm, the month's refs in the site's order), newest month first; only months with quotes."""
    return archive.months(zone)


def _escaped(text: str) -> str:
    """The text as the page would escape it (query.js does the same): markdown-it's escapeHtml."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


class QueryShard(NamedTuple):
    """One month's shard, to be made (render.Renderer.make): the month and its refs in the site's order."""

    month: str
    refs: list[QuoteRef]


def shard(month: str, refs: list[QuoteRef], config: Config, published: Collection[str]) -> bytes:
    """One month's quotes in the compact form the module docstring describes; `published`: the transcripts that
    have a page."""
    lists: dict[str, dict[str, int]] = {name: {} for name in ("roles", "tags", "companies", "transcripts", "people")}

    def index(name: str, value: str | None) -> int:
        if value is None:
            return -1
        return lists[name].setdefault(value, len(lists[name]))

    rows = []
    for ref in refs:
        q = json.loads(ref.json)  # already honours attribution: company, speaker
        date = q["date"]
        day = int(date[8:10]) if len(date) == 10 and date[:7] == month else date
        page = None
        if config.publish_transcripts and q["transcript"] in published:
            page = urllib.parse.quote(transcript_url_path(q["transcript"]))
        row = [q["id"], day, index("roles", q["role"]), index("tags", " ".join(q["tags"])),
               index("companies", q["company"]), q["text"],
               0 if q["html"] == _escaped(q["text"]) else q["html"], q["timestamp"] or 0, index("transcripts", page),
               index("people", q["speaker"]), index("people", q["title"])]  # q: what attribution lets out
        while len(row) > 6 and row[-1] == _DEFAULTS[len(row) - 1]:
            row.pop()
        rows.append(row)
    data = {"month": month, "count": len(rows), "columns": COLUMNS,
            **{name: list(values) for name, values in lists.items() if values}, "quotes": rows}
    return _compact(data)


def _compact(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def manifest(grouped: Sequence[tuple[str, list[QuoteRef]]], ctx: RenderContext,
             companies: tuple[str, ...] | None) -> bytes:
    data: dict[str, object] = {
        "generated": ctx.now.isoformat(timespec="seconds"), "count": sum(len(refs) for _, refs in grouped),
        "timezone": ctx.config.timezone, "months": [{"month": month, "count": len(refs)} for month, refs in grouped]}
    if companies is None:
        return _compact(data)
    return _compact(data)[:-1] + b',"companies":' + _compact_companies(companies) + b"}"  # its last key


@lru_cache(maxsize=2)  # the same tuple while the companies are the same (_listed): 15,000 names written once
def _compact_companies(companies: tuple[str, ...]) -> bytes:
    return _compact(list(companies))


def query_data(archive: Archive, ctx: RenderContext) -> dict[str, QueryShard | bytes]:
    """The shards, to be made, and the manifest, made (it holds only months, counts and companies)."""
    grouped = months(archive, ctx.config.zone)
    outputs: dict[str, QueryShard | bytes] = {f"data/quotes/{month}.json": QueryShard(month, refs)
                                              for month, refs in grouped}
    companies = None
    if ctx.config.attribution != "role":
        companies = _listed(tuple(month_companies(refs) for _, refs in grouped))
    outputs["data/quotes/index.json"] = manifest(grouped, ctx, companies)
    return outputs


@lru_cache(maxsize=2)  # serve's months are the same sets rebuild after rebuild: 15,000 companies, sorted once
def _listed(months: tuple[frozenset[str | None], ...]) -> tuple[str, ...]:
    """Every company some months name, as the manifest lists them."""
    return tuple(sorted(set().union(*months) - {None}, key=str.casefold))
