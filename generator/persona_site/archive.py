"""The archive: every quote in the spec's order, answering 'latest N for role R / tag T since D'.

Role pages, tag pages, feeds, JSON and the `quotes` command all ask it; none sorts
on its own (spec section 6: newest first, then transcript path, then line).

It holds QuoteRefs, not quotes: sorting, filtering, counting and the JSON files
need nothing else, and a page loads only the quotes it shows.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import operator
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TypeVar

from .model import Quote, QuoteRef


class Archive:
    """The queryable collection of quotes."""

    def __init__(self, refs: Iterable[QuoteRef], load: Callable[[QuoteRef], Quote]) -> None:
        self.load = load
        """A ref's quote."""
        self._all: list[QuoteRef] = sorted(refs)  # a ref sorts in spec order
        self._by_role: dict[str, list[QuoteRef]] = defaultdict(list)
        self._by_tag: dict[str, list[QuoteRef]] = defaultdict(list)
        self._by_role_tag: dict[tuple[str, str], list[QuoteRef]] = defaultdict(list)
        self._months: dict[tuple[dt.tzinfo, str | None], tuple[tuple[str, MonthRefs], ...]] = {}
        """(zone, role or None) -> months(zone, role), as first asked for (in one zone: the site's)."""
        ids = list(map(_ID, self._all))
        self._uses: Counter[str] | None = None if len(set(ids)) == len(ids) else Counter(ids)
        """How many quotes have each id; None, when no id is used twice, until patched asks (a command never does)."""
        self.reused_ids = set() if self._uses is None else {quote_id for quote_id, uses in self._uses.items()
                                                            if uses > 1}
        """The quote ids more than one quote has (an error)."""
        by_role, by_tag, by_role_tag = self._by_role, self._by_tag, self._by_role_tag  # 30,000 refs: locals
        for ref in self._all:
            role = ref.role
            by_role[role].append(ref)
            for tag in ref.tags:
                by_tag[tag].append(ref)
                by_role_tag[role, tag].append(ref)

    def patched(self, remove: Iterable[QuoteRef], add: Iterable[QuoteRef], load: Callable[[QuoteRef], Quote]) -> Archive:
        """This archive without the refs in `remove` (each one of its own) and with those in `add`: what a new
        Archive of the same refs would be, made in milliseconds when a rebuild changed a few transcripts. The lists
        no ref comes to or leaves are this archive's own (neither changes a list once made), and the count of ids
        moves to the new one (this one counts again if ever asked)."""
        remove, add = list(remove), list(add)
        new = Archive((), load)
        new._all = self._all[:]
        new._by_role.update(self._by_role)
        new._by_tag.update(self._by_tag)
        new._by_role_tag.update(self._by_role_tag)
        new._uses, new.reused_ids, self._uses = self._id_uses(), set(self.reused_ids), None
        copied: set[tuple[int, object]] = set()
        for ref in remove:
            for refs in new._own_lists(ref, copied):
                del refs[bisect.bisect_left(refs, ref)]
            new._uses[ref.id] -= 1
            if new._uses[ref.id] < 2:
                new.reused_ids.discard(ref.id)
        for ref in add:
            for refs in new._own_lists(ref, copied):
                bisect.insort(refs, ref)
            new._uses[ref.id] += 1
            if new._uses[ref.id] > 1:
                new.reused_ids.add(ref.id)
        for index in (new._by_role, new._by_tag, new._by_role_tag):
            for name in [name for name, refs in index.items() if not refs]:
                del index[name]
        changed = [*remove, *add]
        for (zone, role), months in self._months.items():  # a month no ref came to or left is the same object
            touched = {_month_of(dt.datetime.fromtimestamp(-ref.order, zone)) for ref in changed
                       if role is None or ref.role == role}
            new._months[zone, role] = tuple(by_month(new._pool(role), zone,
                                                     {key: refs for key, refs in months if key not in touched}))
        return new

    def _id_uses(self) -> Counter[str]:
        if self._uses is None:
            self._uses = Counter(map(_ID, self._all))
        return self._uses

    def _own_lists(self, ref: QuoteRef, copied: set[tuple[int, object]]) -> list[list[QuoteRef]]:
        """Every list a ref belongs in, each made this archive's own (a copy) when first asked for (patched)."""
        found = [self._all]
        for index, name in ((self._by_role, ref.role), *((self._by_tag, tag) for tag in ref.tags),
                            *((self._by_role_tag, (ref.role, tag)) for tag in ref.tags)):
            if (id(index), name) not in copied:
                copied.add((id(index), name))
                index[name] = index[name][:]  # a new list for a name not there before (defaultdict)
            found.append(index[name])
        return found

    def __len__(self) -> int:
        return len(self._all)

    def refs(self, role: str | None = None, tag: str | None = None,
             since: dt.datetime | None = None, limit: int | None = None) -> list[QuoteRef]:
        """The first `limit` refs in spec order that match every filter given."""
        pool = self._filtered(role, tag)
        if since is not None:
            pool = _newer_than(pool, since)
        return pool[:limit] if limit is not None else list(pool)

    def _filtered(self, role: str | None, tag: str | None) -> list[QuoteRef]:
        """The refs of a role and a tag (any when None), as the archive holds them: read, never changed."""
        if role is not None and tag is not None:
            return self._by_role_tag.get((role, tag), [])
        if role is not None:
            return self._by_role.get(role, [])
        if tag is not None:
            return self._by_tag.get(tag, [])
        return self._all

    def latest(self, role: str | None = None, tag: str | None = None,
               since: dt.datetime | None = None, limit: int | None = None) -> list[Quote]:
        """The quotes of refs(...)."""
        return [self.load(ref) for ref in self.refs(role, tag, since, limit)]

    def count(self, role: str | None = None, tag: str | None = None, since: dt.datetime | None = None) -> int:
        """len(refs(...)), without a copy of them."""
        pool = self._filtered(role, tag)
        return len(pool) if since is None else bisect.bisect_right(pool, -since.timestamp(), key=ORDER)

    def roles(self) -> set[str]:
        return set(self._by_role)

    def months(self, zone: dt.tzinfo, role: str | None = None) -> tuple[tuple[str, MonthRefs], ...]:
        """by_month of the role's refs (every ref's when None), made once an archive (and kept by `patched` for the
        months no ref came to or left: their refs keep what they counted)."""
        found = self._months.get((zone, role))
        if found is None:
            if any(kept != zone for kept, _ in self._months):  # the site's zone changed: the others' go
                self._months = {asked: months for asked, months in self._months.items() if asked[0] == zone}
            found = self._months[zone, role] = tuple(by_month(self._pool(role), zone))
        return found

    def _pool(self, role: str | None) -> list[QuoteRef]:
        """The role's refs (every ref when None) as the archive holds them: read, never changed."""
        return self._all if role is None else self._by_role.get(role, [])


_ID = operator.attrgetter("id")
ORDER = operator.attrgetter("order")
"""A ref's place in the site's order (minus its date's timestamp): the key that bisects a list of refs by date."""
_DIGEST = operator.attrgetter("digest")
_COMPANY = operator.attrgetter("company")
T = TypeVar("T")


class MonthRefs(list):
    """A month's refs (by_month's), which keep what is counted of them once it is asked for (digests_of,
    lines_digest, first_tags, month_companies): the month pages', "in their words"' and the query shards' keys ask for the same
    month's digests, and serve's unchanged months are the same objects rebuild after rebuild (a pass over 300,000
    refs costs 70 ms at 100,000 transcripts). Never changed once made."""

    __slots__ = ("_kept",)

    def counted(self, count: Callable[[Sequence[QuoteRef]], T]) -> T:
        """count(self), made once."""
        try:
            kept = self._kept
        except AttributeError:
            kept = self._kept = {}
        found = kept.get(count)
        if found is None:
            found = kept[count] = count(self)
        return found


def _counted(refs: Sequence[QuoteRef], count: Callable[[Sequence[QuoteRef]], T]) -> T:
    return refs.counted(count) if type(refs) is MonthRefs else count(refs)


def _digests(refs: Sequence[QuoteRef]) -> tuple[bytes, ...]:
    return tuple(map(_DIGEST, refs))


def _first_tags(refs: Sequence[QuoteRef]) -> Mapping[str, int]:
    return MappingProxyType(Counter(ref.tags[0] for ref in refs if ref.tags))


def _companies(refs: Sequence[QuoteRef]) -> frozenset[str | None]:
    return frozenset(map(_COMPANY, refs))


def digests_of(refs: Sequence[QuoteRef]) -> tuple[bytes, ...]:
    """The digests of the refs' JSON lines (QuoteRef.digest), in order: what stands for a group of quotes in a key."""
    return _counted(refs, _digests)


def _lines_digest(refs: Sequence[QuoteRef]) -> bytes:
    return hashlib.sha1(b"\n".join(digests_of(refs))).digest()


def lines_digest(refs: Sequence[QuoteRef]) -> bytes:
    """One digest of the refs' JSON lines' digests, in order: a group of quotes in a key as short as one quote's (a
    month's is hashed once, not its 1,700 digests at each lookup)."""
    return _counted(refs, _lines_digest)


def first_tags(refs: Sequence[QuoteRef]) -> Mapping[str, int]:
    """How many of the refs have each tag first (a quote counts once in the trend, under its first tag)."""
    return _counted(refs, _first_tags)


def month_companies(refs: Sequence[QuoteRef]) -> frozenset[str | None]:
    """The companies some refs name (None: withheld), kept by a month once asked for."""
    return _counted(refs, _companies)


def by_month(refs: list[QuoteRef], zone: dt.tzinfo,
             same: dict[str, MonthRefs] | None = None) -> list[tuple[str, MonthRefs]]:
    """Refs in the site's order split by calendar month in the site's zone: (yyyy-mm, the month's refs), newest
    month first, only months with quotes. The refs are sorted already: each month is found by bisection. `same`:
    months known to hold the same refs as before (Archive.patched), kept as they are."""
    grouped = []
    start = 0
    while start < len(refs):
        newest = dt.datetime.fromtimestamp(-refs[start].order, zone)
        first_day = dt.datetime(newest.year, newest.month, 1, tzinfo=zone)
        end = bisect.bisect_right(refs, -first_day.timestamp(), lo=start, key=ORDER)  # the month's refs come first
        key = _month_of(newest)
        kept = same.get(key) if same else None
        grouped.append((key, kept if kept is not None and len(kept) == end - start else MonthRefs(refs[start:end])))
        start = end
    return grouped


def _month_of(day: dt.datetime) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _newer_than(pool: list[QuoteRef], since: dt.datetime) -> list[QuoteRef]:
    """The refs from `since` on: the pool is newest first (order ascending), so they come first."""
    return pool[:bisect.bisect_right(pool, -since.timestamp(), key=ORDER)]
