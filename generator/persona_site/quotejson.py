"""A quote in JSON (spec section 6): its object, its line in a `*.json` file made once as it is read, and the
`*.json` documents joined from those lines. Writes nothing."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import operator
import re
from collections.abc import Iterator

from .config import Config
from .model import Quote, QuoteRef, Transcript, transcript_id


def date_text(quote_or_transcript: Quote | Transcript) -> str:
    """The date as the spec's JSON writes it: YYYY-MM-DD, or an ISO date-time where one was given."""
    return iso_date(quote_or_transcript.date, quote_or_transcript.date_only)


def iso_date(date: dt.datetime, date_only: bool) -> str:
    return date.date().isoformat() if date_only else date.isoformat()


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
        "transcript": quote.transcript if config.attribution != "role" else transcript_id(quote.transcript),
        "line": quote.line,
        "timestamp": quote.timestamp,
        "added_in": {"commit": quote.added_in[0], "date": quote.added_in[1]} if quote.added_in else None,
    }


def encode_quote(quote: Quote, config: Config, date: str | None = None) -> str:
    """One quote's line in a `*.json` file: json.dumps(quote_json(...)) written out, three times faster
    for 30,000 quotes (tests/test_site.py checks they agree). `date`: its date in JSON, when known."""
    text = _json_text
    added = quote.added_in
    return html_safe_json(
        f'{{"id": {text(quote.id)}, "role": {text(quote.role)}, "tags": [{", ".join(map(text, quote.tags))}], '
        f'"text": {text(quote.text)}, "html": {text(quote.html)}, '
        f'"date": {date or text(date_text(quote))}, '
        f'"company": {"null" if config.attribution == "role" else _json_or_null(quote.company)}, '
        f'"speaker": {text(quote.speaker) if config.attribution == "name" else "null"}, '
        f'"title": {_json_or_null(quote.speaker_title)}, '
        f'"transcript": {text(quote.transcript if config.attribution != "role" else transcript_id(quote.transcript))}, '
        f'"line": {int(quote.line)}, "timestamp": {_json_or_null(quote.timestamp)}, '
        f'"added_in": {f"""{{"commit": {text(added[0])}, "date": {text(added[1])}}}""" if added else "null"}}}')


_json_text = json.encoder.encode_basestring  # a str as JSON, non-ASCII kept (ensure_ascii=False)


def _json_or_null(value: str | None) -> str:
    return "null" if value is None else _json_text(value)


def html_safe_json(text: str) -> str:
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


def texts_of(refs: list[QuoteRef]) -> list[str]:
    """The quotes' texts from their JSON lines (30,000 quotes: no transcript is loaded, and one regex, not a parse
    each)."""
    texts = [_json_string(found) for found in _TEXT_IN_JSON.findall(b"\n".join(ref.json for ref in refs))]
    if len(texts) != len(refs):  # never, as encode_quote writes them; but a wrong word list would be no list
        texts = [json.loads(ref.json)["text"] for ref in refs]
    return texts


_TEXT_IN_JSON = re.compile(rb'"text": "((?:[^"\\]|\\.)*)"')
"""A quote's text in its JSON line (encode_quote writes "text" once, before "html")."""


def _json_string(raw: bytes) -> str:
    return json.loads(b'"' + raw + b'"') if b"\\" in raw else raw.decode()


def quote_refs(transcript: Transcript, config: Config) -> tuple[QuoteRef, ...]:
    """What the archive keeps of each quote of a transcript (its JSON line made once, as it is read)."""
    order = -transcript.date.timestamp()
    shared = (transcript.date, transcript.date_only)  # every quote's, as reader.read_transcript makes them
    date = _json_text(date_text(transcript))
    company = transcript.company if config.attribution != "role" else None
    lines = [encode_quote(q, config, date if (q.date, q.date_only) == shared else None).encode() for q in transcript.quotes]
    return tuple(QuoteRef((order, q.transcript, q.line, index, q.id, q.role, q.tags, line, company,
                           hashlib.sha256(line).digest(), None))
                 for index, (q, line) in enumerate(zip(transcript.quotes, lines)))


def quotes_document(refs: list[QuoteRef], now: dt.datetime, extra: dict | None = None) -> bytes:
    """The `*.json` object: generated, count, quotes (spec section 6), one quote per line."""
    return whole_document(quotes_head(len(refs), now, extra), refs)


def quotes_head(count: int, now: dt.datetime, extra: dict | None = None) -> bytes:
    """A `*.json` object up to its first quote."""
    head = {"generated": now.isoformat(timespec="seconds"), **(extra or {}), "count": count}
    lines = ["{"] + [f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}," for k, v in head.items()]
    return ("\n".join(lines) + '\n  "quotes": ' + ("[\n    " if count else "")).encode()


JSON_OF = operator.attrgetter("json")
QUOTE_SEPARATOR, DOCUMENT_TAIL, _EMPTY = b",\n    ", b"\n  ]\n}\n", b"[]\n}\n"
"""Between two quotes of a `*.json` file, and after the last."""


def whole_document(head: bytes, refs: list[QuoteRef]) -> bytes:
    """head, the quotes and the tail in one join: 17 MB is not copied again to add a line before and after."""
    return next(document_pieces(head, refs, max(len(refs), 1)))


def document_pieces(head: bytes, refs: list[QuoteRef], per_piece: int = 4096) -> Iterator[bytes]:
    """The same bytes, per_piece quotes at a time: a build writes quotes.json (178 MB at 100,000 transcripts)
    without holding it whole."""
    if not refs:
        yield head + _EMPTY
        return
    for start in range(0, len(refs), per_piece):
        items = list(map(JSON_OF, refs[start:start + per_piece]))
        if not start:
            items[0] = head + items[0]
        last = start + per_piece >= len(refs)
        items[-1] += DOCUMENT_TAIL if last else QUOTE_SEPARATOR
        yield QUOTE_SEPARATOR.join(items)
