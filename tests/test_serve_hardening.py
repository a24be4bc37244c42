"""SECURITY.md items 18-23: the dev server under raw, hostile requests and rough editing."""

from __future__ import annotations

import os
import time

import pytest
from serve_helpers import make_repo, serving, transcript, wait_until, write

ACME = "content/transcripts/2026/acme.md"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    root = tmp_path_factory.mktemp("hardening")
    source = make_repo(root / "site")  # the repository's name starts like a sibling's: site-leak/
    leak = root / "site-leak"
    leak.mkdir()
    (leak / "secret.txt").write_text("SECRET BYTES")
    (root / "s").write_text("SECRET BYTES")
    with serving(source, watch=False) as r:
        yield r


# 18. Raw traversal requests, and a sibling folder whose name starts like the site's.
@pytest.mark.parametrize("target", ["/../s", "/%2e%2e/s", "/..%2fs", "/%252e%252e/s", "/..\\s", "/C:/s",
                                    "/C:\\s", "/../site-leak/secret.txt", "/%2e%2e/site-leak/secret.txt",
                                    "/site-leak/secret.txt", "/..%5csite-leak%5csecret.txt"])
def test_raw_traversal_never_leaks(guarded, target):
    response = guarded.get(target)
    assert 400 <= response.status < 500, target
    assert b"SECRET" not in response.body


# 20. No open redirect: a Location never starts with //.
@pytest.mark.parametrize("target", ["//evil.example/..%2f..%2f/personas", "//evil.example/%2e%2e/personas/vp-sales",
                                    "/%2fevil.example/personas/vp-sales", "///evil.example/personas/vp-sales",
                                    "/personas/vp-sales", "/\\evil.example/personas/vp-sales"])
def test_no_open_redirect(guarded, target):
    response = guarded.get(target)
    location = response.headers.get("location", "")
    assert not location.startswith("//") and not location.startswith("/\\") and "://" not in location, location


# 21. Bound to 127.0.0.1 by default; DNS rebinding refused on pages and on the live-reload stream.
def test_default_bind_is_loopback(tmp_path):
    from persona_site.serve import Address, PreviewServer
    preview = PreviewServer(make_repo(tmp_path / "repo"), Address(port=0), watch=False)
    preview.start()
    try:
        assert preview._server.socket.getsockname()[0] == "127.0.0.1"
    finally:
        preview.close()


@pytest.mark.parametrize("path", ["", "personas/vp-sales/", "__persona-site/events"])
def test_foreign_host_gets_403_everywhere(guarded, path):
    from persona_site.serve import EVENTS
    target = EVENTS if path.startswith("__") else path
    assert guarded.get(target, host="attacker.example").status == 403
    assert guarded.get(target, host=f"rebind.attacker.example:{guarded.port}").status == 403


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_local_names_are_served(guarded, host):
    assert guarded.get("", host=f"{host}:{guarded.port}").status == 200


# 23. Rough editing: broken then fixed YAML, files in content/ that are not transcripts, rename-saves, bursts.
def test_invalid_yaml_then_fixed_recovers_without_restart(tmp_path):
    source = make_repo(tmp_path / "repo")
    with serving(source) as running:
        write(source, ACME, "---\ntitle: [unclosed\n---\n")
        wait_until(lambda: running.preview.site.current.errors, what="the error to show")
        assert running.get("personas/head-of-revops/").status == 200
        write(source, ACME, transcript("Fixed and back."))
        running.wait_for_text("quotes.json", "Fixed and back.")
        assert not running.preview.site.current.errors


def test_output_like_files_inside_content_give_one_build_per_edit(tmp_path):
    source = make_repo(tmp_path / "repo")
    (source / "content/site").mkdir()
    (source / "content/site/index.html").write_text("<p>an old export someone committed</p>")
    with serving(source) as running:
        write(source, ACME, transcript("One edit."))
        running.wait_for_text("quotes.json", "One edit.")
        time.sleep(0.6)  # longer than the debounce: a loop would have rebuilt again by now
        assert len(running.rebuilds) == 1, running.rebuilds


def test_write_to_temp_then_rename_is_one_rebuild_with_the_new_text(tmp_path):
    source = make_repo(tmp_path / "repo")
    with serving(source) as running:
        temp = source / "content/transcripts/2026/.acme.md.tmp-123"
        temp.write_text(transcript("Saved atomically."))
        os.replace(temp, source / ACME)
        running.wait_for_text("quotes.json", "Saved atomically.")
        time.sleep(0.6)
        assert len(running.rebuilds) == 1


def test_fifty_rapid_writes_give_at_most_two_rebuilds(tmp_path):
    source = make_repo(tmp_path / "repo")
    with serving(source) as running:
        for n in range(50):
            (source / ACME).write_text(transcript(f"Rapid {n}."))
        running.wait_for_text("quotes.json", "Rapid 49.")
        time.sleep(0.6)
        assert 1 <= len(running.rebuilds) <= 2, running.rebuilds
