"""What a person sees, in real headless Chromium: layout on a phone, the tag filter, contrast."""

from __future__ import annotations

import functools
import os
import re
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from conftest import Repo

CHROMIUM = os.environ.get("PERSONA_SITE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)")


def _served(root: Path, config: str = ""):
    shutil.copytree(ROOT / "content", root / "content")
    repo = Repo(root)
    repo.write("persona-site.toml", config)
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    yield from serve_folder(root / "site")


def serve_folder(folder: Path):
    """A plain static server over a built site, on a free port: yields its address."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    yield from _served(tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def published_url(tmp_path_factory):
    """The sample with its transcripts published."""
    yield from _served(tmp_path_factory.mktemp("published"), "publish_transcripts = true\n")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_index_lists_every_persona_with_freshness(browser, site_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(site_url)
    cards = page.locator(".persona-card")
    assert cards.count() == 5
    assert page.locator(".persona-card .badge").count() == 5
    page.screenshot(path=str(tmp_path / "index.png"), full_page=True)
    page.close()


def test_tag_filter_works_without_a_server_round_trip(browser, site_url):
    page = browser.new_page()
    page.goto(site_url + "personas/head-of-revops/")
    cards = page.locator(".persona-quotes .quote-card:visible")
    assert cards.count() == 20
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    pain = page.locator(".tag-filter a[data-tag=pain]")
    pain.click()
    visible = page.locator(".persona-quotes .quote-card:visible")
    assert 0 < visible.count() < 20
    for i in range(visible.count()):
        assert "pain" in visible.nth(i).get_attribute("data-tags").split()
    assert "tagged Pain" in page.locator(".filter-status").inner_text()
    assert int(pain.locator(".count").inner_text()) == visible.count()  # the chip counts what it shows
    # The chosen chip is the current filter, not another page (the page did not change).
    assert pain.get_attribute("aria-current") == "true"
    assert page.locator(".tag-filter a[aria-current]").count() == 1
    assert requests == []
    page.get_by_role("link", name="All").first.click()
    assert page.locator(".persona-quotes .quote-card:visible").count() == 20
    assert page.locator(".filter-status").inner_text() == ""
    page.close()


def test_tag_filter_is_kept_in_the_address_and_leads_to_older_quotes(browser, site_url):
    page = browser.new_page()
    page.goto(site_url + "personas/head-of-revops/")
    page.locator(".tag-filter a[data-tag=pain]").click()
    shown = page.locator(".persona-quotes .quote-card:visible").count()
    assert page.url.endswith("/personas/head-of-revops/#tag=pain")
    page.reload()  # a reload, or the address shared, keeps the filter
    assert page.locator(".persona-quotes .quote-card:visible").count() == shown
    assert page.locator(".tag-filter a[data-tag=pain]").get_attribute("aria-current") == "true"
    page.go_back()  # Back to the page as it opened
    assert page.url.endswith("/personas/head-of-revops/")
    assert page.locator(".persona-quotes .quote-card:visible").count() == 20
    assert page.locator(".tag-filter a[data-tag='']").get_attribute("aria-current") == "true"
    page.go_forward()
    assert page.locator(".persona-quotes .quote-card:visible").count() == shown
    # The status links to the tag's own page, with the tag's latest 20, not only those among the latest 20 in all.
    total = int(page.locator(".tag-filter a[data-tag=pain]").get_attribute("data-total"))  # all the persona's
    assert total > shown
    more = page.locator(".filter-status a")
    assert more.inner_text() == f"The latest {min(total, 20)} pain quotes"
    more.click()
    page.wait_for_url("**/personas/head-of-revops/pain/")
    assert page.locator(".persona-quotes .quote-card").count() == min(total, 20)
    assert page.locator(".tag-filter a[data-tag=pain]").get_attribute("aria-current") == "page"
    page.close()


def test_tag_chips_open_the_tag_pages_without_javascript(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "personas/head-of-revops/")
    page.locator(".tag-filter a[data-tag=objection]").click()
    page.wait_for_url("**/personas/head-of-revops/objection/")
    assert page.locator("#quotes-heading").inner_text() == "Latest objection quotes"
    context.close()


@pytest.mark.parametrize("path", ["", "personas/head-of-revops/", "tags/", "companies/", "quotes/"])
def test_a_narrow_window_scrolls_no_page_sideways_and_shows_every_site_link(browser, site_url, path):
    """A window as narrow as a phone, without a phone's zooming out to fit (a desktop browser, a split screen): no
    page is wider than it (a screen reader's table, hidden, once was), and the header's links all show."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(site_url + path)
    assert page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth") <= 0
    for link in page.locator(".masthead nav a").all():
        box = link.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, link.inner_text()
    page.close()


@pytest.mark.parametrize("path", ["", "personas/cfo/", "tags/pain/"])
def test_pages_fit_a_phone_without_sideways_scrolling(browser, site_url, path, tmp_path):
    page = browser.new_page(viewport={"width": 375, "height": 812}, device_scale_factor=2, is_mobile=True)
    page.goto(site_url + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('blockquote p, p')).fontSize)")
    assert font >= 16
    page.screenshot(path=str(tmp_path / "phone.png"), full_page=False)
    page.close()


CONTRAST_OF = """
([one, two]) => {
  const lum = (rgb) => {
    const probe = document.createElement('span');
    probe.style.color = rgb; document.body.appendChild(probe);
    const [r, g, b] = getComputedStyle(probe).color.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    probe.remove();
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const a = lum(one), b = lum(two);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
"""

CONTRAST = """
(selector) => {
  const lum = (rgb) => {
    const [r, g, b] = rgb.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = (el) => {
    for (; el; el = el.parentElement) {
      const bg = getComputedStyle(el).backgroundColor;
      if (bg && !bg.startsWith('rgba(0, 0, 0, 0)') && bg !== 'transparent') return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  return Array.from(document.querySelectorAll(selector)).slice(0, 5).map(el => {
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
}
"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(browser, site_url, scheme):
    page = browser.new_page(color_scheme=scheme)
    page.goto(site_url + "personas/head-of-revops/")
    for selector in (".lede", ".chip-pain", ".chip-objection", ".chip-criteria", ".badge", ".meta", ".who",
                     ".facts dt", ".tag-filter a", ".site-footer p", ".crumbs"):
        ratios = page.evaluate(CONTRAST, selector)
        assert ratios, selector
        assert min(ratios) >= 4.5, (selector, ratios)
    page.close()


def test_pages_have_landmarks_and_one_h1(browser, site_url):
    page = browser.new_page()
    for path in ("", "personas/vp-sales/", "tags/", "tags/objection/", "404.html"):
        page.goto(site_url + path)
        assert page.locator("main").count() == 1
        assert page.locator("h1").count() == 1
        assert page.locator("nav[aria-label]").count() >= 1
        assert page.evaluate("document.documentElement.lang") == "en"
    page.close()


def test_last_heard_counts_from_the_day_the_page_is_read(browser, site_url):
    page = browser.new_page()
    page.goto(site_url)
    built = page.locator("time[data-days]").first
    days = int(built.get_attribute("data-days"))
    page.close()
    later = browser.new_page()
    later.add_init_script("(() => { const real = Date; const shift = 10 * 86400000;"
                          " class Later extends real { constructor(...a) { super(...(a.length ? a : [real.now() + shift])); } }"
                          " Later.now = () => real.now() + shift; Later.UTC = real.UTC; window.Date = Later; })()")
    later.goto(site_url)
    text = later.locator("time[data-days]").first.inner_text()
    assert text.endswith("days ago") and int(text.split()[0]) >= days + 10
    later.close()


def test_quotes_in_a_published_transcript_stand_out_without_colour(browser, published_url):
    page = browser.new_page()
    page.goto(published_url + "personas/head-of-revops/")
    # A screen reader's list of links tells one "in context" link from the next: each names its quote.
    link = page.get_by_role("link", name=re.compile(r"^in context \(the quote of Head of Revenue Operations · .+, \d+ \w+ \d{4}\)$"))
    assert link.count() == page.locator("a:visible", has_text="in context").count() > 1
    link.first.click()
    mark = page.locator("mark.quote").first
    mark.wait_for()
    page.wait_for_load_state("load")  # the stylesheet applied: on a busy machine the mark can be there before it
    style = page.evaluate("""(el) => {
        const own = getComputedStyle(el), after = getComputedStyle(el, '::after');
        return {shadow: own.boxShadow, tags: after.content, fontSize: parseFloat(after.fontSize)};
    }""", mark.element_handle())
    # An underline in the accent colour besides the tint (WCAG 1.4.1), and the quote's tags in words.
    assert "inset" in style["shadow"] and "-2px" in style["shadow"]
    assert style["tags"] == f'"{mark.get_attribute("data-tags")}"'
    assert style["fontSize"] >= 10
    colour = "getComputedStyle(document.documentElement).getPropertyValue('{}')".format
    ratio = page.evaluate(CONTRAST_OF, [page.evaluate(colour("--accent")), page.evaluate(colour("--accent-soft"))])
    assert ratio >= 3  # the underline against the tint it sits on (WCAG 1.4.11)
    page.close()


def test_the_title_keeps_its_distance_from_the_top_of_a_phone(browser, site_url):
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(site_url + "personas/head-of-revops/")
    assert page.evaluate("document.querySelector('.masthead nav').getBoundingClientRect().top "
                         "> document.querySelector('.brand').getBoundingClientRect().bottom")  # wrapped, as on a phone
    assert page.evaluate("document.querySelector('.brand').getBoundingClientRect().top") >= 8
    page.close()


def test_a_tag_pages_heading_is_as_large_as_a_heading(browser, site_url):
    page = browser.new_page()
    page.goto(site_url + "tags/objection/")
    heading = page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1 .chip')).fontSize)")
    lede = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.lede')).fontSize)")
    assert heading >= 1.5 * lede
    page.close()


def test_every_page_says_when_the_site_was_built_from_one_file(browser, site_url):
    """A page that did not change in a build is not written again only to say when it was (issue 22): its footer
    reads build.json, which says the same as the index's footer."""
    page = browser.new_page()
    page.goto(site_url)
    said = page.locator(".site-footer .built").inner_text()
    assert said.startswith("Built ") and "UTC" in said
    for other in ("companies/", "personas/head-of-revops/"):  # a persona page says the day itself, site.js the rest
        page.goto(site_url + other)
        footer = page.locator(".site-footer .built")
        footer.filter(has_text="UTC").wait_for()
        assert footer.inner_text() == said
    page.close()
    plain = browser.new_page(java_script_enabled=False)
    plain.goto(site_url + "companies/")
    assert "the home page says when" in plain.locator(".site-footer .built").inner_text()
    plain.close()


def test_the_tags_grid_fits_a_phone_without_scrolling_inside_it(browser, site_url):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(site_url + "tags/")
    grid, room = page.evaluate("(() => { const g = document.querySelector('.tag-grid');"
                               " return [g.scrollWidth, g.parentElement.clientWidth]; })()")
    assert grid <= room
    page.close()
