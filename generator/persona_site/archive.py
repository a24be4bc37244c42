"""The archive: every quote in the spec's order, answering 'latest N for role R / tag T since D'.

Role pages, tag pages, feeds, JSON and the `quotes` command all ask it; none sorts
on its own (spec section 6: newest first, then transcript path, then line).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from .model import Quote


def spec_order(quote: Quote) -> tuple[float, str, int]:
    """Sort key: newest first, then transcript path ascending, then line ascending."""
    return (-quote.date.timestamp(), quote.transcript, quote.line)


class Archive:
    """The queryable collection of quotes."""

    def __init__(self, quotes: Iterable[Quote]) -> None:
        stamps: dict[int, float] = {}  # a transcript's quotes share one date: convert it once, not per quote

        def order(quote: Quote) -> tuple[float, str, int]:
            stamp = stamps.get(id(quote.date))
            if stamp is None:
                stamp = stamps[id(quote.date)] = -quote.date.timestamp()
            return (stamp, quote.transcript, quote.line)

        self._all: list[Quote] = sorted(quotes, key=order)
        self._by_role: dict[str, list[Quote]] = defaultdict(list)
        self._by_tag: dict[str, list[Quote]] = defaultdict(list)
        self._by_role_tag: dict[tuple[str, str], list[Quote]] = defaultdict(list)
        for quote in self._all:
            self._by_role[quote.role].append(quote)
            for tag in quote.tags:
                self._by_tag[tag].append(quote)
                self._by_role_tag[quote.role, tag].append(quote)

    def __len__(self) -> int:
        return len(self._all)

    def latest(self, role: str | None = None, tag: str | None = None,
               since: dt.datetime | None = None, limit: int | None = None) -> list[Quote]:
        """The first `limit` quotes in spec order that match every filter given."""
        if role is not None and tag is not None:
            pool = self._by_role_tag.get((role, tag), [])
        elif role is not None:
            pool = self._by_role.get(role, [])
        elif tag is not None:
            pool = self._by_tag.get(tag, [])
        else:
            pool = self._all
        if since is not None:
            pool = _newer_than(pool, since)
        return list(pool if limit is None else pool[:limit])

    def count(self, role: str | None = None, tag: str | None = None, since: dt.datetime | None = None) -> int:
        return len(self.latest(role, tag, since))

    def roles(self) -> set[str]:
        return set(self._by_role)


def _newer_than(pool: list[Quote], since: dt.datetime) -> list[Quote]:
    # The pool is newest first: stop at the first quote older than `since`.
    cut = 0
    for cut, quote in enumerate(pool):  # noqa: B007
        if quote.date < since:
            return pool[:cut]
    return pool
