"""Issue 19 in real Chromium: what a person sees on a persona page, on the day they read it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import PERSONAS, Repo
from test_browser import CHROMIUM, ROOT, browser, serve_folder  # noqa: F401 (browser: the suite's Chromium, a fixture)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
BUILT = dt.datetime(2026, 12, 1, 12, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The sample as committed on 25 Nov 2026, built on 1 Dec 2026."""
    root = tmp_path_factory.mktemp("persona")
    shutil.copytree(ROOT / "content", root / "content")
    repo = Repo(root)
    repo.commit_all("sample", date="2026-11-25T12:00:00+00:00")
    yield from _built_and_served(repo)


def _built_and_served(repo: Repo):
    """Build the site on BUILT's day, and serve it: yields its address."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", str(int(BUILT.timestamp())))
    try:
        assert repo.run("build").exit_code == 0
    finally:
        mp.undo()
    yield from serve_folder(repo.root / "site")


def _page(browser, when: dt.datetime = BUILT, **options):
    context = browser.new_context(**options)
    page = context.new_page()
    page.clock.set_fixed_time(when)  # the reader's today, pinned
    return context, page


def _visible(page) -> list:
    return page.locator(".persona-quotes .quote-card:visible").evaluate_all("cs => cs.map(c => c.dataset.tags)")


def test_window_tabs_and_chip_counts_agree_with_the_quotes_shown(browser, site_url, tmp_path):
    context, page = _page(browser, viewport={"width": 1280, "height": 800})
    page.goto(site_url + "personas/head-of-revops/")
    assert page.locator("[data-windows] button[aria-pressed=true]").inner_text().startswith("Latest 20")
    for window in ("30d", "quarter", "latest"):
        page.locator(f"[data-windows] button[data-window='{window}']").click()
        shown = _visible(page)
        assert shown, window
        assert int(page.locator(".tag-filter a[data-tag=''] .count").inner_text()) == len(shown)
        for tag in ("pain", "objection", "criteria"):
            chip = int(page.locator(f".tag-filter a[data-tag='{tag}'] .count").inner_text())
            assert chip == sum(tag in tags.split() for tags in shown), (window, tag)
        page.locator(".tag-filter a[data-tag=pain]").click()
        assert len(_visible(page)) == int(page.locator(".tag-filter a[data-tag=pain] .count").inner_text())
        page.locator(".tag-filter a[data-tag='']").click()
    # Last 30 days on 1 Dec 2026: quotes of 1 Nov and later, and no others
    page.locator("[data-windows] button[data-window='30d']").click()
    dates = page.locator(".persona-quotes .quote-card:visible").evaluate_all("cs => cs.map(c => c.dataset.date)")
    assert min(dates) >= "2026-11-01"
    page.screenshot(path=str(tmp_path / "persona-desktop.png"))
    context.close()


def test_the_clock_seventy_days_on_reads_true(browser, site_url):
    context, page = _page(browser, BUILT + dt.timedelta(days=70))
    page.goto(site_url)
    card = page.locator(".persona-card", has=page.locator("h3", has_text="Chief Financial Officer"))
    # Built on 1 Dec as Fresh (last heard 10 Nov); read on 9 Feb 2027, 91 days on: stale after 90
    assert card.locator(".badge").inner_text() == "Stale"
    assert card.locator("time[data-days]").inner_text() == "91 days ago"
    assert card.locator("[data-recent-dates]").inner_text() == "0 quotes"
    assert page.locator(".as-of:visible").count() == 0
    page.goto(site_url + "personas/head-of-revops/")
    page.locator("[data-windows] button[data-window='30d']").click()
    assert _visible(page) == []
    assert "No quotes in the last 30 days" in page.locator(".filter-status").inner_text()
    page.locator(".filter-status button").click()
    assert len(_visible(page)) == 20
    context.close()


def test_without_javascript_the_page_says_as_of_the_build(browser, site_url):
    context, page = _page(browser, java_script_enabled=False)
    page.goto(site_url + "personas/head-of-revops/")
    assert "(as of 1 Dec 2026)" in page.locator(".persona-status").inner_text()
    assert page.locator(".persona-quotes .quote-card:visible").count() == 20
    assert page.locator("[data-windows]:visible").count() == 0
    context.close()


def test_new_marks_the_last_week_then_what_came_since_the_last_visit(browser, site_url):
    context, page = _page(browser)
    page.goto(site_url + "personas/head-of-revops/")
    new = page.locator(".persona-quotes .quote-card:visible .badge-new")
    # The sample was committed on 25 Nov: on 1 Dec, a first visit marks every quote added then
    first = new.count()
    assert first > 0 and page.locator(".new-key").is_visible()
    page.reload()  # nothing added since this visit
    assert new.count() == 0 and not page.locator(".new-key").is_visible()
    context.close()
    later, page = _page(browser, BUILT + dt.timedelta(days=10))
    page.goto(site_url + "personas/head-of-revops/")  # a first visit 10 days on: added 16 days ago is not new
    assert page.locator(".quote-card .badge-new").count() == 0
    later.close()


def test_copy_puts_the_quote_its_attribution_and_link_on_the_clipboard(browser, site_url):
    context, page = _page(browser, permissions=["clipboard-read", "clipboard-write"])
    page.goto(site_url + "personas/head-of-revops/")
    card = page.locator(".persona-quotes .quote-card").first
    card.get_by_role("button", name="Copy the quote with who said it and a link").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    words = card.locator("blockquote").inner_text().strip()
    assert copied.startswith("“" + words[:30])
    assert card.get_attribute("data-cite") in copied
    # The link in context: the quote's place on its month's archive page, which holds it for good
    month = card.get_attribute("data-date")[:7]
    assert copied.endswith(f"/personas/head-of-revops/{month}/#{card.get_attribute('data-quote-id')}")
    assert card.locator(".copy").inner_text().startswith("Copied")
    context.close()


def test_the_trend_bars_open_their_month(browser, site_url):
    context, page = _page(browser)
    page.goto(site_url + "personas/head-of-revops/")
    bar = page.locator("[data-trend] svg a[aria-label^='Nov 2026']")
    count = int(bar.get_attribute("aria-label").split(": ")[1].split()[0])
    bar.click()
    page.wait_for_url("**/personas/head-of-revops/2026-11/")
    assert page.locator(".quote-card").count() == count
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_trend_and_chips_are_readable(browser, site_url, scheme):
    from test_browser import CONTRAST, CONTRAST_OF

    context, page = _page(browser, color_scheme=scheme)
    page.goto(site_url + "personas/head-of-revops/")
    for selector in (".key-facts", ".freshness-key", ".windows button", ".quote-card .company", ".copy", ".phrase-list a"):
        ratios = page.evaluate(CONTRAST, selector)
        assert ratios and min(ratios) >= 4.5, (scheme, selector, ratios)
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    for tag in ("pain", "objection", "criteria"):
        fill = page.evaluate(f"getComputedStyle(document.querySelector('.trend .seg-{tag}')).fill")
        assert page.evaluate(CONTRAST_OF, [fill, background]) >= 3, (scheme, tag)  # graphics: WCAG 1.4.11
    context.close()


def test_print_is_a_light_one_page_brief_with_its_footer(browser, site_url, tmp_path):
    from test_browser import CONTRAST

    context, page = _page(browser, color_scheme="dark")
    page.goto(site_url + "personas/head-of-revops/")
    page.locator("[data-windows] button[data-window='30d']").click()  # what was on screen does not matter
    page.emulate_media(media="print", color_scheme="dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    for selector in (".chip-pain", ".chip-objection", ".chip-criteria", ".site-footer p", ".quote-card .meta"):
        ratios = page.evaluate(CONTRAST, selector)
        assert ratios and min(ratios) >= 4.5, (selector, ratios)
    assert page.locator(".site-footer").is_visible() and "from commit" in page.locator(".site-footer").inner_text()
    assert page.locator(".persona-quotes .quote-card:visible").count() == 20
    assert page.locator("[data-trend]").is_visible()
    assert not page.locator(".about").is_visible() and not page.locator(".masthead").is_visible()
    pdf = tmp_path / "brief.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page>>") <= 2
    page.screenshot(path=str(tmp_path / "print.png"), full_page=True)
    context.close()


def test_a_phone_sees_the_quotes_within_the_first_screen_and_a_half(browser, site_url, tmp_path):
    context, page = _page(browser, viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(site_url + "personas/head-of-revops/")
    top = page.evaluate("document.querySelector('.persona-quotes .quote-card').getBoundingClientRect().top")
    assert top < 1.5 * 844
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.screenshot(path=str(tmp_path / "persona-phone.png"))
    context.close()


# The tags index (issue 19, items 4 and 6): the persona-by-tag grid of the last 90 days, counted on the day it is read.

@pytest.fixture(scope="module")
def tags_url(tmp_path_factory):
    """Two personas' quotes 10, 80 (two that day) and 95 days before a build on 1 Dec 2026."""
    repo = Repo(tmp_path_factory.mktemp("tags"))
    for slug, text in PERSONAS.items():
        repo.write(f"content/personas/{slug}.md", text)
    for days, body in [(10, "**Dana Whitfield:** [Ten days ago.]{.pain}"),
                       (80, "**Dana Whitfield:** [Eighty days ago.]{.pain} [And again.]{.pain .objection}\n\n"
                            "**Priya Raman:** [Eighty days, VP Sales.]{.criteria}"),
                       (95, "**Dana Whitfield:** [Ninety-five days ago.]{.pain}")]:
        repo.transcript(f"call-{days}.md", body + "\n", date=(BUILT - dt.timedelta(days=days)).date().isoformat())
    yield from _built_and_served(repo)


def _grid(page) -> dict[tuple[str, str], str]:
    """(persona, tag) -> the number a person sees in its cell."""
    tags = page.locator(".tag-grid thead th").all_inner_texts()[1:]
    cells = {}
    for row in page.locator(".tag-grid tbody tr").all():
        persona = row.locator("th").inner_text()
        for tag, cell in zip(tags, row.locator("td").all_inner_texts()):
            cells[persona, tag] = cell.strip()
    return cells


BUILD_GRID = {("Head of Revenue Operations", "Pain"): "3", ("Head of Revenue Operations", "Objection"): "1",
              ("Head of Revenue Operations", "Decision criteria"): "0", ("VP Sales", "Pain"): "0",
              ("VP Sales", "Objection"): "0", ("VP Sales", "Decision criteria"): "1"}


def test_the_tags_grid_counts_the_last_90_days_from_the_day_it_is_read(browser, tags_url, tmp_path):
    context, page = _page(browser, viewport={"width": 1280, "height": 800})
    page.goto(tags_url + "tags/")
    assert _grid(page) == BUILD_GRID  # on the day of the build: 10 and 80 days old count, 95 do not
    assert page.locator(".as-of:visible").count() == 0
    context.close()
    context, page = _page(browser, BUILT + dt.timedelta(days=20), viewport={"width": 1280, "height": 800})
    page.goto(tags_url + "tags/")
    # 20 days on: the quotes of 80 days before the build are 100 days old; the one of 10 days, 30
    assert _grid(page) == {**BUILD_GRID, ("Head of Revenue Operations", "Pain"): "1",
                           ("Head of Revenue Operations", "Objection"): "0", ("VP Sales", "Decision criteria"): "0"}
    cell = page.locator(".tag-grid tbody tr", has_text="VP Sales").locator("td").nth(2)
    assert cell.get_attribute("class") == "zero"  # greyed as a zero is
    link = page.get_by_role("link", name="Objection from Head of Revenue Operations, last 90 days: 0 quotes")
    assert link.get_attribute("href") == "/quotes/?role=head-of-revops&tag=objection&since=90d"
    assert page.locator(".as-of:visible").count() == 0
    page.screenshot(path=str(tmp_path / "tags-later.png"))
    context.close()


def test_without_javascript_the_tags_grid_says_as_of_the_build(browser, tags_url):
    context, page = _page(browser, BUILT + dt.timedelta(days=20), java_script_enabled=False)
    page.goto(tags_url + "tags/")
    assert _grid(page) == BUILD_GRID
    assert "of the last 90 days (as of 1 Dec 2026)" in page.locator(".lede").inner_text()
    context.close()


def test_a_quote_with_its_own_offset_is_counted_on_its_day_in_the_sites_zone(browser, repo):
    """Said at 23:30 in California on 30 Nov, it is 1 Dec, 02:30 in New York, the site's zone: read on 1 Dec at
    07:00 there, it was heard today, on the page as built and as site.js counts it again (a bug hunt found site.js
    taking the day from the date as written, in the quote's own offset)."""
    repo.write("persona-site.toml", 'timezone = "America/New_York"\n')
    repo.transcript("late.md", "**Dana Whitfield:** [Said late on the West Coast.]{.pain}\n",
                    date="2026-11-30T23:30:00-08:00")
    repo.transcript("edge.md", "**Dana Whitfield:** [Late on 1 Nov out west, 2 Nov here.]{.objection}\n",
                    date="2026-11-01T23:30:00-08:00")  # 29 days before 1 Dec in New York: in the last 30 days
    repo.transcript("early.md", "**Dana Whitfield:** [Said in October.]{.criteria}\n", date="2026-10-14")
    repo.commit_all("calls", date="2026-12-01T01:00:00+00:00")
    served = _built_and_served(repo)
    url = next(served)
    try:
        context, page = _page(browser)
        for address in ("", "personas/head-of-revops/"):
            page.goto(url + address)
            assert page.locator("time[data-days]").first.inner_text() == "today", address
        assert page.locator(".persona-status [data-recent-count]").inner_text() == "2"
        page.locator("[data-windows] button[data-window='30d']").click()
        assert _visible(page) == ["pain", "objection"]
        context.close()
    finally:
        next(served, None)
