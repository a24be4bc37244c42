"""Every quote reachable by plain links (issue 18): a persona's archive by month, and the companies.

    personas/<role>/<yyyy-mm>/   every quote of the persona in that month, in the site's order
    companies/                   every company, most recently heard first
    companies/<slug>/            every quote from one company, by call, newest call first

Months are calendar months in the site's `timezone`, as the query page's `since=2026-11` means them.
With `attribution = "role"` companies are withheld: no company pages, no links to them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
import re
import unicodedata
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from itertools import chain
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from .archive import Archive, lines_digest
from .basics import Diagnostic, error, moved
from .config import Config
from .model import Quote, QuoteRef, Site, TranscriptHead, Transcripts, transcript_url_path

T = TypeVar("T")

PAGE_TEMPLATES = ("month.html", "companies.html", "company.html")
"""The templates this module's pages are rendered with."""

Page = Callable[[str, str, object, Callable[[], dict]], None]
"""page(path, template, key, values): render `template` with values() at `path`; `key` is all the values are
made from (a page whose key is unchanged since the last render is not made again, and values() not called)."""


@dataclass(frozen=True)
class Month:
    """One month of a persona's archive."""

    key: str
    """'2026-11': the folder of its page."""
    label: str
    """'November 2026'."""
    count: int
    """How many quotes the persona gave that month."""


class Call(NamedTuple):
    """One transcript of a company, as its company page lists it (a named tuple: 10,000 are made a build)."""

    path: str
    """The transcript's path relative to content/."""
    anchor: str
    """The id of its section on the company page."""
    title: str
    date: dt.datetime
    roles: tuple[str, ...]
    """The personas met (role slugs, in the order the front matter names them)."""
    quotes: tuple[Quote, ...]
    """Its quotes, on its company's page (Company.with_quotes); empty in the list of companies."""
    page: str
    """Its page's address under base_url (a page only with publish_transcripts)."""
    count: int
    """How many quotes it has."""
    day: str
    """Its date as the page shows it: '2 Nov 2026' (in the zone its front matter gives)."""


@dataclass(frozen=True)
class Company:
    """A company and its calls, newest first (the site's order: date, then path)."""

    slug: str
    name: str
    heads: tuple[TranscriptHead, ...]
    """Its transcripts' heads, newest first: all the list of companies asks (its calls are made for its page)."""
    transcripts: Transcripts | None = field(default=None, compare=False, repr=False)
    """Where its calls' quotes come from (with_quotes: for its own page)."""

    @property
    def last_heard(self) -> dt.datetime:
        return self.heads[0].date

    @cached_property
    def quote_count(self) -> int:
        return sum(map(_QUOTES, self.heads))

    @cached_property
    def order(self) -> tuple:
        """Its place in the list of companies: most recently heard first, then by name."""
        return -self.last_heard.timestamp(), self.name.casefold(), self.slug

    @cached_property
    def key(self) -> bytes:
        """What its page is made from, as one digest: its slug and name, and each call's version (a SHA-1 of all of
        it, its head too), newest first. Kept with the company, which an index patched for other companies keeps
        (serve: 15,000 at 100,000 transcripts); a digest, not the tuple of versions, so that a build compares
        15,000 of them without pickling each (0.2 s of a one-file rebuild at 100,000)."""
        return hashlib.sha256(b"".join((repr((self.slug, self.name)).encode(), *map(_VERSION, self.heads)))).digest()

    @cached_property
    def summary(self) -> tuple:
        """All the list of companies shows of it (the key of that page)."""
        return self.slug, self.name, self.last_heard.isoformat(), len(self.heads), self.quote_count, self.roles

    @cached_property
    def roles(self) -> tuple[str, ...]:
        """Every persona met, each once, in the order first met (newest call first)."""
        return tuple(dict.fromkeys(chain.from_iterable(map(_ROLES, self.heads))))

    def with_quotes(self, transcripts: Transcripts) -> Company:
        """The company whose calls have their quotes (for its page: only its own transcripts are unpickled)."""
        return replace(self, transcripts=transcripts)

    @cached_property
    def calls(self) -> tuple[Call, ...]:
        """Its calls, each with the id of its section on the page (the file's name, made unique)."""
        anchors: dict[str, int] = {}
        made = []
        for head in self.heads:
            anchor = "call-" + (_NOT_SLUG.sub("-", head.path.lower().removesuffix(".md")).strip("-") or "x")
            anchors[anchor] = anchors.get(anchor, 0) + 1
            if anchors[anchor] > 1:
                anchor += f"-{anchors[anchor]}"
            quotes = self.transcripts.get(head.path).quotes if self.transcripts is not None else ()
            made.append(Call(head.path, anchor, head.title, head.date, head.roles, quotes,
                             urllib.parse.quote(transcript_url_path(head.path)), head.quotes,
                             f"{head.date.day} {head.date:%b %Y}"))
        return tuple(made)


_LETTERS = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ß": "ss", "đ": "d",
                          "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th", "ı": "i"})
"""Latin letters that are not a letter plus an accent (NFKD leaves them whole), as they are usually written."""


MAX_SLUG = 200
"""The longest a company's slug is (a folder's name holds 255 bytes on most disks): a longer one keeps its start and
a digest of the whole name (slugs no longer are as they were)."""


@lru_cache(maxsize=1 << 16)  # a pure function of the name, asked twice a build for each of 10,000 transcripts
def company_slug(name: str) -> str:
    """_slug_of(name), at most MAX_SLUG characters."""
    slug = _slug_of(name)
    if len(slug) <= MAX_SLUG:
        return slug
    digest = hashlib.sha256(slug.encode("ascii")).hexdigest()[:12]  # names one slug folds together stay one
    return f"{slug[:MAX_SLUG - 13].rstrip('-')}-{digest}"


def _slug_of(name: str) -> str:
    """'Café & Co.' -> 'cafe-co': lower case, accents folded, anything else between words a '-'; a letter or digit
    outside Latin script beside Latin ones as its code point ('Acme 日本' -> 'acme-65e5-672c', not the 'acme' of
    'Acme 中国'). A name with no letter or digit in Latin script gets one made from all its characters' code points."""
    nfc = unicodedata.normalize("NFC", name)
    folded = _ascii(name.translate(_LETTERS)).lower()
    slug = _NOT_SLUG.sub("-", folded).strip("-")
    if not slug:
        return "c-" + "-".join(f"{ord(ch):x}" for ch in nfc if not ch.isspace())
    if nfc.isascii() or not any(map(_spelt, nfc)):
        return slug
    spelt = "".join(f"-{ord(ch):x}-" if _spelt(ch) else ch for ch in nfc)
    return _NOT_SLUG.sub("-", _ascii(spelt.translate(_LETTERS)).lower()).strip("-")


def _spelt(ch: str) -> bool:
    """Whether a slug spells ch as its code point: a letter or digit outside Latin script that folds to no ASCII.
    Latin letters that do not fold ('ð', 'ħ', 'ŋ', 'µ') and modifier letters (the ʻokina of 'Hawaiʻi') are left out,
    as slugs always left them."""
    return (ch.isalnum() and not _ascii(ch.translate(_LETTERS)) and ord(ch) >= _LATIN_END
            and not unicodedata.name(ch, "").startswith(("LATIN ", "MODIFIER LETTER ")))


_LATIN_END = 0x250
"""Where Latin-1, Latin Extended-A and -B end: a letter before it is Latin ('µ', 'ª' and 'º' too)."""


def _ascii(text: str) -> str:
    """The text with accents folded, and what is not ASCII then left out."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1024)  # strftime's %B: 700 a build
def month_label(key: str) -> str:
    year, month = key.split("-")
    return f"{dt.date(int(year), int(month), 1):%B} {year}"


def months_by_role(archive: Archive, zone: ZoneInfo) -> dict[str, dict[str, list[QuoteRef]]]:
    """Role -> month -> its refs, newest month first and each month's quotes in the site's order (the roles in the
    order of their newest quote)."""
    mine = {role: archive.months(zone, role) for role in archive.roles()}
    return {role: dict(mine[role]) for role in sorted(mine, key=lambda role: mine[role][0][1][0])}


def month_index(months: dict[str, list[QuoteRef]]) -> list[tuple[str, list[Month]]]:
    """A persona's months for its page's index, by year: newest first."""
    years: dict[str, list[Month]] = {}
    for key, refs in months.items():
        years.setdefault(key[:4], []).append(Month(key, month_label(key), len(refs)))
    return list(years.items())


class CompanyIndex:
    """Every company named by a transcript: its transcripts' heads by the company's slug, each company's in the
    site's order (newest first, then by path: spec section 6); and the companies, most recently heard first (then
    by name). The slugs' own order says nothing."""

    def __init__(self, by_slug: dict[str, tuple[TranscriptHead, ...]],
                 earlier: dict[str, Company] | None = None, mixed: frozenset[str] | None = None) -> None:
        self.by_slug = by_slug
        self._earlier = earlier or {}
        """An earlier index's companies: one whose heads are the very same is kept, with what it has counted."""
        if mixed is not None:
            self.mixed = mixed

    @classmethod
    def of(cls, heads: Iterable[TranscriptHead]) -> CompanyIndex:
        """The index of these heads: grouped by company name, then each name's slug made once (100,000 heads of
        15,000 companies), and the slugs two names share found on the way."""
        by_company: defaultdict[str, list[TranscriptHead]] = defaultdict(list)
        for head in _newest_first(list(filter(_COMPANY, heads)), _PATH, _DATE):
            by_company[head.company].append(head)
        by_slug: dict[str, tuple[TranscriptHead, ...]] = {}
        mixed = set()
        for company, found in by_company.items():
            slug = company_slug(company)
            if slug in by_slug:  # another name's too: the heads of both, in the site's order
                mixed.add(slug)
                found = _newest_first([*by_slug[slug], *found], _PATH, _DATE)
            by_slug[slug] = tuple(found)
        return cls(by_slug, mixed=frozenset(mixed))

    def patched(self, removed: Collection[TranscriptHead], added: Collection[TranscriptHead]) -> CompanyIndex:
        """The index with the heads `removed` gone and `added` in (serve's rebuilds: only the companies they
        name are grouped again, and moved in the list of companies); the same as `of` all the heads then."""
        gone = {head.path for head in removed}
        affected = {company_slug(head.company) for head in chain(removed, added) if head.company}
        by_slug = dict(self.by_slug)
        for slug in affected:
            heads = [head for head in by_slug.pop(slug, ()) if head.path not in gone]
            heads += [head for head in added if head.company and company_slug(head.company) == slug]
            if heads:
                by_slug[slug] = tuple(_newest_first(heads, _PATH, _DATE))
        mixed = self.__dict__.get("mixed")
        if mixed is not None:
            mixed = (mixed - affected) | {slug for slug in affected if slug in by_slug and _two_ways(by_slug[slug])}
        index = CompanyIndex(by_slug, self.__dict__.get("_companies"), mixed)
        if "_companies" in self.__dict__:
            index._moved(self, affected)
        return index

    def _moved(self, earlier: CompanyIndex, affected: set[str]) -> None:
        """Its companies as `earlier`'s with those of the `affected` slugs made again and moved to their place in
        the list (sorting 15,000 companies, and comparing each one's heads, took 15 ms of a rebuild)."""
        made = dict(earlier._companies)
        listed = earlier.__dict__.get("companies")
        listed = None if listed is None else listed[:]
        for slug in affected:
            old, heads = made.pop(slug, None), self.by_slug.get(slug)
            new = None if heads is None else old if old is not None and old.heads == heads else \
                Company(slug, heads[0].company, heads)
            if new is not None:
                made[slug] = new
            if listed is not None and old is not new and moved(listed, old, new, _ORDER) is None:
                listed = None  # never: each company's order is its own
        self._earlier = {}
        self.__dict__["_companies"] = made
        if listed is not None:
            self.__dict__["companies"] = listed

    @cached_property
    def mixed(self) -> frozenset[str]:
        """The slugs whose company is written more than one way ('Acme Corp', 'ACME Corp.'): an error."""
        return frozenset(slug for slug, heads in self.by_slug.items() if _two_ways(heads))

    @cached_property
    def _companies(self) -> dict[str, Company]:
        earlier, self._earlier = self._earlier, {}
        made = {}
        for slug, heads in self.by_slug.items():
            company = earlier.get(slug)
            made[slug] = company if company is not None and company.heads == heads else \
                Company(slug, heads[0].company, heads)
        return made

    @cached_property
    def companies(self) -> list[Company]:
        """Every company, most recently heard first (then by name); its calls' quotes are loaded for its own page
        (Company.with_quotes)."""
        return sorted(self._companies.values(), key=_ORDER)


def _newest_first(items: list[T], path: Callable[[T], str], date: Callable[[T], dt.datetime]) -> list[T]:
    """`items` in the site's order, newest first, then by path (sorted by path, then by date: a stable sort keeps
    the paths' order among equal dates)."""
    items.sort(key=path)
    items.sort(key=date, reverse=True)
    return items


def _two_ways(heads: tuple[TranscriptHead, ...]) -> bool:
    return len(set(map(_COMPANY, heads))) > 1


def company_index(site: Site) -> CompanyIndex:
    """The site's companies: as its engine keeps them (site.companies), else grouped from its transcripts."""
    return site.companies if site.companies is not None else _index_of(site.transcripts)


@lru_cache(maxsize=1)  # a build asks twice: its check, then its pages
def _index_of(transcripts: Transcripts) -> CompanyIndex:
    return CompanyIndex.of(map(transcripts.head, transcripts.paths))


# A head's fields (and a company's place), got in C: the steps over every transcript of a build (10,000 at a time in
# serve's rebuilds)
_PATH, _DATE, _COMPANY, _VERSION, _QUOTES, _ROLES, _ORDER = map(operator.attrgetter, (
    "path", "date", "company", "version", "quotes", "roles", "order"))


def company_collisions(site: Site, config: Config) -> list[Diagnostic]:
    """Two company names that would share one page (`Acme Corp`, `ACME Corp.`): an error at each transcript's
    `company:` line but the first one's, as other output collisions are."""
    if config.attribution == "role":
        return []  # no company pages
    problems = []
    index = company_index(site)
    for slug in sorted(index.mixed):
        heads = sorted(index.by_slug[slug], key=lambda head: head.path)
        first = heads[0]
        for head in heads[1:]:
            if head.company != first.company:
                problems.append(error(f"content/{head.path}", head.company_line or 1,
                                      f"the company '{head.company}' and '{first.company}' "
                                      f"(content/{first.path}:{first.company_line or 1}) would have the same page "
                                      f"(companies/{slug}/): write the name one way"))
    return problems


def render_pages(site: Site, archive: Archive, config: Config, months: dict[str, dict[str, list[QuoteRef]]],
                 page: Page, card: Callable[[Quote], str]) -> None:
    """The month pages of every persona, and (unless companies are withheld) the company pages; `card` is a
    quote's card (the theme's quote_card)."""
    for persona in site.personas:
        mine = months.get(persona.slug, {})
        keys = list(mine)
        for i, key in enumerate(keys):
            refs = mine[key]
            newer = Month(keys[i - 1], month_label(keys[i - 1]), len(mine[keys[i - 1]])) if i else None
            older = Month(keys[i + 1], month_label(keys[i + 1]), len(mine[keys[i + 1]])) if i + 1 < len(keys) else None
            month = Month(key, month_label(key), len(refs))
            # A quote's JSON line holds all its card shows: one digest of the month's lines stands for its quotes
            page(f"personas/{persona.slug}/{key}/index.html", "month.html",
                 (persona, month, newer, older, lines_digest(refs)),
                 lambda refs=refs, month=month, newer=newer, older=older, persona=persona: {
                     "persona": persona, "month": month, "newer": newer, "older": older, "card": card,
                     "quotes": [archive.load(ref) for ref in refs]})
    if config.attribution == "role":
        return
    found = company_index(site).companies
    summary = [company.summary for company in found]
    page("companies/index.html", "companies.html", summary, lambda: {"companies": found})
    for company in found:
        page(f"companies/{company.slug}/index.html", "company.html", company.key,
             lambda company=company: {"company": company.with_quotes(site.transcripts), "card": card})
