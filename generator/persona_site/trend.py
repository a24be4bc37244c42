"""The trend: a persona's quotes per month over the last 12 months, by tag (issue 19, item 3).

A quote with several tags is counted once, under its first tag, so the bars' heights are quotes and the
segments add up to them; the table beside the chart shows the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .archive import first_tags
from .model import QuoteRef

MONTHS = 12


@dataclass(frozen=True)
class TrendMonth:
    """One month of a persona's trend."""

    key: str
    """'2026-11': also the folder of the month's archive page."""
    label: str
    """'Nov 2026'."""
    count: int
    """Quotes that month."""
    by_tag: tuple[tuple[str, int], ...]
    """(tag, quotes whose first tag it is), in the vocabulary's order."""


def month_keys(now: dt.datetime, months: int = MONTHS) -> list[str]:
    """The last `months` calendar months up to now's (in now's zone), oldest first."""
    year, month = now.year, now.month
    keys = []
    for _ in range(months):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return keys[::-1]


def monthly(by_month: Mapping[str, Sequence[QuoteRef]], tags: Iterable[str], now: dt.datetime, zone: ZoneInfo,
            months: int = MONTHS) -> list[TrendMonth]:
    """Quotes per month by first tag for the last `months` months; `by_month`: the persona's quotes by calendar
    month in the site's zone ('2026-11', as pages_archive.months_by_role gives them)."""
    vocabulary = list(tags)
    found = []
    for key in month_keys(now.astimezone(zone), months):
        counts = dict.fromkeys(vocabulary, 0)
        counts.update(first_tags(by_month.get(key, ())))
        found.append(TrendMonth(key, f"{dt.date(int(key[:4]), int(key[5:]), 1):%b %Y}", sum(counts.values()),
                                tuple(counts.items())))
    return found
