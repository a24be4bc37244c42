"""Every quote reachable by plain links (issue 18, items 4 and 5): the archive by month, the company pages,
the feeds per persona and tag."""

from __future__ import annotations

import datetime as dt
import json
import pickle
import re
import xml.etree.ElementTree as ET
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from conftest import site_files
from persona_site.model import Participant, Quote, Transcript, freeze, thaw
from persona_site.pages_archive import company_slug
from test_golden import sample_site  # noqa: F401 (a fixture)

ATOM = "{http://www.w3.org/2005/Atom}"
MONTH_PAGE = re.compile(r"personas/([a-z0-9-]+)/(\d{4}-\d{2})/index\.html")


class Page(HTMLParser):
    """A page's quote elements in order, its links, its headings' text and the section each quote is in."""

    def __init__(self) -> None:
        super().__init__()
        self.quotes: list[dict] = []
        self.links: list[tuple[str, str]] = []
        self.sections: list[str] = []
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section" and attrs.get("class") == "call":
            self.sections.append(attrs["id"])
        if "data-quote-id" in attrs:
            self.quotes.append({**attrs, "section": self.sections[-1] if self.sections else None})
        if tag in ("a", "link") and attrs.get("href") is not None:
            if tag == "link":
                self.links.append((attrs["href"], attrs.get("rel", "")))
            else:
                self._href, self._text = attrs["href"], ""

    def handle_data(self, data):
        if self._href is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join(self._text.split())))
            self._href = None


def read(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text("utf-8"))
    return page


@pytest.fixture(scope="module")
def sample(sample_site) -> Path:
    """The sample content, built (test_golden's)."""
    return sample_site


def all_quotes(site: Path) -> list[dict]:
    return json.loads((site / "quotes.json").read_text("utf-8"))["quotes"]


def month_pages(site: Path) -> dict[str, Page]:
    pages = {}
    for path in sorted(site.glob("personas/*/*/index.html")):
        rel = path.relative_to(site).as_posix()
        if MONTH_PAGE.fullmatch(rel):
            pages[rel] = read(path)
    return pages


def test_every_quote_of_the_sample_is_on_exactly_one_month_page(sample):
    quotes = all_quotes(sample)
    pages = month_pages(sample)
    seen = Counter(q["data-quote-id"] for page in pages.values() for q in page.quotes)
    assert set(seen) == {q["id"] for q in quotes}
    assert set(seen.values()) == {1}
    # ...on the page of its persona and its month, in the site's order (quotes.json's), each with an id to land on.
    for rel, page in pages.items():
        role, month = MONTH_PAGE.fullmatch(rel).groups()
        expected = [q["id"] for q in quotes if q["role"] == role and q["date"][:7] == month]
        assert [q["data-quote-id"] for q in page.quotes] == expected, rel
        assert all(q["id"] == q["data-quote-id"] and q["data-date"][:7] == month for q in page.quotes)


def test_the_persona_page_lists_every_month_with_its_count(sample):
    quotes = all_quotes(sample)
    for persona in sorted((sample / "personas").iterdir()):
        archive = (persona / "index.html").read_text("utf-8").split('id="months-heading"')[1]  # not the trend's links
        links = [(href, None) for href in re.findall(r'href="([^"]+)"', archive.split("</section>")[0])
                 if re.fullmatch(rf"/personas/{persona.name}/\d{{4}}-\d{{2}}/", href)]
        mine = [q for q in quotes if q["role"] == persona.name]
        months = list(dict.fromkeys(q["date"][:7] for q in mine))  # newest first, as quotes.json
        assert [href.split("/")[-2] for href, _ in links] == months
        for href, _ in links:
            shown = len(read(sample / href.lstrip("/") / "index.html").quotes)
            text = (sample / f"personas/{persona.name}/index.html").read_text("utf-8")
            count = re.search(rf'href="{re.escape(href)}">.*?</a> <span class="count">(\d+) quotes?</span>', text)
            assert int(count.group(1)) == shown == sum(q["date"][:7] == href.split("/")[-2] for q in mine)


def test_a_month_page_leads_to_the_months_before_and_after(sample):
    page = read(sample / "personas/head-of-revops/2026-10/index.html")
    hrefs = [href for href, _ in page.links]
    assert "/personas/head-of-revops/2026-09/" in hrefs and "/personas/head-of-revops/2026-11/" in hrefs
    text = (sample / "personas/head-of-revops/2026-10/index.html").read_text("utf-8")
    assert "<h1>Head of Revenue Operations<span class=\"sub\">: October 2026</span></h1>" in text


def test_a_quote_is_in_the_month_of_the_sites_timezone(repo):
    repo.write("persona-site.toml", 'timezone = "America/New_York"\n')
    write_call(repo, "late.md", "Acme Corp", "2026-11-01T02:00:00+00:00", "[Said late on Halloween in New York.]{.pain}")
    build(repo)
    assert (repo.root / "site/personas/head-of-revops/2026-10/index.html").is_file()
    assert not (repo.root / "site/personas/head-of-revops/2026-11").exists()


def test_quotes_of_one_instant_written_with_other_offsets_keep_their_own_dates(repo):
    """Two calls at the same moment, one written in Berlin's offset and one in UTC: each card says its date as its
    front matter wrote it (the JSON's), and both are shown on the day of the site's zone."""
    write_call(repo, "berlin.md", "Acme Corp", "2026-11-05T10:00:00+01:00", "[Said in Berlin.]{.pain}")
    write_call(repo, "london.md", "Bolt Ltd", "2026-11-05T09:00:00+00:00", "[Said in London.]{.pain}")
    page = (build(repo) / "personas/head-of-revops/2026-11/index.html").read_text()
    assert 'data-date="2026-11-05T10:00:00+01:00"' in page and 'data-date="2026-11-05T09:00:00+00:00"' in page
    assert page.count('datetime="2026-11-05T10:00:00+01:00">5 Nov 2026</time>') == 1
    assert page.count('datetime="2026-11-05T09:00:00+00:00">5 Nov 2026</time>') == 1


def write_call(repo, name: str, company: str | None, date: str, *quotes: str, buyer: str = "head-of-revops") -> None:
    lines = ["---", f"title: {name.removesuffix('.md').title()} call", f"date: {date}"]
    if company is not None:
        lines.append(f"company: {company}")
    lines += ["participants:", f"  Dana Whitfield: {buyer}", "  Sam Ortiz: internal", "---", ""]
    body = "\n\n".join(f"**Dana Whitfield:** {q}" for q in quotes) or "**Dana Whitfield:** Nothing tagged."
    repo.write(f"content/transcripts/{name}", "\n".join(lines) + "\n**Sam Ortiz:** Tell me more.\n\n" + body + "\n")


def build(repo, *args):
    result = repo.run("build", *args)
    assert result.exit_code == 0, result.output
    return repo.root / "site"


def test_a_company_page_groups_its_quotes_by_call_newest_call_first(repo):
    write_call(repo, "first.md", "Quayside Freight", "2026-09-02", "[First pain.]{.pain}", "[First criteria.]{.criteria}")
    write_call(repo, "second.md", "Quayside Freight", "2026-10-20", "[Second objection.]{.objection}", buyer="vp-sales")
    write_call(repo, "third.md", "Quayside Freight", "2026-11-05")  # a call with nothing tagged is still a call
    write_call(repo, "other.md", "Other Co", "2026-11-30", "[Not Quayside.]{.pain}")
    site = build(repo)
    page = read(site / "companies/quayside-freight/index.html")
    assert [(q["section"], q["data-tags"]) for q in page.quotes] == [
        ("call-transcripts-second", "objection"), ("call-transcripts-first", "pain"), ("call-transcripts-first", "criteria")]
    assert page.sections == ["call-transcripts-third", "call-transcripts-second", "call-transcripts-first"]
    text = (site / "companies/quayside-freight/index.html").read_text("utf-8")
    assert "3 quotes from 3 calls, last heard <time datetime=\"2026-11-05\">5 Nov 2026</time>." in text
    # The calls listed first, each with its date and the personas met, linked to its place on the page.
    listed = re.findall(r'<li><a href="#(call-[a-z-]+)">[^<]+</a> <span class="meta"><time[^>]*>([^<]+)</time> · ([^·]+) · (\d) quotes?', text)
    assert listed == [("call-transcripts-third", "5 Nov 2026", "Head of Revenue Operations", "0"),
                      ("call-transcripts-second", "20 Oct 2026", "VP Sales", "1"),
                      ("call-transcripts-first", "2 Sep 2026", "Head of Revenue Operations", "2")]
    # The index: most recently heard first, with quote counts and personas.
    index = (site / "companies/index.html").read_text("utf-8")
    names = re.findall(r'<h2><a href="/companies/([a-z-]+)/">', index)
    assert names == ["other-co", "quayside-freight"]
    quayside = index[index.index("quayside-freight"):]
    assert '3 calls · <span data-count="3">3 quotes</span>' in quayside
    assert "Head of Revenue Operations · VP Sales" in quayside


def test_a_company_with_an_ampersand_and_accents(repo):
    write_call(repo, "a.md", "Smith & Søns Café", "2026-11-02", "[Ampersands are fine.]{.pain}")
    site = build(repo)
    slug = "smith-sons-cafe"
    text = (site / f"companies/{slug}/index.html").read_text("utf-8")
    assert "<h1>Smith &amp; Søns Café</h1>" in text
    assert f'<h2><a href="/companies/{slug}/">Smith &amp; Søns Café</a></h2>' in (site / "companies/index.html").read_text("utf-8")
    assert "Smith & Søns" not in text  # never unescaped


def test_company_slugs_fold_case_accents_and_punctuation():
    assert company_slug("Acme Corp") == "acme-corp"
    assert company_slug("  ACME, Corp. ") == "acme-corp"
    assert company_slug("Crème Brûlée GmbH") == "creme-brulee-gmbh"
    assert company_slug("AT&T") == "at-t"
    assert company_slug("Smith & Søns") == "smith-sons"
    assert company_slug("株式会社") != company_slug("有限会社")  # no letter in Latin script: still one page each
    assert company_slug("株式会社") == "c-682a-5f0f-4f1a-793e"  # as before: a slug is kept once published
    # Letters outside Latin script beside Latin ones are kept (as their code points): two subsidiaries, two pages
    assert company_slug("Acme 日本") == "acme-65e5-672c" and company_slug("Acme 中国") == "acme-4e2d-56fd"
    assert company_slug("Ωmega Corp") != company_slug("mega Corp")


def test_a_latin_letter_that_folds_to_no_ascii_leaves_the_slug_as_it_was():
    """'ð', 'ħ', 'ŋ' and other Latin letters with no accent to fold, and modifier letters ('ʻ' in 'Hawaiʻi'), are left
    out of a slug, as they always were: a published company page keeps its address ('Hafnarfjörður' is not spelt as
    code points, found by a review)."""
    import sys
    import unicodedata

    latin = [chr(n) for n in range(0xC0, sys.maxunicode) if chr(n).isalpha()
             and (n < 0x250 or unicodedata.name(chr(n), "").startswith(("LATIN ", "MODIFIER LETTER ")))]
    assert len(latin) > 1000
    changed = {ch: company_slug(f"Ab{ch}cd Ehf") for ch in latin}
    assert {ch: slug for ch, slug in changed.items() if not re.fullmatch(r"ab[a-z]*cd-ehf", slug)} == {}
    assert company_slug("Hafnarfjörður Ehf") == "hafnarfjorur-ehf" and company_slug("µTech") == "tech"
    assert company_slug("Hawaiʻi Pacific Health") == "hawaii-pacific-health"


def test_two_long_names_one_slug_folds_together_are_one_slug():
    """A long name's digest is of its whole slug: 'Café …' and 'Cafe …' share a slug (and so a collision error, as
    short ones do) rather than two pages that differ only in a digest."""
    long = " Holdings International" * 12
    assert company_slug("Café" + long) == company_slug("Cafe" + long)
    assert company_slug("Café" + long) != company_slug("Cafe" + long + " Two")


def test_a_long_company_name_outside_latin_script_has_a_page_a_disk_can_hold(repo):
    """Its slug spells each letter's code point (4-5 characters a letter): a long name gave a folder name longer than
    a disk allows, and the whole build failed naming no transcript (found by a bug hunt). A slug is at most
    MAX_SLUG characters, the rest of the name kept in a digest, so two long names that differ late differ too."""
    from persona_site.pages_archive import MAX_SLUG

    name = "شركة " + "التقنيات المتقدمة للحلول السحابية والبرمجيات " * 3
    other = name + "ب"
    assert len(company_slug(name)) <= MAX_SLUG and company_slug(name) != company_slug(other)
    assert company_slug("Acme Corp") == "acme-corp"  # a short one as before
    write_call(repo, "a.md", name, "2026-11-02", "[One.]{.pain}")
    site = build(repo)
    assert (site / f"companies/{company_slug(name)}/index.html").is_file()


def test_a_company_name_typed_on_a_mac_and_elsewhere_is_one_company(repo):
    """The same name in NFD (as a Mac may write it) and NFC: one company, one page, no collision (spec section 4
    compares names after NFC)."""
    import unicodedata

    write_call(repo, "a.md", unicodedata.normalize("NFD", "Müller GmbH"), "2026-11-02", "[One.]{.pain}")
    write_call(repo, "b.md", unicodedata.normalize("NFC", "Müller GmbH"), "2026-11-03", "[Two.]{.pain}")
    site = build(repo)
    page = (site / "companies/muller-gmbh/index.html").read_text("utf-8")
    assert page.count('data-quote-id="') == 2 and unicodedata.normalize("NFC", "Müller GmbH") in page
    assert json.loads((site / "data/quotes/index.json").read_text())["companies"] \
        == [unicodedata.normalize("NFC", "Müller GmbH")]


def test_two_company_names_with_one_page_are_an_error_at_their_company_lines(repo):
    write_call(repo, "a.md", "Acme Corp", "2026-11-02", "[One.]{.pain}")
    before = site_files(build(repo))
    write_call(repo, "b.md", "ACME Corp.", "2026-11-03", "[Two.]{.pain}")
    result = repo.run("build")
    assert result.exit_code == 1
    assert ("content/transcripts/b.md:4: error: the company 'ACME Corp.' and 'Acme Corp' (content/transcripts/a.md:4) "
            "would have the same page (companies/acme-corp/)") in result.stderr
    assert site_files(repo.root / "site") == before  # the previous site, as it was
    # check says the same; with companies withheld there are no company pages, so no collision.
    assert "b.md:4: error" in repo.run("check").stderr
    repo.write("persona-site.toml", 'attribution = "role"\n')
    assert repo.run("check").exit_code == 0


def test_attribution_role_makes_no_company_pages_and_no_links_to_them(repo):
    repo.write("persona-site.toml", 'attribution = "role"\n')
    write_call(repo, "a.md", "Acme Corp", "2026-11-02", "[One.]{.pain}")
    site = build(repo)
    assert not (site / "companies").exists()
    for page in site.rglob("*.html"):
        assert "companies/" not in page.read_text("utf-8"), page
        assert "Acme" not in page.read_text("utf-8"), page


def test_a_feed_per_persona_and_tag_holds_its_latest_quotes(repo):
    repo.write("persona-site.toml", "quotes_per_role = 2\n")
    write_call(repo, "a.md", "Acme Corp", "2026-09-01", "[Old pain.]{.pain}", "[Old criteria.]{.criteria}")
    write_call(repo, "b.md", "Acme Corp", "2026-10-01", "[Middle pain.]{.pain .objection}")
    write_call(repo, "c.md", "Acme Corp", "2026-11-01", "[New pain.]{.pain}", "[New objection.]{.objection}")
    site = build(repo)
    feed = ET.parse(site / "personas/head-of-revops/pain/feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert feed.find(f"{ATOM}title").text.startswith("Head of Revenue Operations · Pain")
    titles = [e.find(f"{ATOM}title").text for e in feed.iter(f"{ATOM}entry")]
    assert titles == ["New pain.", "Middle pain."]  # the latest 2, newest first; not "Old pain."
    for entry, month in zip(feed.iter(f"{ATOM}entry"), ("2026-11", "2026-10")):
        # Its lasting place, its month's page: the tag page keeps only the latest (found by a bug hunt)
        assert entry.find(f"{ATOM}link").get("href").startswith(f"/personas/head-of-revops/{month}/#q-")
        assert "pain" in [c.get("term") for c in entry.iter(f"{ATOM}category")]
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}updated").text
    self_link = [link.get("href") for link in feed.iter(f"{ATOM}link") if link.get("rel") == "self"]
    assert self_link == ["/personas/head-of-revops/pain/feed.xml"]
    objection = ET.parse(site / "personas/head-of-revops/objection/feed.xml").getroot()
    assert [e.find(f"{ATOM}title").text for e in objection.iter(f"{ATOM}entry")] == ["New objection.", "Middle pain."]
    assert not list(ET.parse(site / "personas/vp-sales/pain/feed.xml").getroot().iter(f"{ATOM}entry"))
    # The persona's feed and the tag's have different ids: a reader subscribed to both keeps them apart.
    persona_feed = ET.parse(site / "personas/head-of-revops/feed.xml").getroot()
    assert persona_feed.find(f"{ATOM}id").text != feed.find(f"{ATOM}id").text
    # The persona's own feed holds its latest quotes_per_role too, however many its page keeps for "this quarter"
    # (a bug hunt found it holding all 5, the page's list)
    assert [e.find(f"{ATOM}title").text for e in persona_feed.iter(f"{ATOM}entry")] == ["New pain.", "New objection."]


def test_the_tag_feed_is_linked_from_the_head_and_the_page(repo):
    write_call(repo, "a.md", "Acme Corp", "2026-11-01", "[New pain.]{.pain}")
    site = build(repo)
    page = read(site / "personas/head-of-revops/pain/index.html")
    assert ("/personas/head-of-revops/pain/feed.xml", "alternate") in page.links
    assert ("/personas/head-of-revops/pain/feed.xml", "Atom feed of pain quotes") in page.links
    assert ("/personas/head-of-revops/feed.xml", "Atom feed of all quotes") in page.links


def test_tag_pages_send_the_rest_to_the_query_page(repo):
    repo.write("persona-site.toml", "quotes_per_role = 1\n")
    write_call(repo, "a.md", "Acme Corp", "2026-10-01", "[Old pain.]{.pain}")
    write_call(repo, "b.md", "Acme Corp", "2026-11-01", "[New pain.]{.pain}", "[New criteria.]{.criteria}")
    site = build(repo)
    persona_tag = read(site / "personas/head-of-revops/pain/index.html").links
    assert ("/quotes/?role=head-of-revops&tag=pain", "See all 2 pain quotes from Head of Revenue Operations") in persona_tag
    assert ("/quotes/?tag=pain", "See all 2 quotes tagged “Pain”") in read(site / "tags/pain/index.html").links
    # Where the page already shows every quote, there is nothing more to see.
    # (Its count still links to the same search, as every count on the site does.)
    assert not any(text.startswith("See all") for _, text in read(site / "tags/criteria/index.html").links)


def test_a_transcript_frozen_before_it_kept_its_company_line_still_thaws():
    day = dt.datetime(2026, 11, 1, tzinfo=ZoneInfo("UTC"))
    quote = Quote("q-1", "cfo", ("pain",), "x", "x", day, True, "Acme", "Dana", None, "a.md", 9, None)
    transcript = Transcript("a.md", "A", day, True, "Acme", None, (Participant("Dana", "cfo", None),),
                            quotes=(quote,), company_line=4)
    assert thaw(freeze(transcript)) == transcript
    old = pickle.loads(freeze(transcript))[:-1]  # as the cache of the last version holds it
    assert thaw(pickle.dumps(old)).company_line is None
