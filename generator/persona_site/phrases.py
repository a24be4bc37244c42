"""In their words: the words and two-word phrases each persona uses distinctively more than the others.

Ranked by the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and Quinn 2008,
"Fightin' Words", Political Analysis 16(4), section 3.5.1): for a word w, a persona i and the rest j,

    delta = log((y_iw + a_w) / (n_i + a0 - y_iw - a_w)) - log((y_jw + a_w) / (n_j + a0 - y_jw - a_w))
    z     = delta / sqrt(1 / (y_iw + a_w) + 1 / (y_jw + a_w))

where y are counts, n totals, and the prior a_w is the word's count over every persona (a0 their sum), so a
word everyone says often needs many more uses to stand out than a rare one. The z-score, not the raw
log-odds, ranks: a phrase said twice is less evidence than one said twenty times. Ties break on the phrase,
so the same archive always gives the same list (issue 19, item 2).

Stop words come from the `stop-words` package (a maintained list, not one typed here).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from functools import lru_cache

from .archive import ORDER, Archive, lines_digest
from .model import QuoteRef
from .quotejson import texts_of

TOP = 12
"""Phrases kept per persona and period."""
MIN_COUNT = 2
"""A phrase said once by a persona is an anecdote, not their language."""

_WORD = re.compile(r"\w[\w'’-]*")
"""A word: letters and digits, with inner apostrophes and hyphens ("don't", "follow-up"); numbers are dropped
after (the simplest pattern is the fastest: most of the time here is this regex)."""


@dataclass(frozen=True)
class Phrase:
    """One distinctive word or two-word phrase of a persona."""

    text: str
    """The phrase, lower case: 'spreadsheet', 'board deck'."""
    count: int
    """How many times the persona said it in the period."""
    score: float
    """The z-score of its weighted log-odds (most distinctive first)."""


@lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """English stop words from the `stop-words` package, with its curly-apostrophe forms."""
    from stop_words import get_stop_words

    words = {w.lower() for w in get_stop_words("en")}
    return frozenset(words | {w.replace("'", "’") for w in words})


def terms(text: str, stop: frozenset[str]) -> Counter:
    """The words of a text (no stop word, no number, two letters or more) and its two-word phrases (of adjacent
    words, neither a stop word: 'board deck', not 'the board'), counted."""
    kept = [w if len(w) > 1 and w not in stop and not w[0].isdigit() and w[0] != "_" else None
            for w in _WORD.findall(text.lower())]  # as query.fold lowers: a phrase's link finds its quotes
    counts = Counter(kept)
    del counts[None]
    for (a, b), n in Counter(zip(kept, kept[1:])).items():  # pairs counted in C, joined once each
        if a and b:
            counts[f"{a} {b}"] = n
    return counts


_BETWEEN = " the "
"""Between two quotes joined into one text: a stop word, so no phrase spans two quotes."""


def counted(texts: list[str]) -> Counter:
    """terms() of some quotes' texts, counted as one text (a regex and two Counters for many quotes, not a few
    per quote; no phrase spans two quotes)."""
    return terms(_BETWEEN.join(texts), stop_words())


def distinctive(counts: dict[str, Counter], top: int = TOP) -> dict[str, list[Phrase]]:
    """Each role's `top` most distinctive terms against every other role (Monroe et al. 2008, see above)."""
    everyone: Counter = Counter()
    for counter in counts.values():
        everyone.update(counter)
    total = sum(everyone.values())  # n_i + n_j, and a0 (the prior is the pooled counts)
    found: dict[str, list[Phrase]] = {}
    for role, mine in counts.items():
        n_i = sum(mine.values())
        n_j = total - n_i
        if not n_j:
            continue  # no other persona to compare with: nothing is distinctive
        scored = []
        for term, y_i in mine.items():
            if y_i < MIN_COUNT:
                continue
            a = everyone[term]
            y_j = a - y_i
            rest_i, rest_j = n_i + total - y_i - a, n_j + total - y_j - a
            if rest_i <= 0 or rest_j <= 0:
                continue  # the term is all that was said: no odds to compare
            delta = math.log((y_i + a) / rest_i) - math.log((y_j + a) / rest_j)
            z = delta / math.sqrt(1 / (y_i + a) + 1 / (y_j + a))
            if z > 0:
                scored.append((-z, term, y_i))
        scored.sort()
        found[role] = [Phrase(term, y, -z) for z, term, y in _without_parts(scored, top)]
    return found


def _without_parts(scored: list[tuple[float, str, int]], top: int) -> list[tuple[float, str, int]]:
    """The first `top`, leaving out a word that only appears inside a phrase already kept with as many uses
    ('board' after 'board deck' said as often): the same evidence twice."""
    kept: list[tuple[float, str, int]] = []
    for item in scored:
        _, term, count = item
        if any(term in phrase.split() and count <= n for _, phrase, n in kept if " " in phrase):
            continue
        kept.append(item)
        if len(kept) == top:
            break
    return kept


PHRASE_DAYS = 90
"""In their words over these days ('recent'), and over all time."""


def phrases_by_period(archive: Archive, now: dt.datetime, months: dict[str, dict[str, list[QuoteRef]]] | None = None,
                      memo: MutableMapping[tuple, Counter] | None = None) -> dict[str, dict[str, list[Phrase]]]:
    """Each persona's distinctive phrases over the last PHRASE_DAYS days ('recent') and over all time ('all').
    `months`: pages_archive.months_by_role's. Both are counted month by month: with a `memo` (an engine's,
    kept between builds) a month whose quotes are the same is not counted again."""
    if months is None:
        months = {}
        for ref in archive.refs():
            months.setdefault(ref.role, {}).setdefault("", []).append(ref)
    since = -(now - dt.timedelta(days=PHRASE_DAYS)).timestamp()
    counts, recent_counts = {}, {}
    for role, groups in months.items():
        counts[role] = _all_terms(role, groups, memo)
        recent: Counter = Counter()
        for month, group in groups.items():  # newest month first, each newest first: the recent quotes begin each
            count = bisect.bisect_right(group, since, key=ORDER)
            if not count:
                break
            whole = count == len(group)  # a whole month: the count made above
            recent.update(_month_terms(group if whole else group[:count], memo, (role, month, whole)))
        if recent:
            recent_counts[role] = recent
    return {"recent": distinctive(recent_counts), "all": distinctive(counts)}


class Months(tuple):
    """The key of many months' counts summed in a memo: each month's lines_digest."""


def _all_terms(role: str, groups: dict[str, list[QuoteRef]], memo: MutableMapping[tuple, Counter] | None) -> Counter:
    """The terms of all of a persona's months together: from `memo` when no month changed (summing 36 months'
    counts is most of the work at 10,000 transcripts), else the months' counts summed."""
    if memo is None:
        return sum((_month_terms(group, None) for group in groups.values()), Counter())
    key = Months(map(lines_digest, groups.values()))
    found = memo.get(key)
    if found is None:
        def summed(months: list[tuple[str, list[QuoteRef]]]) -> Counter:
            total: Counter = Counter()
            for month, group in months:
                total.update(_month_terms(group, memo, (role, month, True)))
            return total

        found = memo[key] = _recounted(memo, (role,), dict(zip(key, groups.items())), summed)
    return found


def _month_terms(refs: list[QuoteRef], memo: MutableMapping[tuple, Counter] | None, where: tuple = ()) -> Counter:
    """phrases.counted for some quotes (of a persona's month, `where`): from `memo` when these quotes were counted
    before (known by the digest of their JSON lines, the key)."""
    if memo is None:
        return counted(texts_of(refs))
    key = lines_digest(refs)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _recounted(memo, where, {ref.digest: ref for ref in refs}, lambda some: counted(texts_of(some)))
    return found


def _recounted(memo: MutableMapping[tuple, Counter], where: tuple, parts: dict, count: Callable[[list], Counter]) -> Counter:
    """count() of the parts' values. Counts add up part by part (no phrase spans two quotes): a memo that keeps what
    it last counted at `where` (an engine's: `recount`) may count only the parts that came or went since."""
    recount = getattr(memo, "recount", None)
    return recount(where, parts, count) if recount is not None else count(list(parts.values()))


class Counting:
    """phrases_by_period for a build's persona pages, counted when first asked for rather than when the pages are
    planned. A build that compares pages with the ones it wrote asks at once (a persona page's digest pickles its
    phrases: one whose phrases and quotes are the same is kept); a cold build compares nothing, makes every page
    and digests them after, so it counts them as the first persona page is made, while a forked process makes
    the pages of many (0.5 s at 10,000 transcripts, on the core that had nothing else to do then)."""

    def __init__(self, archive: Archive, now: dt.datetime, months: dict[str, dict[str, list[QuoteRef]]],
                 memo: MutableMapping[tuple, Counter] | None = None) -> None:
        self._count: Callable[[], dict] | None = functools.partial(phrases_by_period, archive, now, months, memo)
        self._found: dict[str, dict[str, list[Phrase]]] | None = None

    def found(self) -> dict[str, dict[str, list[Phrase]]]:
        if self._found is None:
            self._found, self._count = self._count(), None  # type: ignore[misc]
        return self._found

    def of(self, role: str) -> PersonaPhrases:
        return PersonaPhrases(self, role)


@dataclass(frozen=True, eq=False)
class PersonaPhrases(Mapping):
    """One persona's phrases, by period ('recent', 'all'), as a page shows them: counted when first read, and
    pickled (a page's digest) as what a page shows of them."""

    counting: Counting
    role: str

    def __getitem__(self, period: str) -> list[Phrase]:
        return self.counting.found()[period].get(self.role, [])

    def __iter__(self) -> Iterator[str]:
        return iter(self.counting.found())

    def __len__(self) -> int:
        return len(self.counting.found())

    def __reduce__(self) -> tuple:
        """Pickled (for a page's digest) as each period's phrases in their order, with their counts: not their
        scores. Each phrase is weighed against the other personas' words, so one quote changed anywhere moves
        every persona's scores a little, and every persona page would be made again for the same words. A theme
        of its own that shows a score shows the one of the build that last made the page (a persona page is made
        again each day, and whenever its phrases, their order or their counts change), which a build from nothing
        that day may give a little otherwise: the trade for the built-in theme, which shows none."""
        return dict, ({period: [(phrase.text, phrase.count) for phrase in found] for period, found in self.items()},)
