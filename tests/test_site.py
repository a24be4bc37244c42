"""The site (spec section 6): every URL, the quote markup, base_url, attribution, feeds, JSON."""

from __future__ import annotations

import json
import urllib.parse
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ATOM = "{http://www.w3.org/2005/Atom}"


class Links(HTMLParser):
    """Every href/src in a page, and the quote elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.quotes: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if attrs.get(key):
                self.urls.append(attrs[key])
        if "data-quote-id" in attrs:
            self.quotes.append(attrs)


def parse(path: Path) -> Links:
    links = Links()
    links.feed(path.read_text("utf-8"))
    return links


@pytest.fixture
def built(repo):
    repo.transcript("2026/acme.md", """\
        **Sam Ortiz:** What does quarter-end look like?

        **Dana Whitfield:** [00:04:12] Honestly it's a scramble.
        [We spend the last four days of every quarter reconciling pipeline in spreadsheets.]{.pain}

        Priya Raman: [If it needs a six-month rollout, we are out.]{.objection .criteria}
        """)
    repo.transcript("2025/old.md", """\
        **Dana Whitfield:** [An older pain.]{.pain}
        """, date="2025-06-01")
    return repo


def build(repo, *args):
    result = repo.run("build", *args)
    assert result.exit_code == 0, result.output
    return repo.root / "site"


def test_every_url_of_the_spec_exists(built):
    site = build(built)
    expected = ["index.html", "quotes.json", "404.html", "tags/index.html"]
    for role in ("head-of-revops", "vp-sales"):
        expected += [f"personas/{role}/index.html", f"personas/{role}/feed.xml", f"personas/{role}/quotes.json"]
        expected += [f"personas/{role}/{tag}/index.html" for tag in ("pain", "objection", "criteria")]
    expected += [f"tags/{tag}/index.html" for tag in ("pain", "objection", "criteria")]
    missing = [p for p in expected if not (site / p).is_file()]
    assert missing == []
    assert not (site / "transcripts").exists()


def test_every_rendered_quote_carries_its_id_and_tags(built):
    site = build(built)
    data = json.loads((site / "quotes.json").read_text())
    ids = {q["id"]: q["tags"] for q in data["quotes"]}
    for page in site.rglob("*.html"):
        for attrs in parse(page).quotes:
            assert attrs["data-quote-id"] in ids, page
            assert attrs["data-tags"].split() == ids[attrs["data-quote-id"]]
    revops = parse(site / "personas/head-of-revops/index.html").quotes
    assert [q["data-quote-id"] for q in revops] == [q["id"] for q in data["quotes"] if q["role"] == "head-of-revops"]


def test_quotes_json_has_the_spec_shape_and_order(built):
    data = json.loads((build(built) / "quotes.json").read_text())
    assert set(data) == {"generated", "count", "quotes"}
    assert data["count"] == 3 == len(data["quotes"])
    first = data["quotes"][0]
    assert first == {
        "id": first["id"], "role": "head-of-revops", "tags": ["pain"],
        "text": "We spend the last four days of every quarter reconciling pipeline in spreadsheets.",
        "html": "We spend the last four days of every quarter reconciling pipeline in spreadsheets.",
        "date": "2026-10-14", "company": "Acme Corp", "speaker": None, "title": None,
        "transcript": "transcripts/2026/acme.md", "line": 14, "timestamp": "00:04:12",
        "added_in": None,
    }
    assert re.fullmatch(r"q-[0-9a-f]{10}", first["id"])
    assert [q["date"] for q in data["quotes"]] == ["2026-10-14", "2026-10-14", "2025-06-01"]
    assert data["quotes"][1]["title"] == "VP Sales"


def test_persona_json_holds_all_of_its_quotes(built):
    site = build(built)
    data = json.loads((site / "personas/head-of-revops/quotes.json").read_text())
    assert data["count"] == 2 and {q["role"] for q in data["quotes"]} == {"head-of-revops"}


def test_quotes_per_role_caps_the_persona_page(built):
    built.write("persona-site.toml", "quotes_per_role = 1\n")
    site = build(built)
    assert len(parse(site / "personas/head-of-revops/index.html").quotes) == 1
    assert json.loads((site / "personas/head-of-revops/quotes.json").read_text())["count"] == 2


def test_tag_pages_filter_by_tag(built):
    site = build(built)
    objection = parse(site / "tags/objection/index.html").quotes
    assert [q["data-tags"] for q in objection] == ["objection criteria"]
    assert parse(site / "personas/vp-sales/pain/index.html").quotes == []
    assert "No pain quotes from VP Sales yet" in (site / "personas/vp-sales/pain/index.html").read_text()


def test_atom_feed_is_well_formed_with_ids_and_updated(built):
    feed = ET.parse(build(built) / "personas/head-of-revops/feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}id").text.startswith("urn:uuid:")
    assert feed.find(f"{ATOM}updated").text == "2026-10-14T00:00:00+00:00"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    assert len({e.find(f"{ATOM}id").text for e in entries}) == 2
    assert all(e.find(f"{ATOM}updated").text for e in entries)
    assert "reconciling pipeline" in entries[0].find(f"{ATOM}content").text


def test_feed_escapes_markup_and_drops_xml_forbidden_characters(repo):
    repo.transcript("x.md", "**Dana Whitfield:** [Tom & Jerry \\]\\]> <b>bold</b> \x10 end]{.pain}\n")
    feed = ET.parse(build(repo) / "personas/head-of-revops/feed.xml").getroot()
    content = feed.find(f"{ATOM}entry/{ATOM}content").text
    assert "Tom &amp; Jerry ]]&gt; &lt;b&gt;bold&lt;/b&gt;  end" in content


@pytest.mark.parametrize("base_url", ["/personas/", "https://intranet.example.com/team/personas/"])
def test_base_url_is_honoured_by_every_link(built, base_url):
    site = build(built, "--base-url", base_url)
    for page in list(site.rglob("*.html")):
        for url in parse(page).urls:
            if url.startswith(("http://", "https://")) and not url.startswith(base_url):
                continue  # recording links and the like
            if url.startswith("#"):
                continue
            assert url.startswith(base_url), (page, url)
    feed = (site / "personas/head-of-revops/feed.xml").read_text()
    assert f'href="{base_url}personas/head-of-revops/feed.xml"' in feed
    if base_url.startswith("https"):
        assert f"<id>{base_url}personas/head-of-revops/</id>" in feed


def test_base_url_from_config_without_slash(built):
    built.write("persona-site.toml", 'base_url = "/team"\n')
    site = build(built)
    assert 'href="/team/assets/style.css' in (site / "index.html").read_text()


@pytest.mark.parametrize(("attribution", "company", "speaker"), [
    ("role", None, None), ("role-company", "Acme Corp", None), ("name", "Acme Corp", "Dana Whitfield")])
def test_attribution_decides_what_a_quote_names(built, attribution, company, speaker):
    built.write("persona-site.toml", f'attribution = "{attribution}"\npublish_transcripts = true\n')
    site = build(built)
    quote = json.loads((site / "quotes.json").read_text())["quotes"][0]
    assert (quote["company"], quote["speaker"]) == (company, speaker)
    everything = "".join(p.read_text("utf-8") for p in site.rglob("*") if p.suffix in (".html", ".xml", ".json"))
    assert ("Dana Whitfield" in everything) == (attribution == "name")
    assert ("Priya Raman" in everything) == (attribution == "name")
    assert ("Acme Corp" in everything) == (attribution != "role")


def test_published_transcripts_have_anchors_and_quotes_link_to_them(built):
    built.write("persona-site.toml", "publish_transcripts = true\n")
    site = build(built)
    page = site / "transcripts/2026/acme/index.html"
    html = page.read_text()
    quote = json.loads((site / "quotes.json").read_text())["quotes"][0]
    quote_id = quote["id"]
    assert (f'<mark id="{quote_id}" class="quote" data-quote-id="{quote_id}" data-tags="pain" '
            f'data-date="{quote["date"]}" dir="auto">') in html
    persona = (site / "personas/head-of-revops/index.html").read_text()
    assert f'href="/transcripts/2026/acme/#{quote_id}"' in persona


@pytest.mark.parametrize("attribution", ["role-company", "name"])
def test_a_published_transcript_names_each_speaker_the_same_in_its_turns_and_its_participants(built, attribution):
    """Issue 19, item 8: Priya Raman's turns say 'VP Sales' (her job title); the participant list opens with the same."""
    built.write("persona-site.toml", f'attribution = "{attribution}"\npublish_transcripts = true\n')
    html = (build(built) / "transcripts/2026/acme/index.html").read_text()
    entries = [re.sub(r"<[^>]+>", "", item) for item in
               re.findall(r"<li>(.*?)</li>", html.split('class="participants"', 1)[1].split("</ul>", 1)[0], re.S)]
    body = html.split("<article", 1)[1].split("</article>", 1)[0]
    labels = [re.sub(r"<[^>]+>", "", label).rstrip(":") for label in re.findall(r"<p>(<strong>[^<]*</strong>|[^<:]{1,40}:)", body)]
    assert labels and all(any(entry.startswith(label) for entry in entries) for label in labels), (labels, entries)
    assert any(entry.startswith("Dana Whitfield, Head of Revenue Operations" if attribution == "name"
                                else "Head of Revenue Operations") for entry in entries)


def test_links_to_a_transcript_whose_name_has_spaces_or_accents_are_escaped(built):
    built.transcript("2026/café call #2.md", "**Dana Whitfield:** [Ça coûte trop cher.]{.objection}\n", date="2026-11-01")
    built.write("persona-site.toml", "publish_transcripts = true\n")
    site = build(built)
    persona = (site / "personas/head-of-revops/index.html").read_text()
    feed = (site / "personas/head-of-revops/feed.xml").read_text()
    quote = next(q for q in json.loads((site / "quotes.json").read_text())["quotes"] if q["tags"] == ["objection"])
    href = f"/transcripts/2026/caf%C3%A9%20call%20%232/#{quote['id']}"
    assert f'href="{href}"' in persona and f'href="{href}"' in feed  # an address, valid in a page and in Atom
    # ...that leads to the page on disk, as a web server decodes it.
    assert (site / urllib.parse.unquote(href.split("#")[0]).lstrip("/") / "index.html").is_file()


def test_index_shows_freshness(built):
    html = (build(built) / "index.html").read_text()
    # SOURCE_DATE_EPOCH pins now to 2026-12-01: the last quote (2026-10-14) is 48 days old.
    assert "48 days ago" in html
    assert "Quiet" in html  # heard from, but not in the last 30 days
    built.write("persona-site.toml", "stale_after_days = 30\n")
    assert "Stale" in (build(built) / "index.html").read_text()


def test_404_page_uses_absolute_links(built):
    html = (build(built, "--base-url", "/p/") / "404.html").read_text()
    assert 'href="/p/assets/style.css' in html and 'href="/p/"' in html


def test_theme_overrides_the_builtin_file_by_file(built):
    built.write("themes/default/templates/404.html", "custom {{ site.title }}")
    built.write("themes/default/static/style.css", "body{}")
    site = build(built)
    assert (site / "404.html").read_text() == "custom Buyer personas"
    assert (site / "assets/style.css").read_text() == "body{}"
    assert (site / "assets/site.js").is_file()
    assert "persona-card" in (site / "index.html").read_text()


def test_build_output_has_no_live_reload_and_no_external_assets(built):
    site = build(built)
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert "EventSource" not in text
        for url in parse(page).urls:
            assert not url.startswith("//")
            assert not re.match(r"https?://", url) or "example" in url


@settings(max_examples=300, deadline=None)
@given(words=st.text(), company=st.none() | st.text(), title=st.none() | st.text(), line=st.integers(1, 10**6),
       stamp=st.none() | st.text(max_size=8), added=st.none() | st.tuples(st.text(), st.text()),
       tags=st.lists(st.text(min_size=1), max_size=3), date_only=st.booleans(),
       attribution=st.sampled_from(["role", "role-company", "name"]))
def test_a_quote_line_in_json_is_exactly_what_json_dumps_gives(words, company, title, line, stamp, added, tags,
                                                              date_only, attribution):
    """encode_quote writes each quote's JSON by hand (issue 5): it must be json.dumps to the byte."""
    import datetime as dt

    from persona_site.config import Config
    from persona_site.model import Quote
    from persona_site.quotejson import encode_quote, html_safe_json, quote_json

    config = Config(attribution=attribution)
    when = dt.datetime(2026, 10, 14, 9, 30, tzinfo=config.zone)
    quote = Quote("q-" + words[:5], "cfo", tuple(tags), words, f"<em>{words}</em>", when, date_only, company,
                  words[::-1], title, "transcripts/a.md", line, stamp, added)
    expected = html_safe_json(json.dumps(quote_json(quote, config), ensure_ascii=False))
    assert encode_quote(quote, config) == expected
    assert json.loads(expected) == quote_json(quote, config)


@given(st.lists(st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1),
                min_size=1, max_size=4))
def test_a_transcript_page_path_drops_the_md_suffix_as_pathlib_does(segments):
    from pathlib import PurePosixPath

    from persona_site.render import transcript_url_path

    path = "/".join(segments) + ".md"
    if any(part in (".", "..") for part in segments[:-1]):
        return  # pathlib folds these away; no transcript path holds them
    assert transcript_url_path(path) == str(PurePosixPath(path).with_suffix("")) + "/"


def test_a_theme_whose_footer_was_copied_from_an_older_version_still_builds(built):
    """Persona and tag pages no longer get the build's commit (issue 22): a theme that copied base.html when they
    did, and passes `build` to built_text, still builds, and says the day as the built-in theme does."""
    base = (Path(__file__).parents[1] / "themes/default/templates/base.html").read_text()
    old = ('<p class="built">{% if now is defined %}{{ built_text(now, build) }}{% elif today is defined %}'
           '{{ built_text(today, build) }}{% else %}Rebuilt on every commit.{% endif %}</p>')
    built.write("themes/default/templates/base.html",
                re.sub(r"(?s)\{% block built %\}.*?\{% endblock %\}", lambda _: "{% block built %}" + old
                       + "{% endblock %}", base, count=1))
    built.commit_all()
    site = build(built)
    persona = (site / "personas/head-of-revops/index.html").read_text()
    assert re.search(r'<p class="built">Built \d+ [A-Z][a-z]{2} \d{4}\.</p>', persona), persona[-600:]
    assert "from commit" in (site / "index.html").read_text()


def test_a_published_transcript_shows_no_name_of_a_label_on_its_own_line_in_a_quote_block_or_a_list(repo):
    """Labels a bug hunt found read as prose, so published as written: each is a turn, shown by the speaker's title
    (attribution "role-company", the default)."""
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/acme.md", """\
        **Sam Ortiz:** How is quarter-end?

        Priya Raman:
        [It needs a week.]{.objection}

        > **Dana Whitfield:** [We reconcile in spreadsheets.]{.pain}

        - Priya Raman: [Too slow.]{.criteria}
        """)
    site = build(repo)
    body = (site / "transcripts/2026/acme/index.html").read_text().split("<article", 1)[1].split("</article>", 1)[0]
    assert "Priya" not in body and "Dana" not in body, body
    assert body.count("VP Sales:") == 2 and "Head of Revenue Operations:" in body
    found = {q["text"]: q["role"] for q in json.loads((site / "quotes.json").read_text())["quotes"]}
    assert found == {"It needs a week.": "vp-sales", "We reconcile in spreadsheets.": "head-of-revops",
                     "Too slow.": "vp-sales"}


class _QuoteElements(HTMLParser):
    """The attributes of every element of a page that carries data-quote-id."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if "data-quote-id" in dict(attrs):
            self.found.append(dict(attrs))


def test_every_quote_on_every_page_carries_its_id_tags_and_date(repo):
    """Spec section 6: every quote on a page sits in an element carrying data-quote-id, data-tags and data-date. The
    marks of a published transcript had no data-date (found by a bug hunt)."""
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/dated.md", "**Dana Whitfield:** [A date.]{.pain} and [another.]{.objection .pain}\n")
    repo.transcript("2026/timed.md", "**Priya Raman:** *Plain* words, then [a time]{.criteria}.\n",
                    date="'2026-10-14T09:30:00+02:00'")
    assert repo.run("build").exit_code == 0
    pages = 0
    for page in (repo.root / "site").rglob("*.html"):
        parser = _QuoteElements()
        parser.feed(page.read_text("utf-8"))
        for attrs in parser.found:
            assert attrs.get("data-tags") and re.fullmatch(r"\d{4}-\d\d-\d\d(T[\d:]+[+-]\d\d:\d\d)?", attrs.get("data-date", "")), \
                (page, attrs)
        pages += "/transcripts/" in page.as_posix() and bool(parser.found)
    assert pages == 2
    timed = (repo.root / "site/transcripts/2026/timed/index.html").read_text("utf-8")
    assert 'data-date="2026-10-14T09:30:00+02:00"' in timed

