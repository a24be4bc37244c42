"""The query page (quotes/) at scale, in headless Chromium (issue 18, item 6): what it loads and how soon it answers.

    python benchmarks/make_corpus.py 10000 /tmp/c10k
    python benchmarks/query_bench.py /tmp/c10k                 # builds DIR/site unless it has one
    python benchmarks/query_bench.py /tmp/c10k --rounds 5 --rebuild

DIR/site is served by a plain static server (http.server, in a thread; not persona-site's), and Chromium
(Debian's /usr/bin/chromium, through playwright, as tests/test_query_browser.py drives it) opens the query page
once per query and round: a fresh context each time, the cache disabled, the clock pinned to the corpus's now
(noon of the newest quote's day, in the site's timezone, unless the query says otherwise). For each query it
prints the medians of:

    quote data    the bytes of data/quotes/*.json response bodies (index.json and the month shards), from the
                  network events (each response's Content-Length, checked against the files served)
    shards        the number of month shards requested
    first result  navigation start to the first [data-quote-id] under #results (a MutationObserver in the
                  page, timed with the real performance.now), and the best of the rounds beside the median
    complete      navigation start to #results[aria-busy="false"]
    found         #results' data-count then

The clock is pinned by replacing Date (Date.now() and new Date() give the pinned time), not by playwright's
page.clock, which also wraps Intl.DateTimeFormat and performance.now: query.js formats dates with Intl for
every quote it decodes, and under page.clock that costs more than the page does for real users
(--clock playwright measures with it). "Quote data" counts the manifest too (index.json, 42 KB at 10,000
transcripts). The load average is printed with the table: on a shared machine it moves the times more
than anything the page does.

and judges the goals of issue 18: "one persona, last 30 days" loads at most 300 KB of quote data; every query
shows its first results within 500 ms; all shards together at most 1.5 x the bytes of the quotes' text and
metadata (id, role, tags, text, date, company, transcript, line, timestamp: as tests/test_querydata.py counts).
--trace prints, for each query's last round, the page's resource timings (what it waited for, and when).
Timings are never asserted in a test; record the table in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

CHROMIUM = os.environ.get("PERSONA_SITE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
DATA = "/data/quotes/"
PERSONA_30D_LIMIT = 300_000
FIRST_RESULT_LIMIT_MS = 500.0
SHARDS_RATIO_LIMIT = 1.5

# Installed before playwright's clock (the order the page's init scripts are added in), so it keeps the real
# performance.now; navigation start is its zero.
PROBE = """
(() => {
  const now = performance.now.bind(performance);
  const entries = performance.getEntriesByType.bind(performance);
  const bench = window.__bench = { first: null, complete: null, ready: null,
    resources: () => entries("resource").map(e => ({
      name: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd, bytes: e.encodedBodySize })) };
  document.addEventListener("DOMContentLoaded", () => { bench.ready = now(); });
  const watch = () => {
    const results = document.getElementById("results");
    if (!results) return false;
    const look = () => {
      if (bench.first === null && results.querySelector("[data-quote-id]")) bench.first = now();
      if (bench.complete === null && results.getAttribute("aria-busy") === "false") bench.complete = now();
    };
    new MutationObserver(look).observe(results, { childList: true, attributes: true, attributeFilter: ["aria-busy"] });
    look();
    return true;
  };
  if (!watch()) document.addEventListener("readystatechange", function once() {
    if (watch()) document.removeEventListener("readystatechange", once);
  });
})();
"""


@dataclass(frozen=True)
class Query:
    name: str
    params: list[tuple[str, str]]
    now: dt.datetime | None = None  # the page's clock, when not the corpus's now
    goal_30d: bool = False  # judged against the 300 KB goal

    def address(self) -> str:
        text = urllib.parse.urlencode(self.params)
        return "quotes/" + (f"?{text}" if text else "")


@dataclass
class Sample:
    data_bytes: int
    shards: int
    first_ms: float | None
    complete_ms: float | None
    found: int
    trace: list[dict]
    ready_ms: float | None


def build(root: Path, rebuild: bool) -> Path:
    site = root / "site"
    if rebuild or not (site / "data/quotes/index.json").is_file():
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "persona_site", "build", "-s", str(root)], check=True,
                       stdout=subprocess.DEVNULL)
        print(f"built {site} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return site


def metadata_bytes(quotes: list[dict]) -> int:
    """The quotes' text and metadata in UTF-8, counted as tests/test_querydata.py counts them."""
    return sum(len("".join(str(q[k] or "") for k in ("id", "role", "text", "date", "company", "transcript", "line",
                                                     "timestamp")).encode()) + len(" ".join(q["tags"]).encode())
               for q in quotes)


def corpus_now(quotes: list[dict], zone: ZoneInfo) -> dt.datetime:
    """Noon of the newest quote's day in the site's zone (a date-time quote: its own day there)."""
    newest = max(quotes, key=lambda q: _instant(q["date"], zone))
    day = _instant(newest["date"], zone).astimezone(zone).date()
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)


def _instant(date: str, zone: ZoneInfo) -> dt.datetime:
    if len(date) == 10:
        return dt.datetime.fromisoformat(date).replace(tzinfo=zone)
    return dt.datetime.fromisoformat(date)


def queries(quotes: list[dict], now: dt.datetime) -> list[Query]:
    """The table: from every quote to none, picking a persona, a tag and a company the corpus has."""
    roles = sorted({q["role"] for q in quotes})
    role = "head-of-revops" if "head-of-revops" in roles else roles[0]
    tags = sorted({t for q in quotes for t in q["tags"]})
    tag = "pain" if "pain" in tags else tags[0]
    per_company: dict[str, int] = {}
    for q in quotes:
        if q["company"]:
            per_company[q["company"]] = per_company.get(q["company"], 0) + 1
    table = [
        Query("everything", []),
        Query("one persona, last 30 days", [("role", role), ("since", "30d")], goal_30d=True),
        # Early in a month the window reaches into the month before: the clock on the 3rd, and the corpus cut
        # there (until: today), so the newest month has too few of the persona's quotes and the one before loads.
        Query("one persona, last 30 days, on the 3rd", [("role", role), ("since", "30d"),
                                                       ("until", now.replace(day=3).date().isoformat())],
              now=now.replace(day=3), goal_30d=True),
        Query("one persona, this quarter", [("role", role), ("since", "this-quarter")]),
        Query("a tag, this year", [("tag", tag), ("since", "this-year")]),
    ]
    if per_company:  # the busiest account, and one heard from once (or least)
        busiest = min(per_company, key=lambda c: (-per_company[c], c))
        quietest = min(per_company, key=lambda c: (per_company[c], c))
        table += [Query(f"a company ({per_company[busiest]} quotes)", [("company", busiest)]),
                  Query(f"a company ({per_company[quietest]} quotes)", [("company", quietest)])]
    table += [
        Query("words", [("q", "forecast reconcile")]),
        Query("words + persona + since", [("role", role), ("since", "3m"), ("q", "spreadsheets")]),
        Query("no result", [("q", "zeppelin")]),
        Query("since=2024", [("since", "2024")]),
    ]
    return table


def serve(folder: Path, served: dict[str, int]) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def end_headers(self):
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    for path in (folder / DATA.strip("/")).glob("*.json"):
        served[DATA + path.name] = path.stat().st_size
    return server


# The clock pinned by Date alone: Date.now() and new Date() say `now`; everything else is the browser's own.
# Playwright's page.clock also wraps Intl.DateTimeFormat and performance, which query.js calls for every
# quote it decodes (the time of a plain date in the site's zone): --clock playwright measures with it.
FIXED_DATE = """
(() => {
  const Real = Date, fixed = %d;
  class PinnedDate extends Real {
    constructor(...args) { if (args.length) super(...args); else super(fixed); }
    static now() { return fixed; }
  }
  window.Date = PinnedDate;
})();
"""


def measure(browser, url: str, query: Query, now: dt.datetime, served: dict[str, int], timeout_ms: float,
            clock: str = "date") -> Sample:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.add_init_script(PROBE)  # before the clock's script: it keeps the real performance.now
        pinned = query.now or now
        if clock == "playwright":
            page.clock.set_fixed_time(pinned)
        else:
            page.add_init_script(FIXED_DATE % round(pinned.timestamp() * 1000))
        fetched: list[tuple[str, int]] = []

        def on_response(response):
            path = urllib.parse.urlsplit(response.url).path
            if DATA in path and path.endswith(".json"):
                fetched.append((path, int(response.headers.get("content-length", "-1"))))

        page.on("response", on_response)
        page.goto(url + query.address(), wait_until="commit")
        page.wait_for_selector("#results[aria-busy=false]", state="attached", timeout=timeout_ms)
        result = page.evaluate("""() => ({
            first: window.__bench.first, complete: window.__bench.complete,
            found: Number(document.getElementById("results").getAttribute("data-count")),
            ready: window.__bench.ready, trace: window.__bench.resources()
        })""")
        page.wait_for_timeout(50)  # the last responses' events
        for path, length in fetched:
            name = path.rsplit("/", 1)[1]
            expected = served.get(DATA + name)
            if expected is not None and expected != length:
                raise SystemExit(f"{path}: {length} bytes on the wire, {expected} on disk")
        shards = [path for path, _ in fetched if not path.endswith("/index.json")]
        return Sample(sum(length for _, length in fetched), len(shards), result["first"], result["complete"],
                      result["found"], result["trace"], result["ready"])
    finally:
        context.close()


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if len(present) == len(values) and present else None


def best(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, metavar="DIR", help="a content repository (benchmarks/make_corpus.py)")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each query (default: 3); medians shown")
    parser.add_argument("--rebuild", action="store_true", help="build DIR/site even if it has one")
    parser.add_argument("--clock", choices=("date", "playwright"), default="date",
                        help="pin the page's clock by Date alone (default) or with playwright's page.clock, as the "
                             "tests do (it also wraps Intl and performance, and slows the page)")
    parser.add_argument("--trace", action="store_true", help="print each query's requests, with their timings")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    site = build(args.dir, args.rebuild)
    every = json.loads((site / "quotes.json").read_text("utf-8"))["quotes"]
    manifest = json.loads((site / "data/quotes/index.json").read_text("utf-8"))
    zone = ZoneInfo(manifest["timezone"])
    now = corpus_now(every, zone)
    shards_bytes = sum(p.stat().st_size for p in (site / "data/quotes").glob("????-??.json"))
    metadata = metadata_bytes(every)
    table = queries(every, now)

    served: dict[str, int] = {}
    server = serve(site, served)
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    rows = []
    loads = [os.getloadavg()[0]]
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                measure(browser, url, table[0], now, served, 60_000, args.clock)  # a warm-up: Chromium's first page
                for query in table:
                    samples = []
                    loads.append(os.getloadavg()[0])
                    for _ in range(args.rounds):
                        samples.append(measure(browser, url, query, now, served, 120_000, args.clock))
                    rows.append((query, samples))
                    print(f"  {query.name}: {[ms(s.first_ms) for s in samples]} ms", file=sys.stderr)
            finally:
                browser.close()
    finally:
        server.shutdown()

    loads.append(os.getloadavg()[0])
    command = " ".join(["python benchmarks/query_bench.py", str(args.dir)]
                       + ([f"--rounds {args.rounds}"] if args.rounds != 3 else [])
                       + (["--clock playwright"] if args.clock == "playwright" else []))
    print(f"`{command}` ({args.rounds} rounds, medians): "
          f"{len(every):,} quotes in {len(manifest['months'])} month shards; clock at {now.isoformat()} "
          f"(pinned by {'page.clock' if args.clock == 'playwright' else 'Date'}); "
          f"{os.cpu_count()} CPUs, 1-minute load average {min(loads):.1f}-{max(loads):.1f} during the run; "
          f"Chromium {_chromium_version()}.\n")
    print("| query | address | quote data (KB) | shards | first result (ms) | best of rounds (ms) | complete (ms) "
          "| found |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for query, samples in rows:
        address = query.address() + (f" (clock {query.now.date().isoformat()})" if query.now else "")
        print(f"| {query.name} | `{address}` | {statistics.median(s.data_bytes for s in samples) / 1000:,.1f} "
              f"| {statistics.median(s.shards for s in samples):g} | {ms(median([s.first_ms for s in samples]))} "
              f"| {ms(best([s.first_ms for s in samples]))} "
              f"| {ms(median([s.complete_ms for s in samples]))} | {statistics.median(s.found for s in samples):,g} |")

    print("\nGoals:")
    worst_30d = max(statistics.median(s.data_bytes for s in samples) for q, samples in rows if q.goal_30d)
    print(f"- one persona, last 30 days: {worst_30d / 1000:,.1f} KB of quote data, at most {PERSONA_30D_LIMIT / 1000:g}"
          f" KB: {'met' if worst_30d <= PERSONA_30D_LIMIT else 'NOT MET'}")
    slow = [(q.name, median([s.first_ms for s in samples])) for q, samples in rows
            if median([s.first_ms for s in samples]) is not None]
    late = [(name, t) for name, t in slow if t > FIRST_RESULT_LIMIT_MS]
    worst = max(slow, key=lambda item: item[1])
    print(f"- first results within {FIRST_RESULT_LIMIT_MS:g} ms: slowest {worst[0]} at {worst[1]:.0f} ms: "
          + ("met" if not late else "NOT MET (" + ", ".join(f"{n} {t:.0f} ms" for n, t in late) + ")"))
    ratio = shards_bytes / metadata
    print(f"- all shards {shards_bytes:,} bytes, quotes' text and metadata {metadata:,} bytes: {ratio:.2f} x, at most "
          f"{SHARDS_RATIO_LIMIT:g} x: {'met' if ratio <= SHARDS_RATIO_LIMIT else 'NOT MET'}")

    if args.trace:
        for query, samples in rows:
            last = samples[-1]
            print(f"\n{query.name} (DOMContentLoaded {ms(last.ready_ms)} ms, first result {ms(last.first_ms)} ms, "
                  f"complete {ms(last.complete_ms)} ms):")
            for entry in last.trace:
                print(f"  {entry['start']:7.1f} -> {entry['end']:7.1f} ms  {entry['bytes']:>8,}  {entry['name']}")


def _chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=20).stdout
        return out.strip().split()[1] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


if __name__ == "__main__":
    main()
