"""What a query means (spec section 8): time words, and which quotes pass the filters.

One meaning in the terminal and in the browser: `persona-site quotes` asks this module, and the query
page's script (themes/default/static/query.js) implements the same rules line for line; a test runs a
table of queries both ways at a pinned clock (tests/test_query_browser.py).

Pure: "now" (an aware date-time in the site's zone) is always passed in.

- A time word W names a period [start, end) in now's zone: `this-month`, `last-month`, `this-quarter`,
  `last-quarter`, `this-year` (calendar periods), `Nd` / `Nw` / `Nm` (the last N days, weeks or calendar
  months counted back from now, ending now), `YYYY`, `YYYY-MM`, `YYYY-MM-DD`.
- since=W keeps quotes on or after W's start; until=W keeps quotes before W's end (on or before its last day).
- Tags: a quote passes with any of the tags asked for.
- Company: equal after lower-casing (NFC), so 'acme corp' finds 'Acme Corp'.
- Words: every word, lower-cased and with accents dropped (NFKD, marks removed), appears somewhere in
  the quote's text or its company, as a whole word or part of one ('forecast' finds 'forecasting'); a curly
  apostrophe is a straight one, and quote marks around words are not searched for.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass

from .archive import Archive
from .model import QuoteRef

TIME_WORDS_HELP = ("this-month, last-month, this-quarter, last-quarter, this-year, "
                   "30d, 2w, 3m, 2026, 2026-11 or 2026-11-15")
_RELATIVE = re.compile(r"([0-9]{1,4})([dwm])")  # ASCII digits, as the page's script reads them
_CALENDAR = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


class TimeWordError(ValueError):
    """A time word that is not one of TIME_WORDS_HELP."""


def period(word: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The period a time word names, [start, end), as aware date-times in now's zone; the end None past the last
    date Python holds (the end of 9999: until=9999 keeps every quote, as the page's script reads it)."""
    word = word.strip().lower()
    wall = now.replace(tzinfo=None)
    zone = now.tzinfo
    if match := _RELATIVE.fullmatch(word):
        n, unit = int(match[1]), match[2]
        if unit == "m":
            if n >= wall.year * 12:
                raise TimeWordError(f"'{word}' reaches back before the year 1: use {TIME_WORDS_HELP}")
            start = _local(_add_months(wall, -n), zone)
        else:
            start = now - dt.timedelta(days=n * (7 if unit == "w" else 1))
        return start, now
    month_start = dt.datetime(wall.year, wall.month, 1)
    quarter_start = dt.datetime(wall.year, 3 * ((wall.month - 1) // 3) + 1, 1)
    named = {
        "this-month": (month_start, _add_months(month_start, 1)),
        "last-month": (_add_months(month_start, -1), month_start),
        "this-quarter": (quarter_start, _add_months(quarter_start, 3)),
        "last-quarter": (_add_months(quarter_start, -3), quarter_start),
        "this-year": (dt.datetime(wall.year, 1, 1), dt.datetime(wall.year + 1, 1, 1)),
    }
    if word in named:
        start, end = named[word]
        return _local(start, zone), _local(end, zone)
    if match := _CALENDAR.fullmatch(word):
        year, month, day = int(match[1]), match[2], match[3]
        try:  # the year 0, 2026-13, 2026-02-30: not a date (ValueError)
            start = dt.datetime(year, int(month or 1), int(day or 1))
        except ValueError:
            start = None
        if start is not None:
            try:
                end = start + dt.timedelta(days=1) if day else _add_months(start, 1 if month else 12)
            except (ValueError, OverflowError):  # past 9999-12-31
                return _local(start, zone), None
            return _local(start, zone), _local(end, zone)
    raise TimeWordError(f"'{word}' is not a time: use {TIME_WORDS_HELP}")


def _local(wall: dt.datetime, zone: dt.tzinfo | None) -> dt.datetime:
    return wall.replace(tzinfo=zone)


def _add_months(wall: dt.datetime, months: int) -> dt.datetime:
    """The same wall-clock time `months` calendar months away; the 31st becomes the month's last day."""
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    next_month = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (next_month - dt.timedelta(days=1)).day
    return wall.replace(year=year, month=month + 1, day=min(wall.day, last_day))


def fold(text: str) -> str:
    """Lower case without accents, a curly apostrophe straight: 'Façade' -> 'facade', 'It’s' -> "it's" (query.js:
    toLowerCase, the apostrophes, NFKD, drop \\p{M})."""
    lowered = text.lower().translate(_APOSTROPHES)
    return "".join(c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.category(c).startswith("M"))


_APOSTROPHES = str.maketrans(dict.fromkeys("’‘ʼ", "'"))
_QUOTE_MARKS = "\"'“”„«»"
"""Taken off a searched word's ends: '"trust the forecast"' searches for its three words (query.js: QUOTE_MARKS)."""


def words_of(text: str) -> list[str]:
    """The words a search asks for, folded, quote marks off their ends."""
    return [word for word in (w.strip(_QUOTE_MARKS) for w in fold(text).split()) if word]


def same_company(a: str, b: str) -> bool:
    """Companies compared case-insensitively (spec section 8)."""
    return unicodedata.normalize("NFC", a).lower() == unicodedata.normalize("NFC", b).lower()


@dataclass(frozen=True)
class Query:
    """The filters of a query, as the address and the command line give them (role: a persona slug)."""

    role: str | None = None
    tags: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    company: str | None = None
    text: str | None = None

    def address(self) -> str:
        """The query page's address under base_url: quotes/?role=...&tag=...&since=... (as the page writes it)."""
        pairs = [("role", self.role), *(("tag", t) for t in self.tags), ("since", self.since),
                 ("until", self.until), ("company", self.company), ("q", self.text)]
        params = urllib.parse.urlencode([(k, v) for k, v in pairs if v])
        return "quotes/" + (f"?{params}" if params else "")

    def bounds(self, now: dt.datetime) -> tuple[dt.datetime | None, dt.datetime | None]:
        """The earliest date-time kept, and the one from which on none is (raises TimeWordError)."""
        start = period(self.since, now)[0] if self.since else None
        end = period(self.until, now)[1] if self.until else None
        return start, end

    def matcher(self, now: dt.datetime) -> Callable[[str, tuple[str, ...], float, str | None, str], bool]:
        """matches(role, tags, timestamp, company, text): whether a quote passes every filter."""
        start, end = self.bounds(now)
        low = start.timestamp() if start else None
        high = end.timestamp() if end else None
        words = words_of(self.text or "")
        tags = set(self.tags)

        def matches(role: str, quote_tags: tuple[str, ...], when: float, company: str | None, text: str) -> bool:
            if self.role and role != self.role:
                return False
            if tags and tags.isdisjoint(quote_tags):
                return False
            if (low is not None and when < low) or (high is not None and when >= high):
                return False
            if self.company and (company is None or not same_company(company, self.company)):
                return False
            if words:
                haystack = fold(text + "\n" + (company or ""))
                return all(word in haystack for word in words)
            return True

        return matches


def select(archive: Archive, query: Query, now: dt.datetime) -> list[QuoteRef]:
    """Every quote the query finds, in the site's order (spec section 6)."""
    start, _ = query.bounds(now)
    pool = archive.refs(role=query.role, tag=query.tags[0] if len(query.tags) == 1 else None, since=start)
    matches = query.matcher(now)
    needs_quote = bool(query.company or query.text)
    found = []
    for ref in pool:
        company, text = None, ""
        if needs_quote:  # the words and the company are in the quote's JSON line, read only when asked for
            data = json.loads(ref.json)
            company, text = data["company"], data["text"]
        if matches(ref.role, ref.tags, -ref.order, company, text):
            found.append(ref)
    return found
