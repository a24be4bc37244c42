"""What a person sees, in real headless Chromium: layout on a phone, the tag filter, contrast."""

from __future__ import annotations

import functools
import os
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


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(ROOT / "content", root / "content")
    repo = Repo(root)
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root / "site"))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


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
    cards = page.locator(".persona-quotes .quote-card")
    assert cards.count() == 20
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.get_by_role("link", name="Pain").first.click()
    visible = page.locator(".persona-quotes .quote-card:visible")
    assert 0 < visible.count() < 20
    for i in range(visible.count()):
        assert "pain" in visible.nth(i).get_attribute("data-tags").split()
    assert "tagged Pain" in page.locator(".filter-status").inner_text()
    assert requests == []
    page.get_by_role("link", name="All").first.click()
    assert page.locator(".persona-quotes .quote-card:visible").count() == 20
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
