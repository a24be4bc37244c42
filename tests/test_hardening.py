"""SECURITY.md, items 1-17, 24, 25: each known failure of a static-site generator, tried and shut."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time
import unicodedata
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import build_with, site_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_site.frontmatter_yaml import FrontMatterError, split_front_matter
from persona_site import output
from persona_site.output import write_site
from persona_site.render import _tojson

GOOD = "**Dana Whitfield:** [A fine quote.]{.pain}\n\n**Priya Raman:** [Another.]{.criteria}\n"




# 1. A UTF-8 BOM builds exactly like the file without one.
def test_bom_builds_exactly_like_no_bom(repo, tmp_path):
    path = repo.transcript("a.md", GOOD)
    assert repo.run("build", "--out", str(tmp_path / "plain")).exit_code == 0
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert repo.run("build", "--out", str(tmp_path / "bom")).exit_code == 0
    assert site_files(tmp_path / "plain") == site_files(tmp_path / "bom")


# 2. Front matter that is a list or a scalar is an error with a line.
@pytest.mark.parametrize("fm", ["- a\n- b", "just text", "42"])
def test_front_matter_must_be_a_mapping(repo, fm):
    repo.write("content/transcripts/x.md", f"---\n{fm}\n---\nbody\n")
    result = repo.run("check")
    assert result.exit_code == 1
    assert "content/transcripts/x.md:2: error: the front matter must be 'key: value' lines" in result.stderr


# 3. Non-string keys: read as the text written, never a TypeError.
def test_non_string_keys_are_text_not_a_crash(repo):
    repo.write("content/transcripts/x.md", "---\ndate: 2026-10-01\nno: x\n1: y\nparticipants:\n  1: vp-sales\n---\n"
               "**1:** [Numbers as names.]{.pain}\n")
    result = repo.run("quotes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["quotes"][0]["role"] == "vp-sales"
    repo.write("content/transcripts/x.md", "---\n? [a, b]\n: c\n---\n")
    result = repo.run("check")
    assert result.exit_code == 1 and "a key must be text" in result.stderr


# 4. YAML 1.1 coercion: names and companies stay the strings written; duplicate keys are an error.
def test_yaml_values_stay_the_text_written(repo):
    repo.write("persona-site.toml", 'attribution = "name"\n')
    repo.write("content/transcripts/x.md", "---\ndate: 2026-10-01\ncompany: 1.10\nfloor: 012\nparticipants:\n"
               "  No: head-of-revops\n  On: {role: vp-sales, title: 012}\n---\n**No:** [Nope.]{.pain}\n\n**On:** [Yes.]{.pain}\n")
    quotes = json.loads(repo.run("quotes", "--format", "json").stdout)["quotes"]
    assert {(q["speaker"], q["company"]) for q in quotes} == {("No", "1.10"), ("On", "1.10")}
    assert {q["title"] for q in quotes} == {None, "012"}


def test_duplicate_keys_are_an_error(repo):
    repo.write("content/transcripts/x.md", "---\ndate: 2026-10-01\ncompany: A\ncompany: B\n---\n")
    result = repo.run("check")
    assert "content/transcripts/x.md:4: error: the front matter is not valid YAML: the key 'company' is written twice" in result.stderr


# 5. Python tags run nothing; an alias bomb is refused at once.
def test_python_object_tag_is_a_clean_error_and_runs_nothing(repo, tmp_path):
    marker = tmp_path / "pwned"
    repo.write("content/transcripts/x.md", f"---\ndate: !!python/object/apply:os.system ['touch {marker}']\n---\n")
    result = repo.run("check")
    assert result.exit_code == 1 and "content/transcripts/x.md:2: error" in result.stderr
    assert not marker.exists()


def test_alias_bomb_is_refused_quickly():
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        levels.append(f"{chr(97 + n)}: &{chr(97 + n)} [" + ", ".join([f"*{chr(96 + n)}"] * 9) + "]")
    text = "---\n" + "\n".join(levels) + "\n---\n"
    start = time.perf_counter()
    with pytest.raises(FrontMatterError, match="aliases"):
        split_front_matter(text)
    assert time.perf_counter() - start < 1.0  # SECURITY.md item 5 names this bound


# 6. Dates: plain and zoned sort together; impossible dates are errors; no shift under far-off zones.
def test_mixed_dates_sort_and_bad_dates_fail(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Plain date.]{.pain}\n", date="2026-10-14")
    repo.transcript("b.md", "**Dana Whitfield:** [Zoned.]{.pain}\n", date="2026-10-14T23:30:00-10:00")
    repo.transcript("c.md", "**Dana Whitfield:** [Naive time.]{.pain}\n", date="2026-10-13 08:00")
    texts = [q["text"] for q in json.loads(repo.run("quotes", "--format", "json").stdout)["quotes"]]
    assert texts == ["Zoned.", "Plain date.", "Naive time."]
    repo.transcript("d.md", GOOD, date="2026-02-30")
    assert "content/transcripts/d.md:3: error: '2026-02-30' is not a valid date" in repo.run("check").stderr


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Niue"])
def test_dates_do_not_shift_under_the_machines_timezone(repo, tmp_path, zone):
    repo.transcript("a.md", GOOD, date="2026-10-14")
    outs = {}
    for tz in ("UTC", zone):
        out = tmp_path / tz.replace("/", "-")
        env = {**os.environ, "TZ": tz, "SOURCE_DATE_EPOCH": "1796083200"}
        subprocess.run([sys.executable, "-m", "persona_site", "build", "-s", str(repo.root), "--out", str(out)],
                       env=env, check=True, capture_output=True)
        outs[tz] = site_files(out)
    assert outs["UTC"] == outs[zone]
    assert "14 Oct 2026" in (tmp_path / zone.replace("/", "-") / "index.html").read_text()


# 7. A body that opens with an indented code block keeps its lines.
def test_body_opening_with_indented_code_keeps_line_numbers(repo):
    repo.write("content/transcripts/x.md", "---\ndate: 2026-10-01\nparticipants:\n  Dana Whitfield: head-of-revops\n---\n"
               "    code first\n\n**Dana Whitfield:** [Line eight.]{.pain}\n")
    quote = json.loads(repo.run("quotes", "--format", "json").stdout)["quotes"][0]
    assert quote["line"] == 8


# 8. Output paths that collide on a case-insensitive or normalising disk.
@pytest.mark.parametrize(("a", "b"), [("Acme.md", "acme.md"),
                                      (unicodedata.normalize("NFC", "café.md"), unicodedata.normalize("NFD", "café.md"))])
def test_colliding_output_paths_are_an_error_naming_both(repo, a, b):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    first = repo.transcript(a, GOOD)
    second = repo.root / "content/transcripts" / b
    if second.exists():
        pytest.skip("this filesystem folds these names itself")  # macOS; Linux keeps both
    second.write_text(first.read_text())
    result = repo.run("build")
    assert result.exit_code == 1
    assert "would publish to the same page" in result.stderr
    assert a in result.stderr or b in result.stderr


# 9. Links out of the repository in content/ or a theme.
@pytest.mark.parametrize("publish", [False, True])
@pytest.mark.parametrize("where", ["content/transcripts/leak.md", "themes/default/templates/404.html",
                                   "themes/default/templates/transcript.html", "themes/default/static/leak.css"])
def test_symlink_out_of_the_repository_is_an_error_and_nothing_leaks(repo, tmp_path, where, publish):
    secret = tmp_path / "secret.md"
    secret.write_text("---\ndate: 2026-01-01\n---\nTOP SECRET\n")
    repo.write("persona-site.toml", f"publish_transcripts = {str(publish).lower()}\n")
    repo.transcript("a.md", GOOD)
    link = repo.root / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(secret)
    result = repo.run("build")
    assert result.exit_code == 1
    assert f"{where}: error: this is a link to something outside the repository" in result.stderr
    assert not (repo.root / "site").exists()
    kept = [path for path in (repo.root / ".persona-cache").rglob("*") if path.is_file()]
    assert not [path for path in kept if b"TOP SECRET" in path.read_bytes()]  # not even a compiled template


def test_a_file_in_the_templates_folder_that_is_not_text_is_no_crash(repo):
    """An editor's swap file or a .DS_Store beside the templates."""
    repo.transcript("a.md", GOOD)
    repo.write("themes/default/templates/404.html", "<p>custom</p>")
    (repo.root / "themes/default/templates/.404.html.swp").write_bytes(b"b0VIM 9.0\x00\x00\xff\xfe\x80\x81")
    (repo.root / "themes/default/templates/.DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1\xff\xfe")
    result = repo.run("build")
    assert result.exit_code == 0, result.output
    assert (repo.root / "site/404.html").read_text() == "<p>custom</p>"


# 10. Pathological Markdown finishes; an oversized file is an error.
@pytest.mark.parametrize("pattern", ["[](", "**_* ", "![[", "[a]{.", "[x]: y\n", "> " * 50 + "a\n"])
def test_pathological_markdown_finishes(repo, pattern):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("a.md", GOOD + "\n**Dana Whitfield:** " + pattern * 20000 + "\n")
    done = subprocess.run([sys.executable, "-m", "persona_site", "check", "-s", str(repo.root)],
                          capture_output=True, text=True, timeout=60)  # a hang, not a speed check
    assert "Traceback" not in done.stderr


def test_oversized_transcript_is_an_error(repo):
    repo.transcript("big.md", GOOD + ("word " * 1_100_000))
    result = repo.run("check")
    assert result.exit_code == 1
    assert "content/transcripts/big.md: error: this file is 5.5 MB; the limit is 5 MB" in result.stderr


# 11. Non-UTF-8 bytes name the file and line.
def test_non_utf8_is_an_error_with_the_line(repo):
    repo.write("content/transcripts/x.md", "---\ndate: 2026-10-01\n---\n")
    path = repo.root / "content/transcripts/x.md"
    path.write_bytes(path.read_bytes() + b"\n\nCaf\xe9 au lait\n")
    result = repo.run("check")
    assert "content/transcripts/x.md:6: error: this file is not UTF-8 text" in result.stderr


# 12-13. Hostile text everywhere that reaches a page.
HOSTILE = "<x'\"&>"
ATTACKS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[a](javascript:alert(1))",
           "[b](JAVASCRIPT:alert(1))", "[c](java&#115;cript:alert(1))", "[d](java\tscript:alert(1))",
           "[e](vbscript:msgbox(1))", "[f](data:text/html;base64,PHNjcmlwdD4=)", "<a href='javascript:x'>g</a>",
           "</script><script>alert(1)</script>", "<!--", "\u2028\u2029"]


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}")
            if name in ("href", "src", "action", "formaction") and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:")):
                    self.problems.append(f"{tag} {name}={value}")
        if tag == "script" and not re.match(r"(https?://[^/?#]+)?/([^?#]*/)?assets/[\w.-]+\.js(\?|$)",
                                            dict(attrs).get("src") or ""):  # the theme's script, under base_url
            self.problems.append("inline script")


@pytest.fixture
def hostile(repo):
    attack = " ".join(ATTACKS)
    q = json.dumps  # a JSON string is a valid TOML and YAML string
    repo.write("persona-site.toml", f"title = {q(HOSTILE + attack)}\npublish_transcripts = true\n"
               f"attribution = \"name\"\n[tags]\npain = {q(HOSTILE)}\ncriteria = \"c\"\n")
    repo.write("content/personas/head-of-revops.md",
               f"---\ntitle: {q(HOSTILE + attack)}\nsummary: {q(HOSTILE)}\nreports_to: {q(HOSTILE)}\n"
               f"tools: [{q(HOSTILE)}, {q('<script>x</script>')}]\n---\nSketch {attack}\n")
    repo.write("content/transcripts/x.md", f"""---
title: {q(HOSTILE + '<script>t</script>')}
date: 2026-10-01
company: {q(HOSTILE + '<img src=x onerror=alert(1)>')}
extra: {q(HOSTILE)}
participants:
  {q('Dana ' + HOSTILE)}: {{role: head-of-revops, title: {q(HOSTILE)}}}
  Priya Raman: vp-sales
---

**Dana {HOSTILE}:** [{attack}]{{.pain}} and {attack}

**Priya Raman:** [plain]{{.criteria}}
""")
    return repo


def test_no_script_no_handlers_no_javascript_urls_anywhere(hostile):
    result = hostile.run("build")
    assert result.exit_code == 0, result.output
    site = hostile.root / "site"
    for page in site.rglob("*.html"):
        audit = Audit()
        audit.feed(page.read_text())
        assert audit.problems == [], page


def test_json_files_carry_markup_only_as_escapes(hostile):
    assert hostile.run("build").exit_code == 0
    for name in ("quotes.json", "personas/head-of-revops/quotes.json"):
        raw = (hostile.root / "site" / name).read_text()
        assert "<script" not in raw and "</script" not in raw and "<img" not in raw
        quote = json.loads(raw)["quotes"][0]
        assert "<script>alert(1)</script>" in quote["text"]  # the words themselves survive, escaped in transit
        assert "<script>" not in quote["html"]


def test_every_template_escapes_every_field(hostile):
    assert hostile.run("build").exit_code == 0
    for page in (hostile.root / "site").rglob("*"):
        if page.suffix in (".html", ".xml"):
            text = page.read_text()
            assert HOSTILE not in text, page
            assert "<x'" not in text, page
    import xml.etree.ElementTree as ET
    ET.parse(hostile.root / "site/personas/head-of-revops/feed.xml")


def test_recording_must_be_http(repo):
    for bad in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,x", "file:///etc/passwd", "//evil.example/x"):
        repo.write("content/transcripts/x.md", f"---\ndate: 2026-10-01\nrecording: '{bad}'\n---\n")
        result = repo.run("check")
        assert result.exit_code == 1, bad
        assert "content/transcripts/x.md:3: error: 'recording' must be an http:// or https:// link" in result.stderr


def test_templates_mark_only_markdown_output_safe():
    templates = Path(__file__).resolve().parents[1] / "themes/default/templates"
    for template in templates.iterdir():
        for line in template.read_text().splitlines():
            if "|safe" in line:
                assert any(f"{name}|safe" in line for name in ("q.html", "sketch_html", "body_html")), (template, line)
            assert "json.dumps" not in line


# 14. JSON in a page cannot break out of a script element.
def test_tojson_cannot_break_out_of_a_script():
    text = str(_tojson({"q": "</script><!-- \u2028\u2029 ' &"}))
    for bad in ("</script", "<!--", "\u2028", "\u2029", "'", "&"):
        assert bad not in text
    assert json.loads(text) == {"q": "</script><!-- \u2028\u2029 ' &"}


# 16. --out that would delete work is refused and removes nothing.
@pytest.mark.parametrize("target", [".", "..", "/", "~", "content", "content/personas", "link-to-repo"])
def test_out_folders_that_would_lose_data_are_refused(repo, target):
    repo.transcript("a.md", GOOD)
    (repo.root / "link-to-repo").symlink_to(repo.root)
    out = Path.home() if target == "~" else (Path("/") if target == "/" else repo.root / target)
    before = sorted(p.as_posix() for p in repo.root.rglob("*"))
    result = repo.run("build", "--out", str(out))
    assert result.exit_code == 2
    assert sorted(p.as_posix() for p in repo.root.rglob("*")) == before


def test_cleaning_keeps_git_and_cname(repo):
    repo.transcript("a.md", GOOD)
    assert repo.run("build").exit_code == 0
    site = repo.root / "site"
    (site / ".git").mkdir()
    (site / ".git" / "HEAD").write_text("ref: refs/heads/gh-pages\n")
    (site / "CNAME").write_text("x.example\n")
    (site / ".gitignore").write_text("*.tmp\n")
    assert repo.run("build").exit_code == 0
    assert (site / ".git/HEAD").read_text() == "ref: refs/heads/gh-pages\n"
    assert (site / "CNAME").is_file() and (site / ".gitignore").is_file()


# 17. A build that fails mid-write, or is killed, leaves the previous site byte for byte.
@pytest.mark.parametrize("in_place", [True, False], ids=["in-place", "new-folder"])
def test_failure_on_the_nth_page_keeps_the_previous_site(repo, monkeypatch, in_place):
    """Whether the site is updated where it is or written into a new folder (by several threads), a disk that
    fails part way leaves the previous site whole and nothing beside it."""
    if not in_place:
        monkeypatch.setattr(output, "IN_PLACE_MAX", 0)
    repo.transcript("a.md", GOOD)
    assert repo.run("build").exit_code == 0
    site = repo.root / "site"
    before = site_files(site)
    repo.write("persona-site.toml", 'title = "Every page changes"\n')
    outputs = build_with(repo.root).outputs
    calls = {"n": 0}
    real = os.write

    def failing(handle, data):
        calls["n"] += 1
        if calls["n"] == 10:
            raise OSError(28, "No space left on device")
        return real(handle, data)

    monkeypatch.setattr(os, "write", failing)
    with pytest.raises(OSError):
        write_site(outputs, site, repo.root)
    monkeypatch.undo()
    assert site_files(site) == before
    assert [p.name for p in repo.root.iterdir() if p.name.startswith(".persona-site")] == []


KILLED_ON_THE_FIFTH_WRITE = """
import os, signal, sys
real = os.write
count = [0]
def dying(handle, data):
    count[0] += 1
    if count[0] == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(handle, data)
os.write = dying
"""


@pytest.mark.parametrize("how", ["write_site", "the build command"])
def test_sigkill_mid_write_keeps_the_previous_site_and_the_next_build_cleans_up(repo, how):
    """Killed as it writes the new folder, or (the build command) as it writes pages beside the site as it makes
    them (output.Spool): the site stays as it was, and the next build removes what was left (the spool is named
    for its process, which is gone)."""
    repo.transcript("a.md", GOOD)
    assert repo.run("build").exit_code == 0
    site = repo.root / "site"
    before = site_files(site)
    repo.write("persona-site.toml", 'title = "Every page changes"\n')
    root, left = repo.root, ".persona-site-tmp-site."
    if how == "write_site":
        script = f"""
from pathlib import Path
from persona_site.build import BuildOptions, build_site
from persona_site.incremental import PersistentEngine
from persona_site.output import write_site
outputs = build_site(Path({str(root)!r}), BuildOptions(), PersistentEngine(Path({str(root)!r}))).outputs
{KILLED_ON_THE_FIFTH_WRITE}
write_site(outputs, Path({str(site)!r}), Path({str(root)!r}))
"""
    else:
        left = ".persona-site-spool-site."
        script = f"""{KILLED_ON_THE_FIFTH_WRITE}
sys.argv = ["persona-site", "build", "-q", "--source", {str(root)!r}]
from persona_site.cli import run
run()
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert done.returncode == -signal.SIGKILL
    assert site_files(site) == before
    assert [p for p in root.iterdir() if p.name.startswith(left)]
    assert repo.run("build").exit_code == 0
    assert [p for p in root.iterdir() if p.name.startswith(".persona-site-")] == []
    assert "Every page changes" in (site / "index.html").read_text()


# 24. Any text anywhere: diagnostics or a site, never an exception, never a script from content.

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
markdownish = st.lists(st.sampled_from(["[", "]", "{.pain}", "{#x .pain}", "**", ":", "\n", "\n\n", "<script>",
                                        "`", "Dana Whitfield:", "**Dana Whitfield:**", "[00:01]", "---", "# ",
                                        "    ", "&amp;", "javascript:", "](", "\r\n", "\ufeff", "*", "_"]) | texts,
                       max_size=30).map("".join)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow], deadline=None)
@given(body=markdownish, value=texts, quote=texts, meta=texts, setting=texts,
       key=st.sampled_from(["base_url", "timezone", "theme", "attribution", "stale_after", "fail_on_stale"]))
def test_any_text_builds_or_reports_never_raises(tmp_path_factory, body, value, quote, meta, setting, key):
    """Any text in a body, a quote, any front matter value (a transcript's and a persona's, known keys and others)
    and any persona-site.toml value (issue 21): diagnostics or a site, never an exception, no script in any output."""
    from conftest import PERSONAS, write
    root = tmp_path_factory.mktemp("prop")
    for slug, text in PERSONAS.items():
        write(root, f"content/personas/{slug}.md", text)
    yaml_value, yaml_meta = json.dumps(value), json.dumps(meta)  # a JSON string is a YAML string
    write(root, "content/personas/cfo.md", f"---\ntitle: {yaml_meta}\nsummary: {yaml_value}\n"
                                           f"reports_to: {yaml_meta}\ntools: [{yaml_value}]\n---\n{meta}\n")
    (root / "content/transcripts").mkdir(parents=True)
    (root / "content/transcripts/x.md").write_text(
        f"---\ntitle: {yaml_value}\ndate: 2026-10-01\ncompany: {yaml_value}\nrecording: {yaml_meta}\n"
        f"notes: {yaml_meta}\nparticipants:\n  Dana Whitfield: head-of-revops\n"
        f"  Priya Raman: {{role: cfo, title: {yaml_meta}}}\n---\n**Dana Whitfield:** [{quote}]{{.pain}} {body}\n\n"
        f"**Priya Raman:** [{meta}]{{.criteria}}\n", encoding="utf-8")
    toml_value = json.dumps(setting, ensure_ascii=False)  # a TOML basic string, or an error the build reports
    (root / "persona-site.toml").write_text(f"publish_transcripts = true\ntitle = {toml_value}\n{key} = {toml_value}\n"
                                            f"[tags]\npain = {toml_value}\ncriteria = \"Criteria\"\n", encoding="utf-8")
    result = build_with(root)
    if result.ok:
        for name, data in result.outputs.items():
            data = data() if callable(data) else data
            if name.endswith(".html"):
                audit = Audit()
                audit.feed(data.decode())
                assert audit.problems == [], name
            else:
                assert b"<script" not in data.lower(), name  # JSON escapes '<'; feeds escape markup


# 25. Dependencies past every known CVE.
@pytest.mark.parametrize(("package", "minimum"), [("jinja2", (3, 1, 6)), ("markdown-it-py", (2, 2, 0)),
                                                  ("pyyaml", (5, 4))])
def test_installed_dependencies_are_past_known_cves(package, minimum):
    installed = tuple(int(part) for part in version(package).split(".")[: len(minimum)] if part.isdigit())
    assert installed >= minimum
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text().lower()
    floor = ".".join(map(str, minimum))
    assert f'"{package}>={floor}' in pyproject or package == "markdown-it-py"


def test_a_control_character_beside_an_anchor_is_a_clean_error_not_a_crash(repo):
    """The pure-Python loader (taken when an alias may be there) refused the character as it was made,
    outside the error handling: a traceback instead of a diagnostic (found by the fast path's helper)."""
    repo.write("content/transcripts/a.md", "---\ntitle: Acme\ndate: 2026-10-14\ncompany: &x Acme\x7f\n---\n\n" + GOOD)
    result = repo.run("build")
    assert result.exit_code == 1
    assert "content/transcripts/a.md:4: error: the front matter holds a character YAML does not allow" in result.output


def test_blank_lines_after_the_opening_dashes_keep_the_lines_right(repo):
    """The opening '---' pattern took one blank line after it, so every key was reported a line early."""
    assert split_front_matter("---\n\n\ntitle: Acme\ndate: x\n---\n").key_lines == {"title": 4, "date": 5}
    repo.write("content/transcripts/a.md", "---\n\ndate: 2026-10-14\ncompany: A\ncompany: B\n---\n\n" + GOOD)
    result = repo.run("build")
    assert result.exit_code == 1
    assert "content/transcripts/a.md:5: error: the front matter is not valid YAML: the key 'company' is written twice" \
        in result.output
