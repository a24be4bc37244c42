"""`persona-site serve`: a real server on a free port, real files, real HTTP requests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from serve_helpers import make_repo, serving, transcript, wait_until, write

from persona_site.cli import main
from persona_site.serve import EVENTS, Address, HostCheck, PreviewServer, ServeError, serve
from persona_site.watch import changed_path

ACME = "content/transcripts/2026/acme.md"
REVOPS = "personas/head-of-revops/"

pytestmark = pytest.mark.filterwarnings("ignore:Callback with id:RuntimeWarning")  # watchdog's own race on new folders


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def running(source: Path):
    with serving(source) as r:
        yield r


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """One server for the refusal tests."""
    with serving(make_repo(tmp_path_factory.mktemp("guarded") / "repo"), watch=False) as r:
        yield r


def settled(running, count: int) -> bool:
    """True once `count` rebuilds happened and no other follows within a short quiet spell."""
    wait_until(lambda: len(running.rebuilds) >= count, what=f"{count} rebuild(s)")
    time.sleep(0.3)  # longer than the debounce: a second rebuild would have started by now
    return len(running.rebuilds) == count


# --- serving ---------------------------------------------------------------------------------

def test_serves_the_site_under_its_base_url_with_content_types(tmp_path):
    with serving(make_repo(tmp_path / "repo", base_url="https://example.com/team/")) as r:
        assert r.preview.url.endswith("/team/")
        page = r.get("")
        assert page.status == 200 and page.headers["content-type"] == "text/html; charset=utf-8"
        assert 'href="/team/personas/' in page.text  # a full base_url previews at its path
        assert r.get("/").status == 302 and r.get("/").headers["location"] == "/team/"
        assert r.get("personas/vp-sales").headers["location"] == "/team/personas/vp-sales/"
        assert r.get("quotes.json").headers["content-type"] == "application/json"
        assert r.get(REVOPS + "feed.xml").headers["content-type"] == "application/atom+xml"
        assert r.get("assets/style.css").headers["content-type"].startswith("text/css")
        head = r.get("", method="HEAD")
        assert head.status == 200 and head.body == b"" and int(head.headers["content-length"]) == len(page.body)
        missing = r.get("personas/nobody/")
        assert missing.status == 404 and "Page not found" in missing.text


def test_a_base_url_in_other_letters_and_a_query_survive_a_redirect(tmp_path):
    """A Location header holds ASCII only: '/übersicht/' made the front door an empty reply and a traceback; and a
    redirect to a folder's slash kept no query, so a pasted /quotes?role=cfo lost its filter (found by a bug hunt)."""
    with serving(make_repo(tmp_path / "repo", base_url="/übersicht/")) as r:
        door = r.get("/")
        assert door.status == 302 and door.headers["location"] == "/%C3%BCbersicht/"
        assert r.get(door.headers["location"]).status == 200
        search = r.get("/%C3%BCbersicht/quotes?role=cfo&since=30d")
        assert search.status == 302 and search.headers["location"] == "/%C3%BCbersicht/quotes/?role=cfo&since=30d"
        assert r.get(search.headers["location"]).status == 200


def test_pages_carry_the_live_reload_script_and_built_pages_never_do(running, source):
    assert EVENTS in running.get(REVOPS).text
    assert not (source / "site").exists(), "serve must not write the site folder"
    result = CliRunner().invoke(main, ["build", "--source", str(source)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    built = [p.read_text("utf-8") for p in (source / "site").rglob("*.html")]
    assert built and not any(EVENTS in text or "EventSource" in text for text in built)


def test_no_watch_serves_without_live_reload(source):
    with serving(source, watch=False) as r:
        assert r.get(REVOPS).status == 200 and EVENTS not in r.get(REVOPS).text


@pytest.mark.parametrize("target", [
    "/../persona-site.toml", "/%2e%2e/%2e%2e/etc/passwd", "/personas/%2E%2E/%2e%2e/persona-site.toml",
    "/..%2f..%2fetc%2fpasswd", "/..\\..\\etc\\passwd", "/%5c..%5cpersona-site.toml", "//etc/passwd",
    "/etc/passwd", "/content/personas/vp-sales.md", "/persona-site.toml", "/personas/./vp-sales/",
    "/%252e%252e/persona-site.toml", "/assets/%00style.css", "/assets/../../persona-site.toml",
])
def test_traversal_attempts_get_404(guarded, target):
    response = guarded.get(target)
    assert response.status == 404, target
    assert b"title =" not in response.body and b"Page not found" in response.body


def test_a_theme_file_linking_out_of_the_repository_is_never_served(running, source, tmp_path):
    (tmp_path / "secret.txt").write_text("top secret")
    write(source, "themes/default/static/style-extra.css", "p {}")
    (source / "themes/default/static/secret.txt").symlink_to(tmp_path / "secret.txt")
    wait_until(lambda: running.preview.site.current.errors, what="the build to refuse the link")
    for target in ("assets/secret.txt", "assets/style-extra.css"):
        response = running.get(target)
        assert response.status == 404 and b"top secret" not in response.body


@pytest.mark.parametrize("host, allowed", [
    (None, True), ("localhost", True), ("127.0.0.1", True), ("[::1]:8000", True), ("preview.localhost", True),
    ("evil.example", False), ("evil.example:8000", False), ("127.0.0.1.nip.io", False), ("192.168.1.20", False), ("[::1", False),
])
def test_host_check_refuses_foreign_names(host, allowed):
    assert HostCheck.for_host("127.0.0.1").allows(host) is allowed


def test_host_check_accepts_this_computers_name_as_the_readme_says():
    assert HostCheck.for_host("127.0.0.1").allows(f"{socket.gethostname()}:8000")


def test_host_check_on_every_address_accepts_addresses_not_names():
    check = HostCheck.for_host("0.0.0.0")
    assert check.allows("192.168.1.20:8000") and check.allows(f"{socket.gethostname()}:8000")
    assert not check.allows("attacker.example")


def test_a_foreign_host_header_is_refused(guarded):
    assert guarded.get(REVOPS, host="attacker.example").status == 403
    assert guarded.get(REVOPS, host=f"localhost:{guarded.port}").status == 200


# --- watching and rebuilding -----------------------------------------------------------------

def test_an_edit_shows_up(running, source):
    write(source, ACME, transcript("We reconcile pipeline in spreadsheets."))
    running.wait_for_text(REVOPS, "We reconcile pipeline in spreadsheets.")
    assert wait_until(lambda: running.rebuilds, what="the rebuild recorded")[-1] == {ACME}  # after the page is served


def test_a_burst_of_saves_is_one_rebuild(running, source):
    for n in range(60):  # what a `git checkout` of many files looks like to the watcher
        write(source, f"content/transcripts/2027/call-{n}.md", transcript(f"Burst quote {n}."))
    running.wait_for_text("quotes.json", "Burst quote 59.")
    assert settled(running, 1), running.rebuilds
    assert len(running.rebuilds[0]) >= 60


def test_editor_temp_files_output_and_git_trigger_nothing(running, source):
    folder = source / "content" / "transcripts" / "2026"
    for name in ("acme.md.swp", ".acme.md.swx", "acme.md~", "4913", ".#acme.md", "#acme.md#", "acme.tmp",
                 ".goutputstream-XK2J", "acme.md___jb_tmp___", "acme.md___jb_old___", "acme.md.kate-swp", "acme.bck"):
        (folder / name).write_text("scratch")
    write(source, "site/index.html", "not ours")
    write(source, ".git/index.lock", "busy")
    write(source, "notes.md", "outside content/")
    write(source, ACME, transcript("After the scratch files."))  # the one real save, last
    running.wait_for_text(REVOPS, "After the scratch files.")
    assert settled(running, 1) and running.rebuilds == [{ACME}]
    assert {p.name for p in running.preview.watcher.watched()} == {"repo", "content"}


@pytest.mark.parametrize("name", ["acme.md.swp", ".acme.md.swp", "x.swx", "acme.md~", "4913", ".#acme.md", "#acme.md#",
                                  "a.tmp", ".goutputstream-AB12", "acme.md___jb_tmp___", "acme.md___jb_old___",
                                  "acme.md.kate-swp", "acme.bck"])
def test_editor_artefacts_are_not_changes(tmp_path, name):
    assert changed_path(tmp_path, str(tmp_path / "content" / "transcripts" / name)) is None


@pytest.mark.parametrize("rel, expected", [
    ("content/transcripts/2026/acme.md", "content/transcripts/2026/acme.md"), ("persona-site.toml", "persona-site.toml"),
    ("themes/default/templates/base.html", "themes/default/templates/base.html"), ("content", "content"),
    ("site/index.html", None), (".git/HEAD", None), ("README.md", None), ("content/.hidden/x.md", None),
])
def test_what_counts_as_a_change(tmp_path, rel, expected):
    assert changed_path(tmp_path, str(tmp_path / rel)) == expected


def test_an_atomic_save_is_seen_through_its_destination(running, source):
    temp = source / "content" / "transcripts" / "2026" / ".goutputstream-Q1W2E3"
    temp.write_text(transcript("Saved the atomic way."), encoding="utf-8")
    os.replace(temp, source / ACME)
    running.wait_for_text(REVOPS, "Saved the atomic way.")
    assert wait_until(lambda: running.rebuilds, what="the rebuild recorded")[-1] == {ACME}  # after the page is served


@pytest.mark.skipif(not shutil.which("vim"), reason="vim is not installed")
def test_a_real_vim_save_is_one_rebuild_of_that_file(running, source):
    # backupcopy=no: vim renames the file to acme.md~, writes a new acme.md, deletes the backup (after a 4913 probe).
    subprocess.run(["vim", "-u", "NONE", "-N", "-es", "-c", "set writebackup nobackup backupcopy=no swapfile",
                    "-c", "%s/Quarter end/Month end/", "-c", "wq", str(source / ACME)], check=True, timeout=30)
    running.wait_for_text(REVOPS, "Month end is a scramble.")
    assert settled(running, 1) and running.rebuilds == [{ACME}]


def test_new_folders_renames_and_deletes(running, source):
    write(source, "content/transcripts/2028/q1/new.md", transcript("From a brand new folder."))
    running.wait_for_text("quotes.json", "From a brand new folder.")
    os.replace(source / "content/transcripts/2028/q1/new.md", source / "content/transcripts/2028/q1/renamed.md")
    running.wait_for_text("quotes.json", "transcripts/2028/q1/renamed.md")
    assert "transcripts/2028/q1/new.md" not in running.get("quotes.json").text
    (source / "content/transcripts/2028/q1/renamed.md").unlink()
    running.wait_for_text("quotes.json", "From a brand new folder.", present=False)


def test_config_and_theme_changes_rebuild(running, source):
    write(source, "persona-site.toml", 'title = "Renamed site"\n')
    running.wait_for_text("", "Renamed site")
    write(source, "themes/default/templates/404.html",
          '{% extends "base.html" %}{% block main %}<h1>Lost in the theme</h1>{% endblock %}')
    wait_until(lambda: "Lost in the theme" in running.get("nowhere/").text, what="the theme's new 404 page")


def test_polling_sees_an_edit(source):
    with serving(source, poll=True) as r:
        write(source, ACME, transcript("Seen by polling."))
        r.wait_for_text(REVOPS, "Seen by polling.")


def test_a_failing_report_does_not_stop_the_watcher(source, capsys):
    calls = []

    def explode_once(result, changed, seconds):
        calls.append(changed)
        if len(calls) == 1:
            raise RuntimeError("boom in a report")

    with serving(source, on_build=explode_once, report=print) as r:
        write(source, ACME, transcript("First save."))
        wait_until(lambda: calls, what="the first rebuild")
        write(source, ACME, transcript("Second save."))
        r.wait_for_text(REVOPS, "Second save.")
    assert "boom in a report" in capsys.readouterr().out


# --- never a half-built site -----------------------------------------------------------------

def test_an_error_keeps_the_last_good_site_and_shows_the_overlay(running, source):
    with running.events() as events:
        good = events.next_state()
        assert good["errors"] == [] and good["version"]
        write(source, ACME, transcript("Broken on purpose.", tag="no-such-tag"))
        broken = events.next_state(lambda state: state["errors"])
        assert broken["version"] == good["version"]  # the old site, still
        assert broken["errors"][0]["path"] == ACME and broken["errors"][0]["line"] == 13
        assert "no-such-tag" in broken["errors"][0]["message"]
        page = running.get(REVOPS)
        assert page.status == 200 and "Quarter end is a scramble." in page.text and "Broken on purpose" not in page.text
        write(source, ACME, transcript("Fixed and saved."))
        fixed = events.next_state(lambda state: not state["errors"])
        assert fixed["version"] != good["version"]
    assert "Fixed and saved." in running.get(REVOPS).text


def test_a_first_build_with_errors_serves_them_until_fixed(source):
    write(source, ACME, transcript("Not yet.", tag="no-such-tag"))
    with serving(source) as r:
        waiting = r.get(REVOPS)
        assert waiting.status == 503 and f"{ACME}:13" in waiting.text and EVENTS in waiting.text
        write(source, ACME, transcript("Now it builds."))
        r.wait_for_text(REVOPS, "Now it builds.")


def test_without_watching_the_waiting_page_says_to_start_again(source):
    """With --no-watch nothing rebuilds on a save: the page said 'Fix these errors and save; this page reloads'
    (found by a bug hunt)."""
    write(source, ACME, transcript("Not yet.", tag="no-such-tag"))
    with serving(source, watch=False) as r:
        waiting = r.get(REVOPS)
        assert waiting.status == 503 and f"{ACME}:13" in waiting.text and EVENTS not in waiting.text
        assert "stop the preview (Ctrl-C) and start it again" in waiting.text and "this page reloads" not in waiting.text


def test_every_response_is_one_whole_build(running, source):
    """Pages fetched during rebuilds carry one version each, and always a complete page."""
    versions = set()
    for n in range(5):
        write(source, ACME, transcript(f"Version {n}."))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            text = running.get(REVOPS).text
            assert text.rstrip().endswith("</html>") and text.count("persona-site serve: live reload") == 1
            if f"Version {n}." in text:
                versions.add(text.split('var version = "')[1].split('"')[0])
                break
    assert len(versions) == 5


def test_a_page_the_change_did_not_touch_is_served_with_the_new_version(running, source):
    """Unchanged pages are not rendered again (their bytes are kept), yet each response names the build it
    belongs to: else an open page would reload for ever, or never."""
    def version(text: str) -> str:
        return text.split('var version = "')[1].split('"')[0]

    with running.events() as events:
        first = events.next_state()["version"]
        assert version(running.get("personas/vp-sales/").text) == first
        write(source, ACME, transcript("Only the Head of RevOps page changes."))
        second = events.next_state(lambda state: state["version"] != first)["version"]
    untouched = running.get("personas/vp-sales/").text
    assert version(untouched) == second and "persona-site-build-" not in untouched
    assert version(running.get("no/such/page").text) == second  # the 404 page too
    assert "Only the Head of RevOps page changes." in running.get(REVOPS).text


def test_a_stream_closed_by_the_browser_is_released(running):
    with running.events() as events:
        events.next_state()
        wait_until(lambda: running.preview.site.listeners == 1, what="one listener")
    wait_until(lambda: running.preview.site.listeners == 0, what="the closed stream to be let go")


# --- the command -----------------------------------------------------------------------------

def test_boolean_options_are_paired_and_default_right():
    options = {p.name: p for p in serve.params}
    assert options["watch"].default is True and options["watch"].secondary_opts == ["--no-watch"]
    assert options["open_browser"].default is False and options["open_browser"].secondary_opts == ["--no-open"]
    assert options["poll"].default is False and options["poll"].secondary_opts == ["--no-poll"]
    help_text = CliRunner().invoke(main, ["serve", "--help"]).output
    assert "--watch / --no-watch" in help_text and "--host" in help_text


def test_a_busy_port_names_a_free_one(source):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--source", str(source), "--port", str(port)])
        assert result.exit_code == 1
        assert f"port {port} is already in use" in result.output and "--port " in result.output
        with PreviewServer(source, Address(port=port, next_free_port=True), watch=False, report=lambda m: None) as preview:
            assert f":{port}/" not in preview.url
        with pytest.raises(ServeError):
            PreviewServer(source, Address(port=port), watch=False).start()


def test_ctrl_c_stops_cleanly(source):
    # As in a terminal: Ctrl-C's signal at its default. A test run started in the background by a shell (`cmd &`)
    # hands its children SIGINT ignored, and Python then installs no KeyboardInterrupt for it at all.
    process = subprocess.Popen([sys.executable, "-c", "from persona_site.cli import main; main()", "serve", "-s", str(source), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = process.stdout.readline()
        assert line.startswith(f"Serving {source.resolve()} at http://127.0.0.1:"), line
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0 and "Traceback" not in err and "Stopped." in err


def test_a_rebuild_lets_the_site_it_replaced_go_a_moment_after_not_before_it_returns(source):
    """Freeing the last build's pages and all they hold alive (120 ms after the first build at 100,000 transcripts)
    waits until the new page is served, and no longer than RETIRE_AFTER: the preview never holds three sites."""
    from persona_site import preview

    site = preview.LiveSite(source)
    try:
        site.rebuild()
        first = site.current
        write(source, ACME, transcript("We reconcile pipeline in spreadsheets."))
        site.rebuild({ACME})
        assert site.current is not first and site._retired is first  # still held as the rebuild returns
        second = site.current
        write(source, ACME, transcript("We reconcile pipeline twice."))
        site.rebuild({ACME})  # within the moment: the one retired before goes now
        assert site._retired is second
        wait_until(lambda: site._retired is None, what="the replaced site let go")
        assert b"We reconcile pipeline twice." in site.current.page("quotes.json")
    finally:
        site.close()
