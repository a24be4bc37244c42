"""Rendering: the archive and personas in, outputs (path -> bytes) out. Writes nothing."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import re
import traceback
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, MutableMapping, Sequence, Set as AbstractSet
from dataclasses import dataclass, field, replace
from typing import NamedTuple, Protocol

import jinja2

from . import gitmeta, pages_archive, phrases, trend
from .archive import ORDER, Archive
from .basics import Diagnostic, error
from .config import Config
from .model import (Persona, Quote, QuoteRef, Site, Transcript, TranscriptHead, transcript_page_path,
                    transcript_url_path)
from .querydata import QueryShard, query_data, shard
from .quotejson import html_safe_json, iso_date, quotes_head, whole_document
from .theme import BUILTIN_THEME, Theme

QUARTER_DAYS = 92  # the longest a calendar quarter reaches back from any day: a persona page holds these quotes
WINDOW_CAP = 200  # ...up to this many (the query page has the rest)
GRID_DAYS = 90  # the tags index counts this many days
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Freshness:
    """How recently a persona was heard from."""

    last_heard: dt.datetime | None
    days_ago: int | None
    recent: int
    stale: bool


class Cards(Protocol):
    """Quotes' cards made already, asked by quote (a dict; incremental.cards.CardsOnDisk)."""

    def get(self, quote: Quote, /) -> str | None: ...


@dataclass
class RenderContext:
    """Everything a page needs besides its own data."""

    config: Config
    now: dt.datetime
    personas: dict[str, Persona]
    published: AbstractSet[str] = field(default_factory=frozenset)
    live_reload: str = ""
    build_info: dict = field(default_factory=dict)
    history: "gitmeta.History | None" = None
    """What git says of the transcripts: a transcript page shows the commit that last changed it."""
    cards: Cards = field(default_factory=dict)
    """Quotes' cards already made (an engine's: where their transcripts were read); the others are made here."""
    card_memo: MutableMapping[tuple, str] | None = None
    """Where the cards made here are kept, by quote and its date's offset and zone (an engine's, kept between builds
    with the same inputs: serve's); None: for this build only."""

    def built(self) -> dict:
        """The commit built from, as pages show it (not the paths changed in the work tree: a page of one
        transcript does not change when another is edited)."""
        return {key: self.build_info[key] for key in ("commit", "commit_date", "dirty") if key in self.build_info}

    def url(self, path: str = "") -> str:
        return self.config.base_url + path.lstrip("/")


def make_environment(theme: Theme, bytecode: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    """The theme's templates; `bytecode` keeps them compiled between runs (compiling took half of a small rebuild;
    the engine's is sealed: incremental/bytecode.py)."""
    loader = jinja2.FileSystemLoader([str(folder / "templates") for folder in theme.folders])
    # autoescape=True for every template whatever its extension: feeds too (SECURITY.md, item 13).
    env = jinja2.Environment(loader=loader, autoescape=True, bytecode_cache=bytecode,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["xmlsafe"] = lambda text: _XML_FORBIDDEN.sub("", str(text))
    env.filters["tojson"] = _tojson
    # Plain text going into an HTML fragment that is itself escaped into XML: escape twice.
    env.filters["htmltext"] = lambda text: html.escape(str(text), quote=False)
    return env


def _tojson(value: object) -> "jinja2.utils.markupsafe.Markup":
    """JSON for a <script> or an attribute: nothing in it can close the element (SECURITY.md, item 14)."""
    return jinja2.utils.markupsafe.Markup(html_safe_json(json.dumps(value, ensure_ascii=False)).replace("'", "\\u0027"))


def freshness(archive: Archive, role: str, now: dt.datetime, config: Config) -> Freshness:
    newest = archive.latest(role=role, limit=1)
    recent = archive.count(role=role, since=now - dt.timedelta(days=30))
    if not newest:
        return Freshness(None, None, recent, True)
    days = days_ago(newest[0].date, now)
    # In the site's zone: its day (a page's `datetime`, site.js's "N days ago") is the day days_ago counted
    return Freshness(newest[0].date.astimezone(now.tzinfo), days, recent, days > config.stale_after_days)


def built_text(when: dt.datetime | dt.date, build: dict) -> str:
    """The footer's line: when the site was built (the day; with the time, from a date-time) and from which commit."""
    text = f"Built {when.day} {when:%b %Y}"
    if isinstance(when, dt.datetime):
        text += f", {when:%H:%M} {when.tzinfo}"
    if build.get("commit"):
        text += f" from commit {build['commit']}" + (f" ({build['commit_date']})" if build.get("commit_date") else "")
        text += ", with uncommitted changes" if build.get("dirty") else ""
    return text + "."


@functools.lru_cache(maxsize=1 << 12)  # 30,000 cards a build, on a few hundred days: each day's text made once
def _dates(date: dt.datetime, offset: dt.timedelta | None, date_only: bool, zone: dt.tzinfo) -> tuple[str, str, str]:
    """A quote's date as its card shows it: as the JSON writes it (date_text), '5 Nov 2026' and its month
    ('2026-11'), those two in the site's zone. `offset` is the date's own UTC offset: equal date-times (one
    instant) with other offsets are written otherwise, and must not share a cache entry."""
    local = date.astimezone(zone)
    return iso_date(date, date_only), f"{local.day} {local:%b %Y}", f"{local:%Y-%m}"


def transcript_version(path: str, ctx: RenderContext) -> dict:
    """The commit that last changed a transcript (its page shows it, not the site's: issue 22, item 1), and whether
    it has changed since (`dirty`: edited in the work tree, or not committed yet)."""
    source_path = f"content/{path}"
    commit = ctx.history.changed.get(source_path) if ctx.history is not None else None
    dirty = commit is None or source_path in ctx.build_info.get("dirty_paths", ())
    return {"commit": commit[0][:7] if commit else None, "date": commit[1][:10] if commit else None, "dirty": dirty}


def days_ago(when: dt.datetime, now: dt.datetime) -> int:
    """Calendar days in the site's zone: every "N days ago" changes only at midnight."""
    return (now.date() - when.astimezone(now.tzinfo).date()).days


def _instants(refs: list[QuoteRef]) -> list[str]:
    """Each quote's instant as since=Nd compares it (query.py): seconds since 1970, milliseconds kept when there are
    some; a date's quotes share its midnight in the site's zone."""
    return [_seconds(ORDER(ref)) for ref in refs]


@functools.lru_cache(maxsize=1 << 17)  # a transcript's quotes share its date: asked 10,000s of times a build
def _seconds(order: float) -> str:
    return f"{-order:.3f}".rstrip("0").rstrip(".")


def instant_counts(instants: list[str]) -> str:
    """Instants as a page's data-dates holds them: each once, newest first, with `xN` after it for N quotes then
    ('1793059200x3 1792800000'); site.js reads one written N times the same (the index's data-recent-dates)."""
    counted = Counter(instants)
    newest_first = sorted(counted.items(), key=lambda item: -float(item[0]))
    return " ".join(at if n == 1 else f"{at}x{n}" for at, n in newest_first)


def transcript_index(site: Site) -> list[TranscriptHead]:
    """The published transcripts for their index, by their heads (not one of 10,000 unpickled for it): newest
    first, then by path (the site's order)."""
    return site.transcripts.newest_first()[0]


PAGE_TEMPLATES = ("index.html", "persona.html", "tags.html", "tag.html", "feed.xml", "404.html", "transcript.html",
                  "transcripts.html", "quotes.html", *pages_archive.PAGE_TEMPLATES)
"""The templates pages are rendered with (the others are what these include or extend)."""


class Page(NamedTuple):
    """An output a template makes from these values (and what every page gets)."""

    template: str
    values: dict


class Feed(NamedTuple):
    """A persona's Atom feed of these quotes (of one tag's, with a tag)."""

    persona: Persona
    quotes: list[Quote]
    tag: str | None = None


class LazyPage(NamedTuple):
    """An output a template makes from values(), called only when it is made; `key` is all the values are made
    from, comparable with ==."""

    template: str
    key: object
    values: Callable[[], dict]


class QuotesFile(NamedTuple):
    """A `*.json` file: its head (quotes_head) and the refs of its quotes."""

    head: bytes
    refs: list[QuoteRef]
    months: tuple[Sequence[QuoteRef], ...] = ()
    """The same refs by month, newest first (a rebuild splices the document by month: incremental/spliced.py)."""


class TranscriptPage(NamedTuple):
    """A published transcript's page."""

    source: str
    """The transcript's path relative to content/."""


Planned = bytes | Page | LazyPage | Feed | QuotesFile | QueryShard | TranscriptPage
"""What an output is made from; bytes: a static file, as it is."""


def _tag_pages(archive: Archive, ctx: RenderContext, dated: dict) -> dict[str, Planned]:
    """The tags index (each tag's count, and each persona's in the last GRID_DAYS days) and each tag's page."""
    config = ctx.config
    tag_counts = {tag: archive.count(tag=tag) for tag in config.tags}
    pages: dict[str, Planned] = {"tags/index.html": Page("tags.html", dict(
        dated, tag_counts=tag_counts, grid=_grid(archive, ctx), grid_days=GRID_DAYS))}
    for tag, label in config.tags.items():
        pages[f"tags/{tag}/index.html"] = Page("tag.html", dict(
            tag=tag, label=label, quotes=archive.latest(tag=tag, limit=config.quotes_per_role), total=tag_counts[tag]))
    return pages


def _grid(archive: Archive, ctx: RenderContext) -> dict[str, dict[str, tuple[int, str]]]:
    """The tags index: role -> tag -> (its quotes of the last GRID_DAYS days, their instants in data-dates form).
    The page shows the count as of the build; site.js counts them again when it is read."""
    since = ctx.now - dt.timedelta(days=GRID_DAYS)
    cell = lambda refs: (len(refs), instant_counts(_instants(refs)))  # noqa: E731
    return {role: {tag: cell(archive.refs(role=role, tag=tag, since=since)) for tag in ctx.config.tags}
            for role in ctx.personas}


def _pages_of(paths: Iterable[str]) -> dict[str, TranscriptPage]:
    return {transcript_page_path(source): TranscriptPage(source) for source in paths}


def _transcript_pages(site: Site) -> dict[str, Planned]:
    """Each published transcript's page, and the list of them all."""
    pages: dict[str, Planned] = dict(site.transcripts.by_paths(_pages_of))
    calls, rows = site.transcripts.newest_first()
    pages["transcripts/index.html"] = LazyPage("transcripts.html", rows, lambda: {"calls": calls})
    return pages


class _EveryPath:
    """`published` for a transcript's cards made as it is read: every transcript that reads is published."""

    def __contains__(self, path: object) -> bool:
        return True


_EVERY_PATH = _EveryPath()


class QuoteView(NamedTuple):
    """What a quote's card shows besides the quote, as the site's settings have it (the theme's quote_view(q)).
    A named tuple: a template reads its fields as attributes, 20 a card and 30,000 cards a build."""

    quote: Quote
    role_title: str
    who: str
    """Who said it, as a screen reader's "in context" names it: the persona (the speaker first, with names), the
    company unless withheld."""
    company: str | None
    """None when companies are withheld (attribution = "role")."""
    speaker: str | None
    """Only with attribution = "name"."""
    title: str | None
    """The speaker's job title, where the front matter gives one."""
    cite: str
    """What the copy control puts after the quote."""
    added: str
    """When it came into the archive: the commit's date, else the quote's."""
    context_url: str
    """Its transcript when published, else its place on its month's archive page."""
    date_iso: str
    date_display: str
    transcript_url: str | None
    role_url: str


class Renderer:
    """Turns one site into outputs; holds the Jinja environment between builds."""

    def __init__(self, theme: Theme, bytecode: jinja2.BytecodeCache | None = None,
                 memo: MutableMapping[tuple, Counter] | None = None) -> None:
        """`memo`: an engine's, kept between builds: what was counted for "in their words", by text."""
        self.theme = theme
        self.memo = memo
        self.env = make_environment(theme, bytecode)
        self._build: tuple[RenderContext | None, dict, dict[str, bytes]] = (None, {}, {})
        """The build last rendered for, what every page of it gets, and the theme's static files then."""
        self._page: tuple[RenderContext | None, jinja2.Template | None] = (None, None)
        """The build transcript pages were last rendered for, and their template."""

    def common(self, ctx: RenderContext) -> dict:
        """What every page of a build gets (asset_version: a hash of the static files, which versions their URLs)."""
        if self._build[0] is not ctx:  # a new build: the theme may have been edited since the last
            static = self.theme.static_files()
            version = hashlib.sha256(b"".join(static[k] for k in sorted(static))).hexdigest()[:8]
            common = {
                "site": ctx.config, "url": ctx.url, "tags": ctx.config.tags, "asset_version": version,
                "all_personas": sorted(ctx.personas.values(), key=lambda p: p.title.casefold()),
                "persona_by_slug": ctx.personas, "live_reload": ctx.live_reload,
                "built_text": built_text, "quote_view": lambda q: self._quote_view(q, ctx),
                "transcript_path": lambda path: urllib.parse.quote(transcript_url_path(path)),
            }
            self._build = (ctx, common, static)
        return self._build[1]

    def compile(self, name: str | None = None) -> None:
        """Load one template (or every page template) now, while there is time: the main process compiles them
        as the workers parse. A broken or unreadable template is reported when a page renders with it."""
        for template in [name] if name else PAGE_TEMPLATES:
            try:
                self.env.get_template(template)
            except (jinja2.TemplateError, UnicodeDecodeError, OSError):
                pass

    def transcript_page(self, transcript: Transcript, ctx: RenderContext) -> bytes:
        """A published transcript's page (the workers that read transcripts may render them as they go)."""
        if self._page[0] is not ctx:  # once a build, not a stat of the template for each of 10,000 pages
            self._page = (ctx, self.env.get_template("transcript.html"))
        path = transcript_page_path(transcript.path)
        return self._page[1].render(**self.common(ctx), page_path=path, transcript=transcript,
                                    version=transcript_version(transcript.path, ctx)).encode()

    def render(self, site: Site, archive: Archive, ctx: RenderContext) -> dict[str, bytes]:
        """Every output of the site: each one planned, then made."""
        common = self.common(ctx)
        return {path: self.make(path, planned, site, ctx, common)
                for path, planned in self.plan(site, archive, ctx).items()}

    def plan(self, site: Site, archive: Archive, ctx: RenderContext) -> dict[str, Planned]:
        """Every output of the site, by path, as what it is made from (make() makes it)."""
        config = ctx.config
        common = self.common(ctx)
        outputs: dict[str, Planned] = {f"assets/{name}": data for name, data in self._build[2].items()}
        personas = common["all_personas"]
        fresh = {p.slug: freshness(archive, p.slug, ctx.now, config) for p in personas}
        latest = {p.slug: archive.latest(role=p.slug, limit=1) for p in personas}
        head = lambda refs: quotes_head(len(refs), ctx.now, ctx.build_info.get("json"))  # noqa: E731
        months = pages_archive.months_by_role(archive, config.zone)
        trends = {p.slug: trend.monthly(months.get(p.slug, {}), config.tags, ctx.now, config.zone) for p in personas}
        heard = sorted(personas, key=lambda p: -fresh[p.slug].last_heard.timestamp() if fresh[p.slug].last_heard else 0)
        # The site's build time and commit: in build.json, which every page's footer reads; shown by the index, and
        # (the day only) by pages that count from today. No other page changes with the time or the commit (issue
        # 22): a new commit that leaves a persona's quotes as they were leaves its pages as they were. Their `build` is
        # empty, so a theme's footer copied from a version that gave them the commit still says the day.
        dated, built = dict(today=ctx.now.date(), build={}), ctx.built()
        outputs["build.json"] = (json.dumps({"built": ctx.now.isoformat(timespec="seconds"), **built,
                                             "text": built_text(ctx.now, built)}, ensure_ascii=False) + "\n").encode()
        recent = self._recent_dates(archive, ctx)
        outputs["index.html"] = Page("index.html", dict(
            dated, now=ctx.now, build=built, personas=heard, fresh=fresh, latest=latest, trends=trends,
            recent_dates=recent, recent_quotes=archive.latest(limit=6), total=len(archive)))
        words = phrases.Counting(archive, ctx.now, months, self.memo)  # counted when first asked for
        for persona in personas:
            base = f"personas/{persona.slug}/"
            counts = {tag: archive.count(role=persona.slug, tag=tag) for tag in config.tags}
            shared = dict(dated, persona=persona, fresh=fresh[persona.slug], tag_counts=counts,
                          total=archive.count(role=persona.slug), recent_dates=recent[persona.slug])
            # The latest N, and every quote any later day's "this quarter" may ask for (issue 19, item 4)
            in_quarter = archive.count(role=persona.slug, since=ctx.now - dt.timedelta(days=QUARTER_DAYS))
            quotes = archive.latest(role=persona.slug, limit=max(config.quotes_per_role, min(in_quarter, WINDOW_CAP)))
            outputs[base + "index.html"] = Page("persona.html", dict(
                shared, quotes=quotes, current_tag=None, months=pages_archive.month_index(months.get(persona.slug, {})),
                trend=trends[persona.slug], phrases=words.of(persona.slug)))
            for tag in config.tags:
                tagged = archive.latest(role=persona.slug, tag=tag, limit=config.quotes_per_role)
                outputs[f"{base}{tag}/index.html"] = Page("persona.html", dict(shared, quotes=tagged, current_tag=tag))
                outputs[f"{base}{tag}/feed.xml"] = Feed(persona, tagged, tag)
            refs = archive.refs(role=persona.slug)
            outputs[base + "quotes.json"] = QuotesFile(head(refs), refs, tuple(months.get(persona.slug, {}).values()))
            outputs[base + "feed.xml"] = Feed(persona, quotes[:config.quotes_per_role])  # the page keeps more
        outputs.update(_tag_pages(archive, ctx, dated))
        if config.publish_transcripts:
            outputs.update(_transcript_pages(site))
        refs = archive.refs()
        outputs["quotes.json"] = QuotesFile(head(refs), refs, tuple(month for _, month in archive.months(config.zone)))
        outputs["quotes/index.html"] = Page("quotes.html", dict(total=len(archive)))
        outputs.update(query_data(archive, ctx))  # the query page's data, by month (spec section 8)
        outputs["404.html"] = Page("404.html", {})

        def lazy_page(path: str, template: str, key: object, values: Callable[[], dict]) -> None:
            outputs[path] = LazyPage(template, key, values)

        # The archive by month and the company pages (every quote reachable by plain links)
        pages_archive.render_pages(site, archive, config, months, lazy_page, self._cards_of(ctx, common))
        return outputs

    def _cards_of(self, ctx: RenderContext, common: dict) -> Callable[[Quote], str]:
        """A quote's card as the month and company pages show it: the same on both, so made once (30,000 cards are
        seconds of Jinja), or not at all where the engine made it already (ctx.cards, ctx.card_memo)."""
        made, card = ctx.cards, self._card_maker(common)
        kept: MutableMapping[tuple, str] = ctx.card_memo if ctx.card_memo is not None else {}

        def card_of(quote: Quote) -> str:
            found = made.get(quote)
            if found is None:  # kept with its date's own offset: one instant written as +01:00 is not 09:00Z
                key = (quote, quote.date.utcoffset(), quote.date.tzinfo)
                found = kept.get(key)
                if found is None:
                    found = kept[key] = card(quote)
            return found

        return card_of

    def _card_maker(self, common: dict) -> Callable[[Quote], str]:
        """A quote's card as the month and company pages show it: the theme's quote_card, with its persona."""
        macros = self.env.get_template("_macros.html").make_module(common)
        return lambda quote: macros.quote_card(quote, True)

    def cards_for(self, ctx: RenderContext) -> Callable[[Transcript], list[tuple[Quote, str]]] | None:
        """Each of a transcript's quotes with its card as the month and company pages show it, for a transcript
        being read (by the worker that reads it: a transcript that reads is published); None when the theme's
        macros fail (the pages then make the cards, and report what failed)."""
        try:
            card = self._card_maker(self.common(replace(ctx, published=_EVERY_PATH)))
        except (jinja2.TemplateError, UnicodeDecodeError, OSError):
            return None

        def cards(transcript: Transcript) -> list[tuple[Quote, str]] | None:
            try:
                return [(quote, card(quote)) for quote in transcript.quotes]
            except Exception:  # noqa: BLE001 - a theme's own quote_card (or none): its pages make it, and say why
                return None

        return cards

    def make(self, path: str, planned: Planned, site: Site, ctx: RenderContext, common: dict) -> bytes:
        """One planned output's bytes."""
        if isinstance(planned, bytes):
            return planned
        if isinstance(planned, Page):
            return self.env.get_template(planned.template).render(**common, page_path=path, **planned.values).encode()
        if isinstance(planned, LazyPage):
            return self.env.get_template(planned.template).render(**common, page_path=path, **planned.values()).encode()
        if isinstance(planned, Feed):
            return self._feed(planned.persona, planned.quotes, ctx, common, planned.tag)
        if isinstance(planned, QuotesFile):
            return whole_document(planned.head, planned.refs)
        if isinstance(planned, QueryShard):
            return shard(planned.month, planned.refs, ctx.config, ctx.published)
        return self.transcript_page(site.transcripts.get(planned.source), ctx)

    @staticmethod
    def _recent_dates(archive: Archive, ctx: RenderContext) -> dict[str, list[str]]:
        """Each persona's quotes' instants of the last 30 days: the index counts them again when it is read."""
        since = ctx.now - dt.timedelta(days=30)
        return {role: _instants(archive.refs(role=role, since=since)) for role in ctx.personas}

    @staticmethod
    def _quote_view(quote: Quote, ctx: RenderContext) -> QuoteView:
        config = ctx.config
        persona = ctx.personas.get(quote.role)
        role_title = persona.title if persona else quote.role
        who = [role_title]
        if config.attribution == "name":
            who = [quote.speaker + (f", {quote.speaker_title}" if quote.speaker_title else ""), role_title]
        if config.attribution != "role" and quote.company:
            who.append(quote.company)
        iso, day, month = _dates(quote.date, quote.date.utcoffset(), quote.date_only, config.zone)
        link = None
        if config.publish_transcripts and quote.transcript in ctx.published:
            # The file's own name on disk, escaped in the address: a space or 'ü' in a file name is not a URL
            link = ctx.url(urllib.parse.quote(transcript_url_path(quote.transcript))) + f"#{quote.id}"
        company = quote.company if config.attribution != "role" else None
        speaker = quote.speaker if config.attribution == "name" else None
        cite = ", ".join(x for x in (speaker, quote.speaker_title or role_title, company) if x)
        return QuoteView(
            quote, role_title, " · ".join(who), company, speaker, quote.speaker_title, cite,
            quote.added_in[1] if quote.added_in else iso,
            # In context: its transcript when published, else its place on its month's archive page (issue 18, item 1)
            link or ctx.url(f"personas/{quote.role}/{month}/") + f"#{quote.id}",
            iso, day, link, ctx.url(f"personas/{quote.role}/"))

    def _feed(self, persona: Persona, quotes: list[Quote], ctx: RenderContext, common: dict,
              tag: str | None = None) -> bytes:
        """The Atom feed of a persona's latest quotes, or of its latest quotes with one tag."""
        config = ctx.config
        absolute = "://" in config.base_url
        home = f"personas/{persona.slug}/" + (f"{tag}/" if tag else "")

        def entry_id(quote: Quote) -> str:
            if absolute:
                return ctx.url(f"personas/{persona.slug}/") + f"#{quote.id}"
            return uuid.uuid5(uuid.NAMESPACE_URL, f"persona-site:{config.title}:{quote.id}").urn

        feed_id = (ctx.url(home) if absolute else uuid.uuid5(
            uuid.NAMESPACE_URL, f"persona-site:{config.title}:{persona.slug}" + (f"/{tag}" if tag else "")).urn)
        updated = quotes[0].date if quotes else ctx.now
        xml = self.env.get_template("feed.xml").render(
            **common, persona=persona, tag=tag, home=home, quotes=quotes, feed_id=feed_id, entry_id=entry_id,
            updated=updated.isoformat(timespec="seconds"),
        )
        return xml.encode()


TEMPLATE_SUFFIXES = (".html", ".htm", ".xml", ".j2", ".jinja", ".jinja2")
"""What check compiles in a theme's templates/ folder: notes, editor files and .DS_Store are no templates."""


def template_problems(theme: Theme) -> list[Diagnostic]:
    """The syntax errors `check` reports in a theme of the site's own (a build reports them as it renders): each
    of its templates compiled as a build compiles it, none rendered. The built-in templates are not compiled
    again: they are tested with the tool (and compiling all of them would add 0.2 s to every check)."""
    own = {path.relative_to(folder / "templates").as_posix(): path for folder in theme.folders if folder != BUILTIN_THEME
           for path in sorted((folder / "templates").rglob("*"))
           if path.is_file() and path.suffix in TEMPLATE_SUFFIXES and not path.name.startswith(".")}
    if not own:
        return []
    env = make_environment(theme)
    problems = []
    for name, path in own.items():
        try:
            env.get_template(name)
        except jinja2.TemplateError as exc:
            problems.append(template_problem(exc, theme))
        except (UnicodeDecodeError, OSError) as exc:
            problems.append(error(theme.own_path(str(path)), 0, f"this template could not be read: {exc}"))
    return problems


def template_problem(exc: Exception, theme: Theme) -> Diagnostic:
    """A theme bug as a diagnostic pointing at the template, not a traceback: a syntax error where it is, another
    (a missing template asked for, an error as a page is made, Jinja's or Python's) where the template that met it
    was (template_frame)."""
    name, line = getattr(exc, "filename", None), getattr(exc, "lineno", None) or 0
    if not isinstance(exc, jinja2.TemplateSyntaxError) and (found := template_frame(exc)) is not None:
        name, line = found
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"'{exc.name}' not found"
    elif isinstance(exc, jinja2.TemplateError):
        message = exc.message or str(exc)
    else:
        message = f"{exc} ({type(exc).__name__})"
    return error(theme.own_path(str(name or getattr(exc, "name", None) or "theme")), line,
                 f"the theme template failed: {message}")


def template_frame(exc: BaseException) -> tuple[str, int] | None:
    """(template file, line) of the last frame Jinja writes for a template's line in the traceback; None when the
    error was met outside any template."""
    found = None
    for frame, frame_line in traceback.walk_tb(exc.__traceback__):
        if "__jinja_exception__" in frame.f_globals:  # a frame standing for a template's line
            found = (frame.f_code.co_filename, frame_line)
    return found
