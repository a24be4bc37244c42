"""Rendering: the archive and personas in, outputs (path -> bytes) out. Writes nothing."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import html
import json
import operator
import pickle
import re
import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import compress, count
from pathlib import Path

import jinja2

from . import pages_archive
from .archive import Archive
from .config import Config
from .model import Persona, Quote, QuoteRef, Site, Transcript

BUILTIN_THEME = Path(__file__).parent / "themes" / "default"
if not BUILTIN_THEME.is_dir():  # running from a source checkout (editable install)
    BUILTIN_THEME = Path(__file__).resolve().parents[2] / "themes" / "default"

NEW_DAYS = 14  # a quote committed this recently is marked new on its persona page
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Theme:
    """Where templates and static files come from: the user's theme first, then the built-in one."""

    folders: tuple[Path, ...]
    """Theme folders, the first one wins file by file."""

    @classmethod
    def for_site(cls, source: Path, name: str) -> "Theme":
        user = source / "themes" / name
        return cls((user, BUILTIN_THEME) if user.is_dir() else (BUILTIN_THEME,))

    def static_files(self) -> dict[str, bytes]:
        """Every static file, the user's theme first; never a link out of its theme folder."""
        files: dict[str, bytes] = {}
        for folder in reversed(self.folders):
            static = folder / "static"
            if static.is_dir():
                for path in sorted(static.rglob("*")):
                    if path.is_file() and path.resolve().is_relative_to(folder.resolve()):
                        files[path.relative_to(static).as_posix()] = path.read_bytes()
        return files


@dataclass(frozen=True)
class Freshness:
    """How recently a persona was heard from."""

    last_heard: dt.datetime | None
    days_ago: int | None
    recent: int
    stale: bool


@dataclass
class RenderContext:
    """Everything a page needs besides its own data."""

    config: Config
    now: dt.datetime
    personas: dict[str, Persona]
    published: set[str] = field(default_factory=set)
    live_reload: str = ""
    build_info: dict = field(default_factory=dict)

    def url(self, path: str = "") -> str:
        return self.config.base_url + path.lstrip("/")


def make_environment(theme: Theme, compiled: Path | None = None) -> jinja2.Environment:
    """The theme's templates; `compiled` keeps them compiled between runs (Jinja's bytecode cache, keyed by
    each template's source: compiling took half of a small rebuild)."""
    loader = jinja2.FileSystemLoader([str(folder / "templates") for folder in theme.folders])
    bytecode = None
    if compiled is not None:
        try:
            compiled.mkdir(parents=True, exist_ok=True)
            bytecode = jinja2.FileSystemBytecodeCache(str(compiled))
        except OSError:
            pass  # a cache we cannot write is no cache
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
    return jinja2.utils.markupsafe.Markup(_html_safe_json(json.dumps(value, ensure_ascii=False)).replace("'", "\\u0027"))


def freshness(archive: Archive, role: str, now: dt.datetime, config: Config) -> Freshness:
    newest = archive.latest(role=role, limit=1)
    recent = archive.count(role=role, since=now - dt.timedelta(days=30))
    if not newest:
        return Freshness(None, None, recent, True)
    days = days_ago(newest[0].date, now)
    return Freshness(newest[0].date, days, recent, days > config.stale_after_days)


def days_ago(when: dt.datetime, now: dt.datetime) -> int:
    """Calendar days in the site's zone: every "N days ago" changes only at midnight."""
    return (now.date() - when.astimezone(now.tzinfo).date()).days


def date_text(quote_or_transcript: Quote | Transcript) -> str:
    """The date as the spec's JSON writes it: YYYY-MM-DD, or an ISO date-time where one was given."""
    if quote_or_transcript.date_only:
        return quote_or_transcript.date.date().isoformat()
    return quote_or_transcript.date.isoformat()


def quote_json(quote: Quote, config: Config) -> dict:
    """A quote in JSON (spec section 6), honouring `attribution`."""
    return {
        "id": quote.id,
        "role": quote.role,
        "tags": list(quote.tags),
        "text": quote.text,
        "html": quote.html,
        "date": date_text(quote),
        "company": None if config.attribution == "role" else quote.company,
        "speaker": quote.speaker if config.attribution == "name" else None,
        "title": quote.speaker_title,
        "transcript": quote.transcript,
        "line": quote.line,
        "timestamp": quote.timestamp,
        "added_in": {"commit": quote.added_in[0], "date": quote.added_in[1]} if quote.added_in else None,
    }


def encode_quote(quote: Quote, config: Config, date: str | None = None) -> str:
    """One quote's line in a `*.json` file: json.dumps(quote_json(...)) written out, three times faster
    for 30,000 quotes (tests/test_site.py checks they agree). `date`: its date in JSON, when known."""
    text = _json_text
    added = quote.added_in
    return _html_safe_json(
        f'{{"id": {text(quote.id)}, "role": {text(quote.role)}, "tags": [{", ".join(map(text, quote.tags))}], '
        f'"text": {text(quote.text)}, "html": {text(quote.html)}, '
        f'"date": {date or text(date_text(quote))}, '
        f'"company": {"null" if config.attribution == "role" else _json_or_null(quote.company)}, '
        f'"speaker": {text(quote.speaker) if config.attribution == "name" else "null"}, '
        f'"title": {_json_or_null(quote.speaker_title)}, "transcript": {text(quote.transcript)}, '
        f'"line": {int(quote.line)}, "timestamp": {_json_or_null(quote.timestamp)}, '
        f'"added_in": {f"""{{"commit": {text(added[0])}, "date": {text(added[1])}}}""" if added else "null"}}}')


_json_text = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (ensure_ascii=False)


def _json_or_null(value: str | None) -> str:
    return "null" if value is None else _json_text(value)


def _html_safe_json(text: str) -> str:
    """The same JSON value with <, >, & and U+2028/9 escaped: safe even if someone embeds it in a page."""
    if "<" in text:  # a test each, and a replace only when needed: most lines need none
        text = text.replace("<", "\\u003c")
    if ">" in text:
        text = text.replace(">", "\\u003e")
    if "&" in text:
        text = text.replace("&", "\\u0026")
    if not text.isascii():
        text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text


def quote_refs(transcript: Transcript, config: Config) -> tuple[QuoteRef, ...]:
    """What the archive keeps of each quote of a transcript (its JSON line made once, as it is read)."""
    order = -transcript.date.timestamp()
    shared = (transcript.date, transcript.date_only)  # every quote's, as reader.read_transcript makes them
    date = _json_text(date_text(transcript))
    return tuple(QuoteRef((order, q.transcript, q.line, index, q.id, q.role, q.tags,
                           encode_quote(q, config, date if (q.date, q.date_only) == shared else None).encode()))
                 for index, q in enumerate(transcript.quotes))


def quotes_document(refs: list[QuoteRef], now: dt.datetime, extra: dict | None = None) -> bytes:
    """The `*.json` object: generated, count, quotes (spec section 6), one quote per line."""
    return _whole_document(quotes_head(len(refs), now, extra), refs)


def quotes_head(count: int, now: dt.datetime, extra: dict | None = None) -> bytes:
    """A `*.json` object up to its first quote."""
    head = {"generated": now.isoformat(timespec="seconds"), **(extra or {}), "count": count}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    return ("\n".join(lines) + '\n  "quotes": ' + ("[\n    " if count else "")).encode()


_JSON = operator.attrgetter("json")
_SEPARATOR, _TAIL, _EMPTY = b",\n    ", b"\n  ]\n}\n", b"[]\n}\n"


def _quotes_array(refs: list[QuoteRef]) -> bytes:
    return _SEPARATOR.join(map(_JSON, refs))


def _whole_document(head: bytes, refs: list[QuoteRef]) -> bytes:
    """head, the quotes and the tail in one join: 17 MB is not copied again to add a line before and after."""
    if not refs:
        return head + _EMPTY
    items = list(map(_JSON, refs))
    items[0] = head + items[0]
    items[-1] += _TAIL
    return _SEPARATOR.join(items)


def spliced_document(old_refs: list[QuoteRef], old: bytes, old_head: int, refs: list[QuoteRef], head: bytes) -> bytes:
    """quotes_document(refs) made from the document of old_refs (whose head is `old_head` bytes long): the quotes
    both lists begin and end with are copied, not joined again (one edit in 30,000 quotes: 15 ms, not 60)."""
    if not old_refs or not refs:
        return _whole_document(head, refs)
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
        groups.append(_quotes_array(refs[first:len(refs) - last]))
    if last:
        end = len(old) - len(_TAIL)
        groups.append(view[end - sum(map(len, map(_JSON, old_refs[len(old_refs) - last:])))
                           - (last - 1) * len(_SEPARATOR):end])
    return b"".join([head, _SEPARATOR.join(groups), _TAIL])


def _read_or_none(path: Path) -> bytes | None:
    """A file's bytes; None when it cannot be read (gone since listed, no permission: a page that uses it says so)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


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
                    self._data = _whole_document(self._head, self._refs)
                else:
                    self._data = spliced_document(*self._base, self._refs, self._head)
                self._base = None
            return self._data

    def base(self) -> tuple[list[QuoteRef], bytes, int] | None:
        """What the next document can be spliced from: this one once made, else what this one would be."""
        with self._lock:
            return (self._refs, self._data, len(self._head)) if self._data is not None else self._base


def transcript_url_path(doc_path: str) -> str:
    """transcripts/2026/acme.md -> transcripts/2026/acme/ (a transcript is always a .md file; string methods,
    as PurePosixPath took half a second for 10,000 published transcripts)."""
    folder, _, name = doc_path.rpartition("/")
    stem = name.rpartition(".")[0] if name.rfind(".") > 0 else name
    return f"{folder}/{stem}/" if folder else f"{stem}/"


PAGE_TEMPLATES = ("index.html", "persona.html", "tags.html", "tag.html", "feed.xml", "404.html", "transcript.html",
                  *pages_archive.PAGE_TEMPLATES)
"""The templates pages are rendered with (the others are what these include or extend)."""


class Renderer:
    """Turns one site into outputs; holds the Jinja environment between builds."""

    def __init__(self, theme: Theme, compiled: Path | None = None) -> None:
        self.theme = theme
        self.env = make_environment(theme, compiled)
        self._page_context: tuple[RenderContext | None, dict, jinja2.Template | None] = (None, {}, None)
        """The build transcript pages were last rendered for, what they all get, and their template."""
        self._made: dict[str, tuple[object, bytes]] = {}
        """Output path -> (what it was made from, its bytes), from the last render: a page whose inputs are the
        same is not rendered again (serve's rebuilds, where one edit changes a page or two)."""

    def _common(self, ctx: RenderContext) -> tuple[dict, dict[str, bytes]]:
        """What every page gets, and the static files (their hash versions the asset URLs)."""
        static = self.theme.static_files()
        version = hashlib.sha256(b"".join(static[k] for k in sorted(static))).hexdigest()[:8]
        common = {
            "site": ctx.config, "now": ctx.now, "url": ctx.url, "tags": ctx.config.tags, "asset_version": version,
            "all_personas": sorted(ctx.personas.values(), key=lambda p: p.title.casefold()),
            "persona_by_slug": ctx.personas, "live_reload": ctx.live_reload,
            "build": ctx.build_info, "quote_view": lambda q: self._quote_view(q, ctx),
        }
        return common, static

    def compile(self, name: str | None = None) -> None:
        """Load one template (or every page template) now, while there is time: the main process compiles them
        as the workers parse. A broken or unreadable template is reported when a page renders with it."""
        for template in [name] if name else PAGE_TEMPLATES:
            try:
                self.env.get_template(template)
            except (jinja2.TemplateError, UnicodeDecodeError, OSError):
                pass

    def transcript_page(self, transcript: Transcript, ctx: RenderContext) -> bytes:
        """A published transcript's page (the workers that read transcripts render them as they go)."""
        if self._page_context[0] is not ctx:  # a new build: templates may have been edited since the last
            self._page_context = (ctx, self._common(ctx)[0], self.env.get_template("transcript.html"))
        path = transcript_url_path(transcript.path) + "index.html"
        return self._page_context[2].render(**self._page_context[1], page_path=path, transcript=transcript).encode()

    def render(self, site: Site, archive: Archive, ctx: RenderContext, pages: dict[str, bytes] | None = None,
               defer: bool = False) -> dict[str, bytes]:
        """Every output; `pages` holds transcripts' pages already made (by the workers that read them).

        With `defer` (serve), the JSON files are Deferred: made when first asked for; and what each output was
        made from is remembered, so that the next render keeps the outputs whose inputs are the same."""
        config = ctx.config
        outputs: dict[str, bytes] = {}
        common, static = self._common(ctx)
        for name, data in static.items():
            outputs[f"assets/{name}"] = data
        personas = common["all_personas"]
        fresh = {p.slug: freshness(archive, p.slug, ctx.now, config) for p in personas}
        pages = pages or {}
        made, self._made = self._made, {}
        inputs = self._inputs(ctx, common["asset_version"]) if defer else b""

        def remember(path: str, key: object, make: Callable[[], bytes]) -> bytes:
            if not defer:  # one build (the build command): nothing to remember for
                return make()
            last = made.get(path)
            data = last[1] if last is not None and last[0] == key else make()
            self._made[path] = (key, data)
            return data

        def page(path: str, template: str, **values: object) -> None:
            key = pickle.dumps((inputs, template, values), pickle.HIGHEST_PROTOCOL) if defer else None
            outputs[path] = remember(path, key, lambda: self.env.get_template(template).render(
                **common, page_path=path, **values).encode())

        def document(path: str, refs: list[QuoteRef]) -> None:
            head = quotes_head(len(refs), ctx.now, extra)
            if not defer:
                outputs[path] = _whole_document(head, refs)
                return
            last = made.get(path)
            if last is not None and last[0] == (head, refs):
                data = last[1]
            else:
                data = Deferred(head, refs, last[1].base() if last is not None else None)
            self._made[path] = ((head, refs), data)
            outputs[path] = data

        latest = {p.slug: archive.latest(role=p.slug, limit=1) for p in personas}
        months = pages_archive.months_by_role(archive, config.zone)
        extra = ctx.build_info.get("json")
        page("index.html", "index.html", personas=personas, fresh=fresh, latest=latest,
             recent_quotes=archive.latest(limit=6), total=len(archive))
        for persona in personas:
            base = f"personas/{persona.slug}/"
            quotes = archive.latest(role=persona.slug, limit=config.quotes_per_role)
            counts = {tag: archive.count(role=persona.slug, tag=tag) for tag in config.tags}
            page(base + "index.html", "persona.html", persona=persona, quotes=quotes, fresh=fresh[persona.slug],
                 tag_counts=counts, total=archive.count(role=persona.slug), current_tag=None,
                 months=pages_archive.month_index(months.get(persona.slug, {})))
            for tag in config.tags:
                tagged = archive.latest(role=persona.slug, tag=tag, limit=config.quotes_per_role)
                page(f"{base}{tag}/index.html", "persona.html", persona=persona, fresh=fresh[persona.slug],
                     quotes=tagged, tag_counts=counts, total=archive.count(role=persona.slug), current_tag=tag)
                outputs[f"{base}{tag}/feed.xml"] = remember(  # issue 18: a feed per persona and tag
                    f"{base}{tag}/feed.xml", defer and pickle.dumps((inputs, persona, tag, tagged)),
                    lambda: self._feed(persona, tagged, ctx, common, tag))
            document(base + "quotes.json", archive.refs(role=persona.slug))
            outputs[base + "feed.xml"] = remember(base + "feed.xml", defer and pickle.dumps((inputs, persona, quotes)),
                                                  lambda: self._feed(persona, quotes, ctx, common))
        tag_counts = {tag: archive.count(tag=tag) for tag in config.tags}
        page("tags/index.html", "tags.html", tag_counts=tag_counts)
        for tag, label in config.tags.items():
            page(f"tags/{tag}/index.html", "tag.html", tag=tag, label=label,
                 quotes=archive.latest(tag=tag, limit=config.quotes_per_role), total=tag_counts[tag])
        if config.publish_transcripts:
            for source in site.transcripts.paths:  # made by a worker, else from the cache
                path = transcript_url_path(source) + "index.html"
                outputs[path] = remember(path, defer and (inputs, site.transcripts.stored(source)), lambda: (
                    pages[source] if source in pages else self.transcript_page(site.transcripts.get(source), ctx)))
        document("quotes.json", archive.refs())
        page("404.html", "404.html")

        def lazy_page(path: str, template: str, key: object, values: Callable[[], dict]) -> None:
            outputs[path] = remember(path, defer and (inputs, template, key), lambda: self.env.get_template(
                template).render(**common, page_path=path, **values()).encode())

        # Issue 18: the archive by month and the company pages (every quote reachable by plain links). A quote's
        # card is the same on both: made once (30,000 cards are seconds of Jinja).
        macros = self.env.get_template("_macros.html").make_module(common)
        pages_archive.render_pages(site, archive, config, months, personas, lazy_page,
                                   functools.lru_cache(maxsize=None)(lambda quote: macros.quote_card(quote, True)))
        return outputs

    def _inputs(self, ctx: RenderContext, asset_version: str) -> bytes:
        """All a page is made from besides its own values: the build's context and the theme's templates
        (included and extended ones too: a dozen small files, read each time)."""
        templates = [(str(path), _read_or_none(path)) for folder in self.theme.folders
                     for path in sorted((folder / "templates").rglob("*")) if path.is_file()]
        published = hashlib.sha256("\0".join(sorted(ctx.published)).encode()).digest()
        return pickle.dumps((templates, asset_version, ctx.config, ctx.now, ctx.personas, published, ctx.live_reload,
                             ctx.build_info), pickle.HIGHEST_PROTOCOL)

    def _quote_view(self, quote: Quote, ctx: RenderContext) -> dict:
        config = ctx.config
        persona = ctx.personas.get(quote.role)
        role_title = persona.title if persona else quote.role
        who = [role_title]
        if config.attribution == "name":
            who = [quote.speaker + (f", {quote.speaker_title}" if quote.speaker_title else ""), role_title]
        if config.attribution != "role" and quote.company:
            who.append(quote.company)
        local = quote.date.astimezone(config.zone)
        link = None
        if config.publish_transcripts and quote.transcript in ctx.published:
            # The file's own name on disk, escaped in the address: a space or 'ü' in a file name is not a URL
            link = ctx.url(urllib.parse.quote(transcript_url_path(quote.transcript))) + f"#{quote.id}"
        return {
            "quote": quote, "role_title": role_title, "who": " · ".join(who),
            "date_iso": date_text(quote), "date_display": f"{local.day} {local:%b %Y}",
            "transcript_url": link, "role_url": ctx.url(f"personas/{quote.role}/"),
            "is_new": bool(quote.added_in) and days_ago(dt.datetime.fromisoformat(quote.added_in[1]), ctx.now) <= NEW_DAYS,
        }

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
