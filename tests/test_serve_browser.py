"""`persona-site serve` in real headless Chromium: save a transcript, see the page change by itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from serve_helpers import make_repo, serving, transcript, wait_until, write
from test_browser import CHROMIUM, browser  # noqa: F401 -- the suite's one headless Chromium fixture

from persona_site.serve import Address, PreviewServer

ACME = "content/transcripts/2026/acme.md"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
    pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning"),  # watchdog's own race on new folders
]


def test_a_saved_quote_appears_without_a_manual_reload(browser, tmp_path):
    source = make_repo(tmp_path / "repo", base_url="/team/")
    with serving(source) as running:
        page = browser.new_page()
        page.goto(running.preview.url + "personas/head-of-revops/")
        wait_until(lambda: running.preview.site.listeners == 1, what="the page's live-reload stream")

        write(source, ACME, transcript("Seen without reloading."))
        page.locator("[data-quote-id]", has_text="Seen without reloading.").wait_for(timeout=10_000)

        write(source, ACME, transcript("Broken on purpose.", tag="no-such-tag"))
        overlay = page.locator("#persona-site-errors")
        overlay.wait_for(timeout=10_000)
        assert f"{ACME}:13" in overlay.inner_text() and "no-such-tag" in overlay.inner_text()
        assert page.get_by_text("Seen without reloading.").is_visible()  # the last good page, under it

        write(source, ACME, transcript("Fixed, and the overlay is gone."))
        page.get_by_text("Fixed, and the overlay is gone.").wait_for(timeout=10_000)
        assert overlay.count() == 0


def test_hidden_tabs_let_go_and_pages_reconnect_after_a_restart(browser, tmp_path):
    source = make_repo(tmp_path / "repo")
    with serving(source) as running:
        port, site = running.port, running.preview.site
        page = browser.new_page()
        page.goto(running.preview.url)
        wait_until(lambda: site.listeners == 1, what="the page's live-reload stream")
        # Headless Chromium never hides a tab, so flip what the page sees and tell it (mkdocs#3389).
        page.evaluate("""() => {
            Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
            document.dispatchEvent(new Event("visibilitychange"));
        }""")
        wait_until(lambda: site.listeners == 0, what="the hidden tab to close its stream")
        page.evaluate("""() => {
            Object.defineProperty(document, "hidden", {configurable: true, get: () => false});
            document.dispatchEvent(new Event("visibilitychange"));
        }""")
        wait_until(lambda: site.listeners == 1, what="the shown tab to reconnect")
        page.evaluate("window.beforeRestart = true")

    write(source, ACME, transcript("Saved while the server was down."))
    with PreviewServer(source, Address(port=port), report=lambda message: None) as restarted:
        page.wait_for_function("() => window.beforeRestart === undefined", timeout=10_000)  # it reloaded
        page.get_by_text("Saved while the server was down.").first.wait_for(timeout=10_000)
        wait_until(lambda: restarted.site.listeners == 1, what="the page to reconnect")
