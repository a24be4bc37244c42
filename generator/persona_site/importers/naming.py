"""What a name says about a call: its date and title, from a file name or a document heading."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import PurePath

_OTTER_NAME = re.compile(r"^(?P<d>\d{8})[ _](?P<t>\d{4})\s*-\s*(?P<title>.+)$")  # '20261014 1530 - Acme call'
_ZOOM_NAME = re.compile(r"GMT(?P<d>\d{8})-(?P<t>\d{6})")  # 'GMT20261014-150000_Recording.transcript'
_DAY = re.compile(r"(?<!\d)(?P<y>20\d{2})-?(?P<m>[01]\d)-?(?P<d>[0-3]\d)(?!\d)")
_CLOCK_OR_ZONE = re.compile(r"(?<!\d)\d{1,2}[_:.]\d{2}(?:[_:.]\d{2})?(?!\d)|\b(?:GMT|UTC)(?:[+-]\d{1,4})?\b")
# A date in English words, as Google Meet's transcript document opens ('Mar 16, 2026') and Teams' transcript
# text carries below its title ('March 16, 2026, 3:02PM'): weekday, ordinal and a time after it are optional.
_MONTH = (r"(?P<month{n}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DAY_OF_MONTH = r"(?P<day{n}>\d{{1,2}})(?:st|nd|rd|th)?"
_DAY_IN_WORDS = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    rf"(?:{_MONTH.format(n=1)}\s+{_DAY_OF_MONTH.format(n=1)}|{_DAY_OF_MONTH.format(n=2)}\s+(?:of\s+)?{_MONTH.format(n=2)})"
    r",?\s+(?P<year>\d{4})"
    r"(?:,?\s+(?:at\s+)?\d{1,2}(?::\d{2})?\s*(?:[ap]\.?m\.?)?(?:\s+[a-z]{2,5}(?:[+-]\d{1,2}(?::?\d{2})?)?)?)?$",
    re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_NOISE = frozenset({"recording", "transcript", "captions", "caption", "subtitles", "audio"})
_DASHES = "-–—"


def from_file_name(path: PurePath) -> tuple[dt.datetime | dt.date | None, str | None]:
    """Date and title from names like Otter's '20261014 1530 - Acme call.txt' or Zoom's 'GMT20261014-150000_...'."""
    stem = path.stem
    if match := _OTTER_NAME.match(stem):
        return _day(match["d"]), match["title"].strip() or None
    if match := _ZOOM_NAME.search(stem):
        when = dt.datetime.strptime(match["d"] + match["t"], "%Y%m%d%H%M%S").replace(tzinfo=dt.timezone.utc)
        return when, None
    return date_and_title(stem)


def date_and_title(name: str) -> tuple[dt.date | None, str | None]:
    """'Acme sync (2026-10-22 10:02 GMT-7) - Transcript' -> (2026-10-22, 'Acme sync')."""
    match = _DAY.search(name)
    day = _day(match["y"] + match["m"] + match["d"]) if match else None
    rest = _CLOCK_OR_ZONE.sub(" ", _DAY.sub(" ", name) if day else name)
    rest = re.sub(r"\(\s*\)", " ", rest)
    words = re.split(r"[\s_.]+" if " " in rest.strip() else r"[-_.]+", rest)
    words = [w for w in words if w.strip(_DASHES) and w.casefold() not in _NOISE]
    title = " ".join(words).strip(" " + _DASHES)
    if not any(c.isalpha() for c in title):
        return day, None
    return day, title[:1].upper() + title[1:]


def day_in_words(line: str) -> dt.date | None:
    """'Mar 16, 2026', 'Monday, March 16, 2026', '16 March 2026' or 'March 16, 2026, 3:02PM' -> the date."""
    match = _DAY_IN_WORDS.match(line.strip())
    if match is None:
        return None
    month = _MONTHS.index((match["month1"] or match["month2"])[:3].casefold()) + 1
    try:
        return dt.date(int(match["year"]), month, int(match["day1"] or match["day2"]))
    except ValueError:
        return None


def _day(digits: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None
