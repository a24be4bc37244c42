"""The query page (quotes/) in real headless Chromium: filters, the address, Back, "Show 50 more", the data it loads,
and the same answers as `persona-site quotes` at the same moment (spec section 8)."""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import threading
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import NOW_EPOCH, PERSONAS, Repo
from test_browser import CHROMIUM, CONTRAST, browser  # noqa: F401 (browser: the module's Chromium, a fixture)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")

BASE = "/team/personas/"
NOW = dt.datetime.fromtimestamp(int(NOW_EPOCH), dt.timezone.utc)  # 2026-12-01T00:00Z: still 30 November in New York
COMPANIES = ["Acme Corp", "Smith & Sons", "Café Noir", "Globex"]
WORDS = ["forecast", "spreadsheet", "rollout", "pipeline", "renewal", "headcount"]


def _transcripts(repo: Repo) -> None:
    """About 150 quotes over a year, some at times that fall in another month in New York than in UTC."""
    for n in range(60):
        day = dt.date(2026, 11, 30) - dt.timedelta(days=n * 6)
        date = day.isoformat() if n % 5 else f"{day.isoformat()}T02:30:00+00:00"  # the evening before, in New York
        company = COMPANIES[n % len(COMPANIES)]
        speaker = "Priya Raman" if n % 3 == 0 else "Dana Whitfield"
        lines = [f"[Quote {n}.{i}: the {WORDS[(n + i) % len(WORDS)]} is a problem"
                 f"{' at our café' if n % 7 == 0 and i == 0 else ''}.]{{.{('pain', 'objection', 'criteria')[(n + i) % 3]}}}"
                 for i in range(1 + n % 4)]
        repo.write(f"content/transcripts/2026/call-{n:02d}.md",
                   f"---\ntitle: Call {n}\ndate: {date}\ncompany: {company}\nparticipants:\n"
                   f"  Dana Whitfield: head-of-revops\n  Priya Raman: vp-sales\n  Sam Ortiz: internal\n---\n\n"
                   f"**Sam Ortiz:** How is it going?\n\n**{speaker}:** " + " ".join(lines) + "\n")


def _serve(folder: Path, requests: list[str] | None = None):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            if requests is not None:
                requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The repository, and the address its site is served at: under a path, in New York's time."""
    repo = Repo(tmp_path_factory.mktemp("query"))
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    repo.write("persona-site.toml", f'base_url = "{BASE}"\ntimezone = "America/New_York"\n')
    _transcripts(repo)
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", NOW_EPOCH)
    result = repo.run("build", "--out", str(repo.root / "www" / BASE.strip("/")))
    mp.undo()
    assert result.exit_code == 0, result.output
    requests: list[str] = []
    server = _serve(repo.root / "www", requests)
    yield repo, f"http://127.0.0.1:{server.server_address[1]}{BASE}", requests
    server.shutdown()


@pytest.fixture
def page(browser):
    """A page whose clock says the tests' now."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.clock.set_fixed_time(NOW)
    yield page
    page.close()


def answer(page) -> list[str]:
    """The ids shown once the page says the answer is complete."""
    page.wait_for_selector("#results[aria-busy=false]", state="attached")
    return page.locator("#results [data-quote-id]").evaluate_all("els => els.map(e => e.dataset.quoteId)")


def everything(page) -> list[str]:
    """Every id the query finds, pressing "Show 50 more" until there are no more."""
    shown = answer(page)
    for _ in range(100):
        if not page.locator("#more").is_visible():
            return shown
        page.locator("#more").click()  # shows what was found, or marks the list busy while older months load
        shown = answer(page)
    raise AssertionError(f"'Show 50 more' is still offered with {len(shown)} shown: " + page.locator("#query-status").inner_text())


def at_address(page, address: str) -> None:
    """Wait until the address bar shows this path and query (BASE + address)."""
    # Polled on a timer: the page's clock is pinned, and Playwright's default (animation frames) then never polls.
    page.wait_for_function("a => location.pathname + location.search === a", arg=BASE + address, polling=50)


def type_and_enter(page, url: str, label: str, text: str, address: str) -> None:
    """On the query page, type into one field and press Enter: the search lands at the address."""
    page.goto(url + "quotes/")
    answer(page)
    page.get_by_label(label).fill(text)
    page.get_by_label(label).press("Enter")
    at_address(page, address)


def command(repo: Repo, *args: str) -> list[str]:
    result = repo.run("quotes", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return [q["id"] for q in json.loads(result.stdout)["quotes"]]


TABLE = [
    [],
    ["--role", "revops-lead"],
    ["--tag", "pain", "--tag", "criteria"],
    ["--since", "this-month"],
    ["--since", "last-month", "--until", "last-month"],
    ["--since", "this-quarter", "--role", "vp-sales"],
    ["--since", "last-quarter", "--until", "last-quarter"],
    ["--since", "this-year", "--tag", "objection"],
    ["--since", "30d"],
    ["--since", "2w"],
    ["--since", "3m", "--until", "1m"],
    ["--since", "2026-11", "--until", "2026-11"],
    ["--since", "2026-10-01", "--until", "2026-10-31"],
    ["--until", "2026"],
    ["--company", "smith & sons"],
    ["--text", "FORECAST problem"],
    ["--text", "cafe"],
    ["--text", "acme pipeline", "--since", "6m"],
    ["--text", '"the forecast" ’is’'],
]


@pytest.mark.slow
def test_the_page_and_the_command_give_the_same_quotes_in_the_same_order(site, page):
    repo, url, _ = site
    for args in TABLE:  # conftest pins the command's clock (SOURCE_DATE_EPOCH); the page fixture the browser's
        expected = command(repo, *args)
        printed = repo.run("quotes", *args).stdout.strip().splitlines()[-1]
        address = printed.split("On the site: ")[1]  # the command's own address for the query
        assert address.startswith(BASE + "quotes/")
        page.goto(url + address[len(BASE):])
        assert everything(page) == expected, args
        assert page.locator("#results").get_attribute("data-count") == str(len(expected))
    assert len(command(repo)) > 100  # the table covers "Show 50 more" too


def test_filters_make_the_address_and_reload_and_back_keep_the_answer(site, page):
    repo, url, _ = site
    page.goto(url + "quotes/")
    everyone = answer(page)
    assert len(everyone) == 50
    page.get_by_label("Persona").select_option(label="Head of Revenue Operations")
    at_address(page, "quotes/?role=head-of-revops")
    page.get_by_label("Pain").check()
    at_address(page, "quotes/?role=head-of-revops&tag=pain")
    page.get_by_label("From").fill("this-quarter")
    page.get_by_label("Words").fill("problem")
    page.get_by_role("button", name="Search").click()
    at_address(page, "quotes/?role=head-of-revops&tag=pain&since=this-quarter&q=problem")
    found = answer(page)
    assert found and len(found) < 50
    cards = page.locator("#results .quote-card")
    for i in range(cards.count()):
        assert "pain" in cards.nth(i).get_attribute("data-tags").split()
        assert cards.nth(i).locator(".who").inner_text().startswith("Head of Revenue Operations")
    assert page.locator("#query-status").inner_text() == f"{len(found)} quote{'' if len(found) == 1 else 's'}."
    page.reload()
    assert answer(page) == found
    assert page.get_by_label("Pain").is_checked() and page.get_by_label("From").input_value() == "this-quarter"
    page.go_back()  # the step before: the time chosen (on leaving its field), no words yet
    at_address(page, "quotes/?role=head-of-revops&tag=pain&since=this-quarter")
    assert not page.get_by_label("Words").input_value()
    assert len(answer(page)) >= len(found)
    for _ in range(3):
        page.go_back()
    at_address(page, "quotes/")
    assert answer(page) == everyone
    assert page.get_by_label("Persona").input_value() == ""
    assert not page.get_by_label("Pain").is_checked()
    page.go_forward()
    at_address(page, "quotes/?role=head-of-revops")
    assert answer(page) == command(repo, "--role", "head-of-revops")[:50]


def test_show_50_more_adds_the_next_50_and_stops_at_the_end(site, page):
    repo, url, _ = site
    every = command(repo)
    page.goto(url + "quotes/")
    assert answer(page) == every[:50]
    assert "Showing the newest 50" in page.locator("#query-status").inner_text()
    page.get_by_role("button", name="Show 50 more").click()
    page.wait_for_selector("#results > li:nth-child(100)")
    assert answer(page) == every[:100]
    assert everything(page) == every
    assert page.locator("#query-status").inner_text() == f"{len(every)} quotes."
    assert not page.locator("#more").is_visible()


def test_a_search_that_finds_nothing_says_so(site, page):
    _, url, _ = site
    page.goto(url + "quotes/?q=blockchain")
    assert answer(page) == []
    assert page.locator("#results").get_attribute("data-count") == "0"
    assert page.locator("#query-status").inner_text().startswith("No quotes match.")
    assert not page.locator("#more").is_visible()


def test_a_tag_or_a_company_the_site_does_not_have_is_refused_with_why(site, page, tmp_path):
    """As the command refuses them (a usage error): '?tag=criterion' said 'No quotes match. Try fewer words, more
    tags' with no box ticked, and with companies withheld '?company=Acme Corp' showed every quote as if filtered
    (found by a bug hunt)."""
    _, url, _ = site
    page.goto(url + "quotes/?tag=criterion&tag=pain")
    assert answer(page) == [] and page.locator("#results").get_attribute("data-count") == "0"
    assert page.locator("#query-status").inner_text() == (
        "This site has no tag 'criterion': its tags are pain, objection, criteria.")
    page.goto(url + "quotes/?role=ceo")  # as `quotes --role ceo` refuses it (found by a review)
    assert answer(page) == [] and page.locator("#query-status").inner_text().startswith(
        "This site has no persona 'ceo': its personas are ")
    repo = Repo(tmp_path / "withheld")
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    repo.write("persona-site.toml", 'attribution = "role"\n')
    _transcripts(repo)
    assert repo.run("build").exit_code == 0
    assert repo.run("quotes", "--company", "Acme Corp").exit_code == 2
    server = _serve(repo.root / "site")
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/quotes/?company=Acme+Corp")
        assert answer(page) == []
        assert page.locator("#query-status").inner_text() == (
            "Companies are not published on this site, so a search cannot ask for one.")
    finally:
        server.shutdown()


def test_words_match_without_accents_and_capitals(site, page):
    repo, url, _ = site
    type_and_enter(page, url, "Words", "CAFÉ", "quotes/?q=CAF%C3%89")
    assert everything(page) == command(repo, "--text", "cafe")
    # "café" in a quote and in a company name: both are found
    texts = page.locator("#results .quote-card").all_inner_texts()
    assert any("at our café" in t for t in texts) and any("Café Noir" in t and "at our café" not in t for t in texts)


def test_a_company_with_an_ampersand_round_trips_and_links_stay_under_the_base_path(site, page):
    repo, url, requests = site
    type_and_enter(page, url, "Company", "Smith & Sons", "quotes/?company=Smith+%26+Sons")
    found = answer(page)
    assert found == command(repo, "--company", "Smith & Sons")[:50] and found
    for card in page.locator("#results .quote-card").all():
        assert card.locator(".company").inner_text() == "Smith & Sons"
        # In context: the quote on its persona's page for its month (in the site's zone), under the base path.
        persona = card.locator("a.who").get_attribute("href")
        month = dt.datetime.fromisoformat(card.locator("time").get_attribute("datetime"))
        if month.tzinfo:
            month = month.astimezone(ZoneInfo("America/New_York"))
        context = card.get_by_role("link", name="in context").get_attribute("href")
        assert persona.startswith(BASE + "personas/")
        assert context == f"{persona}{month:%Y-%m}/#{card.get_attribute('data-quote-id')}"
        assert card.locator(".chip").first.get_attribute("href").startswith(BASE + "tags/")
    page.reload()
    assert page.get_by_label("Company").input_value() == "Smith & Sons"
    assert answer(page) == found
    assert [path for path in requests if not path.startswith(BASE) and path != "/favicon.ico"] == []


def test_the_header_of_every_page_leads_to_the_search(site, page):
    _, url, _ = site
    for path in ("", "personas/vp-sales/", "tags/pain/"):
        page.goto(url + path)
        page.get_by_role("link", name="Search quotes").click()
        at_address(page, "quotes/")
        assert answer(page)


def test_counts_on_the_pages_open_the_search_that_finds_them(site, page):
    _, url, _ = site
    page.goto(url + "personas/head-of-revops/")
    recent = page.locator(".persona-status a", has_text="in the last 30 days")
    number = int(recent.locator("strong").inner_text())
    recent.click()
    at_address(page, "quotes/?role=head-of-revops&since=30d")
    assert len(answer(page)) == number > 0
    page.goto(url + "tags/pain/")
    link = page.locator(".lede a")
    total = int(link.inner_text().split()[0])
    link.click()
    at_address(page, "quotes/?tag=pain")
    assert len(everything(page)) == total


CLOCKS = [  # (the moment, in UTC; the query there): each reads a quote near its edge differently by day or by hour
    ("2026-12-01T00:00:00+00:00", "since=30d"),  # 30 Nov, 19:00 in New York: a quote late on 31 Oct is in
    ("2026-03-09T06:30:00+00:00", "since=1d"),  # 02:30 on 9 March: a day back is a time the clocks skipped
    ("2026-11-02T06:30:00+00:00", "since=1d"),  # 01:30 on 2 November: a day back is a time they went through twice
    ("2026-11-02T06:30:00+00:00", "since=2026-11-01&until=2026-11-01"),
]


@pytest.mark.slow
def test_counts_and_queries_agree_with_the_command_at_their_edges(tmp_path, browser):
    """A count on the index, the tags grid and a persona page is the number of quotes its link's query finds, and the
    page finds what the command finds, around the hour: quotes late in the day 30 days back and around clock changes
    (found by a bug hunt: the pages counted whole days, and the page read a skipped time otherwise than Python)."""
    repo = Repo(tmp_path / "edges")
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    repo.write("persona-site.toml", 'timezone = "America/New_York"\n')
    dates = ["2026-10-31T22:00:00-04:00", "2026-10-31T18:00:00-04:00", "2026-10-31", "2026-11-01", "2026-11-29",
             "2026-03-08T06:45:00+00:00", "2026-03-08T07:15:00+00:00", "2026-03-08",
             "2026-11-01T05:15:00+00:00", "2026-11-01T06:15:00+00:00", "2026-11-01T05:45:00+00:00"]
    for n, date in enumerate(dates):
        repo.write(f"content/transcripts/call-{n:02d}.md",
                   f"---\ntitle: Call {n}\ndate: '{date}'\ncompany: Acme\nparticipants:\n  Dana Whitfield: head-of-revops\n"
                   f"---\n\n**Dana Whitfield:** [Edge {n}.]{{.pain}}\n")
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    server = _serve(repo.root / "site")
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    page = browser.new_page()
    try:
        for when, query in CLOCKS:
            moment = dt.datetime.fromisoformat(when)
            args = [a for pair in query.split("&") for a in (f"--{pair.split('=')[0]}", pair.split("=")[1])]
            expected = command_at(repo, moment, *args)
            page.clock.set_fixed_time(moment)
            page.goto(url + "quotes/?" + query)
            assert answer(page) == expected, (when, query)
        moment = dt.datetime.fromisoformat(CLOCKS[0][0])
        expected = command_at(repo, moment, "--since", "30d", "--role", "head-of-revops")
        assert len(expected) == 6  # 22:00 on 31 Oct (not 18:00, not its date), 1 Nov (four), 29 Nov
        page.clock.set_fixed_time(moment)
        page.goto(url)
        assert page.locator("[data-recent-dates]").first.inner_text() == "6 quotes"
        page.goto(url + "tags/")
        cell = page.locator("a[data-dates]").first
        asked = urllib.parse.parse_qsl(urllib.parse.urlsplit(cell.get_attribute("href")).query)
        assert cell.inner_text() == str(len(command_at(repo, moment, *(a for k, v in asked for a in (f"--{k}", v)))))
        page.goto(url + "personas/head-of-revops/")
        assert page.locator(".persona-status [data-recent-count]").inner_text() == "6"
        page.locator("button[data-window='30d']").click()
        assert page.locator(".persona-quotes [data-quote-id]:visible").count() == 6
    finally:
        page.close()
        server.shutdown()


def test_the_query_page_works_without_site_js_and_counts_past_the_cards_a_page_holds(site, browser, tmp_path):
    """query.js asks clock.js for the site's clock, not site.js: without site.js (a theme of its own) the page
    stayed on 'Loading quotes…' (found by a review). A persona page counts its last 30 days from every quote's
    instant, not from its cards (at most 200: it said 200 where its link found 210)."""
    import shutil

    _, url, _ = site
    copy = tmp_path / "www"
    shutil.copytree(site[0].root / "www", copy)
    (copy / BASE.strip("/") / "assets/site.js").unlink()
    server = _serve(copy)
    page = browser.new_page()
    page.clock.set_fixed_time(NOW)
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}{BASE}quotes/?role=head-of-revops")
        assert len(answer(page)) == 50
    finally:
        server.shutdown()
    repo = Repo(tmp_path / "many")
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    for n in range(7):
        turns = "\n\n".join(f"**Dana Whitfield:** [Quote {n}.{i}.]{{.pain}}" for i in range(30))
        repo.write(f"content/transcripts/call-{n}.md", f"---\ntitle: Call {n}\ndate: 2026-11-{20 + n}\ncompany: Acme\n"
                   f"participants:\n  Dana Whitfield: head-of-revops\n---\n\n{turns}\n")
    assert repo.run("build").exit_code == 0
    server = _serve(repo.root / "site")
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/personas/head-of-revops/")
        assert page.locator(".persona-status [data-recent-count]").inner_text() == "210"
        assert page.locator(".persona-quotes [data-quote-id]").count() == 200
    finally:
        page.close()
        server.shutdown()


def test_a_theme_whose_templates_predate_clock_js_still_searches_and_counts_in_its_zone(tmp_path, browser):
    """A theme of its own with base.html and quotes.html copied before clock.js: the query page stopped at 'Loading
    quotes…' and the other pages counted days in UTC (found by a review). site.js and query.js load the clock."""
    repo = Repo(tmp_path / "old")
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    repo.write("persona-site.toml", 'timezone = "America/New_York"\ntheme = "old"\n')
    templates = Path(__file__).parents[1] / "themes/default/templates"
    for name in ("base.html", "quotes.html"):
        clock = "<script src=\"{{ url('assets/clock.js') }}?v={{ asset_version }}\" defer></script>\n"
        text = (templates / name).read_text("utf-8")
        assert clock in text
        repo.write(f"themes/old/templates/{name}", text.replace(clock, ""))
    _transcripts(repo)
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    assert "clock.js" not in (repo.root / "site/quotes/index.html").read_text("utf-8")
    server = _serve(repo.root / "site")
    page = browser.new_page()
    page.clock.set_fixed_time(NOW)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        page.goto(url + "quotes/?role=head-of-revops&since=30d")
        assert answer(page) == command(repo, "--role", "head-of-revops", "--since", "30d")
        page.goto(url)
        page.wait_for_function("() => document.querySelector('.as-of') && document.querySelector('.as-of').hidden",
                               polling=50)  # site.js has counted, with the clock it loaded
        link = page.locator("a[data-recent-dates]").first
        asked = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(link.get_attribute("href")).query))
        found = command(repo, "--role", asked["role"], "--since", asked["since"])
        assert link.inner_text() == f"{len(found)} quote{'' if len(found) == 1 else 's'}"
    finally:
        page.close()
        server.shutdown()


def command_at(repo: Repo, moment: dt.datetime, *args: str) -> list[str]:
    result = repo.run("quotes", "--format", "json", *args, env={"SOURCE_DATE_EPOCH": str(int(moment.timestamp()))})
    assert result.exit_code == 0, result.output
    return [q["id"] for q in json.loads(result.stdout)["quotes"]]


def test_a_time_that_is_no_time_is_explained_at_its_field(site, page):
    _, url, _ = site
    page.goto(url + "quotes/?since=last%20tuesday")
    page.wait_for_selector("#results[aria-busy=false]", state="attached")
    field = page.get_by_label("From")
    assert field.get_attribute("aria-invalid") == "true"
    assert "'last tuesday' is not a time" in page.locator("#q-since-error").inner_text()
    assert page.locator("#results [data-quote-id]").count() == 0


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_page_is_readable_on_a_phone_in_both_schemes(site, browser, scheme, tmp_path):
    _, url, _ = site
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, color_scheme=scheme)
    page.clock.set_fixed_time(NOW)
    page.goto(url + "quotes/?role=head-of-revops&since=this-quarter")
    answer(page)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    for selector in (".query-form label", ".query-form .hint", ".query-status", ".meta", ".who", ".chip-pain"):
        ratios = page.evaluate(CONTRAST, selector)
        assert ratios and min(ratios) >= 4.5, (selector, ratios)
    # Every field has a label a screen reader announces.
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll('.query-form input, .query-form select'))
        .filter(el => !(el.labels && el.labels.length)).map(el => el.name)""")
    assert unlabelled == []
    page.screenshot(path=str(tmp_path / f"query-{scheme}.png"), full_page=True)
    page.close()


# Each result is the quote as on the site's pages (issue 18, item 1): the same card as on its month's archive page.

CARD_CALLS = {
    # A speaker's job title, a company with '&', a time in the recording, markup and characters HTML escapes
    "2026/smith.md": ("2026-11-20", "Smith & Sons",
                      "  Dana Whitfield: {role: head-of-revops, title: \"Director, Revenue Ops\"}\n  Priya Raman: vp-sales\n",
                      "**Dana Whitfield:** [00:04:12] [We *rebuild* the forecast when a < b & c.]{.pain .objection}\n\n"
                      "**Priya Raman:** [No job title given for me.]{.criteria}\n"),
    # A title the same as the persona's (not said twice); a time that is 31 October in New York
    "2026/acme.md": ("2026-11-01T02:30:00+00:00", "Acme Corp",
                     "  Priya Raman: {role: vp-sales, title: VP Sales}\n  Dana Whitfield: head-of-revops\n",
                     "**Priya Raman:** [Halloween, in New York.]{.pain}\n"),
}


@pytest.fixture(scope="module", params=["", 'attribution = "name"\npublish_transcripts = true\n'],
                ids=["archive-links", "names-and-transcripts"])
def cards(request, tmp_path_factory):
    """A small site under /team/ in New York's time, as set; yields its address and its folder."""
    repo = Repo(tmp_path_factory.mktemp("cards"))
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    repo.write("persona-site.toml", f'base_url = "/team/"\ntimezone = "America/New_York"\n{request.param}')
    for path, (date, company, people, body) in CARD_CALLS.items():
        repo.write(f"content/transcripts/{path}", f"---\ntitle: A call\ndate: {date}\ncompany: {company}\n"
                                                  f"participants:\n{people}  Sam Ortiz: internal\n---\n\n{body}")
    result = repo.run("build", "--out", str(repo.root / "www" / "team"))
    assert result.exit_code == 0, result.output
    server = _serve(repo.root / "www")
    yield f"http://127.0.0.1:{server.server_address[1]}/team/", repo.root / "www" / "team"
    server.shutdown()


CANONICAL = """(card, ignored) => {
  // The element as markup with its attributes sorted, whitespace folded, and the whitespace between elements left
  // out (the card's caption is a flex box: that whitespace is not shown).
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.data.trim() ? node.data.replace(/\\s+/g, " ") : "";
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    const attributes = Array.from(node.attributes).filter(a => !ignored.includes(a.name))
      .map(a => ` ${a.name}="${a.value}"`).sort().join("");
    return `<${node.localName}${attributes}>${Array.from(node.childNodes).map(walk).join("")}</${node.localName}>`;
  };
  return {html: walk(card), text: card.innerText};
}"""
IGNORED = ["data-added"]  # when the quote came into the archive: the shards do not hold it ("New" is not marked there)


def _copy(card) -> str:
    card.get_by_role("button", name="Copy the quote with who said it and a link").click()
    return card.page.evaluate("navigator.clipboard.readText()")


def test_each_result_is_the_card_of_its_archive_page(cards, browser):
    url, folder = cards
    every = json.loads((folder / "quotes.json").read_text("utf-8"))["quotes"]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.clock.set_fixed_time(NOW)
    page.goto(url + "quotes/")
    assert answer(page) == [q["id"] for q in every]
    results = {}
    for card in page.locator("#results .quote-card").all():
        results[card.get_attribute("data-quote-id")] = (card.evaluate(CANONICAL, IGNORED), _copy(card))
    archived = {}
    for month_page in sorted(folder.glob("personas/*/????-??/index.html")):
        page.goto(url + month_page.parent.relative_to(folder).as_posix() + "/")
        assert page.locator(".badge-new").count() == 0  # none is new on this day: it would be the one difference
        for card in page.locator(".quote-card").all():
            archived[card.get_attribute("data-quote-id")] = (card.evaluate(CANONICAL, IGNORED), _copy(card))
    assert archived.keys() == results.keys()
    for quote_id, (shown, copied) in results.items():
        assert shown == archived[quote_id][0], quote_id
        assert copied == archived[quote_id][1], quote_id
    # What the fixture is there for, as a person sees it
    text = "\n".join(shown["text"] for shown, _ in results.values())
    assert "Director, Revenue Ops" in text and "Smith & Sons" in text and "00:04:12" in text
    assert "31 Oct 2026" in text
    halloween = next(q for q in every if q["text"].startswith("Halloween"))
    shown, copied = results[halloween["id"]]
    where = "transcripts/2026/acme/" if (folder / "transcripts").is_dir() else "personas/vp-sales/2026-10/"
    link = f"/team/{where}#{halloween['id']}"  # in context: its transcript when published, else its month's page
    assert f'<a class="context" href="{link}">' in shown["html"]
    assert shown["html"].count(">VP Sales</") == 1  # the persona, and not its title again
    who = "Priya Raman, VP Sales, Acme Corp" if "transcripts" in where else "VP Sales, Acme Corp"
    assert copied == f"“Halloween, in New York.” ({who}, 31 Oct 2026)\n{url.removesuffix('/team/')}{link}"
    context.close()


# A large archive: 30,000 quotes over three years.

def _large(repo: Repo) -> None:
    roles = list(PERSONAS)
    for n in range(1000):
        day = dt.date(2026, 11, 30) - dt.timedelta(days=n)
        turns = "\n\n".join(f"**{'Dana Whitfield' if i % 2 else 'Priya Raman'}:** [Quote {n}.{i} about the "
                            f"{WORDS[(n + i) % len(WORDS)]} at {COMPANIES[i % 4]}.]{{.pain}}" for i in range(30))
        repo.write(f"content/transcripts/{day.year}/call-{n:04d}.md",
                   f"---\ntitle: Call {n}\ndate: {day.isoformat()}\ncompany: Company {n % 1500}\nparticipants:\n"
                   f"  Dana Whitfield: {roles[0]}\n  Priya Raman: {roles[1]}\n---\n\n" + turns + "\n")


@pytest.mark.slow
def test_last_30_days_of_30000_quotes_loads_only_the_newest_months(tmp_path, browser):
    repo = Repo(tmp_path / "large")
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    _large(repo)
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    assert "30,000 quotes" in result.stderr
    requests: list[str] = []
    server = _serve(repo.root / "site", requests)
    page = browser.new_page()
    page.clock.set_fixed_time(NOW)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        page.goto(base + "quotes/?role=head-of-revops&since=30d")
        found = answer(page)
        assert len(found) == 50
        shards = sorted(p.rpartition("/")[2] for p in requests if p.startswith("/data/quotes/2"))
        assert shards == ["2026-11.json"]  # 30 days back from 1 December: November only
        requests.clear()
        # All 30 days, a page at a time: still nothing older is asked for.
        while page.locator("#more").is_visible():
            count = page.locator("#results [data-quote-id]").count()
            page.locator("#more").click()
            page.wait_for_selector(f"#results > li:nth-child({count + 1})")
        assert page.locator("#results").get_attribute("data-count") == str(15 * 30)
        assert not [p for p in requests if p.startswith("/data/")]
        # A query with no time: the newest months, one after another, only until 50 are found.
        requests.clear()
        page.goto(base + "quotes/?tag=pain")
        answer(page)
        assert [p for p in requests if p.startswith("/data/quotes/2")] == ["/data/quotes/2026-11.json"]
        sizes = [p.stat().st_size for p in (repo.root / "site/data/quotes").glob("????-??.json")]
        assert len(sizes) == 33 and max(sizes) < 300_000
    finally:
        page.close()
        server.shutdown()
