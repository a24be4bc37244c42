"""The month and company pages as a person sees them, in real headless Chromium (issue 18, item 4)."""

from __future__ import annotations

import pytest

from test_browser import CONTRAST, browser, pytestmark, site_url  # noqa: F401 (fixtures, and the skip without Chromium)

PAGES = ["personas/head-of-revops/2026-11/", "companies/quayside-cold-chain/", "companies/"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("size", [(1280, 800), (390, 844)])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_archive_and_company_pages_read_well_on_a_desk_and_a_phone(browser, site_url, path, size, scheme, tmp_path):
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=width < 600, color_scheme=scheme)
    page.goto(site_url + path)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert page.locator("main").count() == 1 and page.locator("h1").count() == 1
    assert page.locator("nav[aria-label]").count() >= 1
    for selector in ("h1", ".lede", ".meta", ".crumbs", ".who", ".count", ".personas-met a", ".company-index a"):
        ratios = page.evaluate(CONTRAST, selector)
        assert all(ratio >= 4.5 for ratio in ratios), (selector, ratios)
    if page.locator(".quote-card blockquote p").count():
        assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.quote-card blockquote p')).fontSize)") >= 16
    page.screenshot(path=str(tmp_path / f"{path.strip('/').replace('/', '-')}-{width}-{scheme}.png"), full_page=True)
    page.close()


def test_every_month_and_company_is_reached_by_plain_links(browser, site_url):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "personas/head-of-revops/")
    page.get_by_role("link", name="October 2026").click()
    page.wait_for_url("**/personas/head-of-revops/2026-10/")
    first = page.locator(".quote-card").first
    quote_id = first.get_attribute("id")
    page.get_by_role("link", name="Companies").click()
    page.wait_for_url("**/companies/")
    page.get_by_role("link", name="Quayside Cold Chain").click()
    page.wait_for_url("**/companies/quayside-cold-chain/")
    assert page.locator("h1").inner_text() == "Quayside Cold Chain"
    page.goto(site_url + f"personas/head-of-revops/2026-10/#{quote_id}")  # a link to a quote lands on it
    assert page.evaluate("document.querySelector(':target').dataset.quoteId") == quote_id
    context.close()
