"""Issue 19: the persona page worth putting on the screen in a QBR: quotes first, their own words, the trend."""

from __future__ import annotations

import re
import shutil
from collections import Counter

import pytest
from conftest import cold_build

from persona_site import phrases
from persona_site.phrases import phrases_by_period


def _words(repo, counts: dict[str, str]) -> None:
    """One transcript per (persona, sentence)."""
    for i, (who, sentence) in enumerate(counts):
        repo.transcript(f"t{i}.md", f"**{who}:** [{sentence}]{{.pain}}\n", date=f"2026-11-{1 + i % 20:02d}")


def test_in_their_words_finds_the_word_only_one_persona_says(repo):
    """The known answer: the head of RevOps says 'spreadsheet' ten times, VP Sales never."""
    for i in range(10):
        repo.transcript(f"r{i}.md", "**Dana Whitfield:** [Our spreadsheet is the forecast again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
        repo.transcript(f"s{i}.md", "**Priya Raman:** [The forecast call runs long again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/head-of-revops/index.html").read_text()
    listed = re.findall(r'data-phrase="([^"]+)"', page)
    assert listed[0] == "spreadsheet"  # most distinctive first, in the last 90 days...
    assert listed.count("spreadsheet") == 2  # ...and over all time
    assert "forecast" not in listed  # both say it as often: nothing distinctive
    assert 'href="/quotes/?role=head-of-revops&amp;q=spreadsheet"' in page
    other = (repo.root / "site/personas/vp-sales/index.html").read_text()
    assert "spreadsheet" not in re.findall(r'data-phrase="([^"]+)"', other)


def test_distinctive_ranks_by_weighted_log_odds_and_is_deterministic():
    counts = {"a": Counter({"spreadsheet": 10, "rollout": 4, "forecast": 10, "board deck": 3}),
              "b": Counter({"renewal": 10, "budget": 4, "forecast": 10, "board deck": 3})}
    first = phrases.distinctive(counts)
    # Said as often by both: not distinctive; said more often: more evidence, ranked higher
    assert [p.text for p in first["a"]] == ["spreadsheet", "rollout"]
    assert [p.text for p in first["b"]] == ["renewal", "budget"]
    assert first["a"][0].count == 10 and first["a"][0].score > first["a"][1].score > 0
    assert phrases.distinctive(counts) == first


def test_terms_drop_stop_words_from_the_maintained_list_and_keep_two_word_phrases():
    found = phrases.terms("We rebuild the board deck in a spreadsheet, 14 times a quarter.", phrases.stop_words())
    assert found["board deck"] == 1 and found["spreadsheet"] == 1
    assert "the" not in found and "we" not in found and "14" not in found
    assert "the board" not in found


@pytest.mark.parametrize("text", ["Die Straße ist lang, STRASSE", "Ο λόγος είναι απλός", "İstanbul ofisi",
                                  "Ǆungla and ﬁnance", "Board DECK week"])
def test_each_phrase_links_to_a_search_that_finds_the_quote_it_came_from(text):
    """A phrase is shown as its quotes write it, lower case, and its link searches for it: 'straße' (not 'strasse',
    which finds nothing) and 'λόγος' (not the misspelt 'λόγοσ'; found by a bug hunt)."""
    import datetime as dt

    from persona_site.query import Query

    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    for term in phrases.terms(text, phrases.stop_words()):
        assert Query(text=term).matcher(now)("r", ("pain",), now.timestamp(), None, text), term
    assert "straße" in phrases.terms("Die Straße", frozenset()) and "λόγος" in phrases.terms("λόγος", frozenset())


def test_the_trend_has_twelve_months_that_link_to_their_archive_pages(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [One.]{.pain}\n\n**Dana Whitfield:** [Two.]{.objection .pain}\n",
                    date="2026-11-10")
    repo.transcript("b.md", "**Dana Whitfield:** [Three.]{.criteria}\n", date="2026-06-03")
    repo.transcript("c.md", "**Dana Whitfield:** [Too old.]{.criteria}\n", date="2025-11-30")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/head-of-revops/index.html").read_text()
    trend = page[page.index("<figure class=\"trend\" data-trend"):page.index("</figure>", page.index("data-trend"))]
    assert trend.count("<tr>") == 13  # the header and 12 months, Jan to Dec 2026
    assert "Dec 2025" not in trend and "Jan 2026" in trend and "Dec 2026" in trend
    assert 'href="/personas/head-of-revops/2026-11/"' in trend and 'href="/personas/head-of-revops/2026-06/"' in trend
    assert 'aria-label="Nov 2026: 2 quotes"' in trend
    # The table: Nov 2026 has one quote under pain and one under objection (each counted under its first tag)
    row = re.search(r"Nov 2026</a></th>(.*?)</tr>", trend).group(1)
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "1", "0", "2"]
    index = (repo.root / "site/index.html").read_text()
    assert index.count('class="spark" data-trend') == 2


def test_the_persona_page_opens_with_quotes_before_the_sketch(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Words.]{.pain}\n", date="2026-11-10")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/head-of-revops/index.html").read_text()
    assert page.index("What they’re saying") < page.index("About this buyer") < page.index('class="sketch')
    assert page.index("<h1>") < page.index('class="key-facts"') < page.index("What they’re saying")
    # Without JavaScript, what depends on today says when it was true
    assert "(as of 1 Dec 2026)" in page


def test_a_fact_that_maps_names_to_lists_reads_as_text(repo):
    """A persona's facts are shown as written: a mapping of lists (found by a bug hunt) read "crm: ['Salesforce',
    'HubSpot']", Python's way of writing a list, on the page."""
    repo.write("content/personas/vp-sales.md",
               "---\ntitle: VP Sales\nsummary: Sells.\ntools:\n  crm: [Salesforce, HubSpot]\n  bi: Looker\n---\nSketch.\n")
    repo.transcript("a.md", "**Priya Raman:** [Words.]{.pain}\n", date="2026-11-10")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/vp-sales/index.html").read_text()
    assert "<dt>Tools</dt><dd>crm: Salesforce, HubSpot; bi: Looker</dd>" in page
    assert "[" not in page.split('class="facts"', 1)[1].split("</section>", 1)[0]


def test_an_empty_persona_says_so_and_links_nowhere(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Words.]{.pain}\n", date="2026-11-10")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/vp-sales/index.html").read_text()
    assert "No quotes from VP Sales yet" in page
    assert "No quotes with this tag yet" not in page and "Jump to the latest quotes" not in page


def test_a_card_names_the_speakers_title_not_the_persona_on_its_own_page(repo):
    repo.transcript("a.md", "**Priya Raman:** [Words.]{.pain}\n", date="2026-11-10",
                    participants="  Priya Raman: {role: vp-sales, title: 'VP Sales, EMEA'}\n")
    assert repo.run("build").exit_code == 0
    page = (repo.root / "site/personas/vp-sales/index.html").read_text()
    card = page[page.index('<li class="quote-card"'):page.index("</li>", page.index('<li class="quote-card"'))]
    assert "VP Sales, EMEA" in card and "Acme Corp" in card
    assert ">VP Sales<" not in card  # the persona's own title, not repeated on its own page
    tag_page = (repo.root / "site/tags/pain/index.html").read_text()
    assert 'class="who" href="/personas/vp-sales/">VP Sales</a>' in tag_page


def test_the_index_orders_personas_by_last_heard(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Older.]{.pain}\n", date="2026-10-01")
    repo.transcript("b.md", "**Priya Raman:** [Newer.]{.pain}\n", date="2026-11-20")
    assert repo.run("build").exit_code == 0
    index = (repo.root / "site/index.html").read_text()
    assert index.index(">VP Sales</a></h3>") < index.index(">Head of Revenue Operations</a></h3>")


def test_the_tags_index_is_a_grid_of_the_last_90_days_linking_to_queries(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Now.]{.pain}\n\n**Dana Whitfield:** [Now too.]{.pain .objection}\n",
                    date="2026-11-10")
    repo.transcript("b.md", "**Dana Whitfield:** [Long ago.]{.pain}\n", date="2026-01-10")
    assert repo.run("build").exit_code == 0
    tags = (repo.root / "site/tags/index.html").read_text()
    cell = re.search(r'href="/quotes/\?role=head-of-revops&amp;tag=pain&amp;since=90d"[^>]*>(\d+)</a>', tags)
    assert cell and cell.group(1) == "2"


def test_published_transcripts_have_an_index_the_breadcrumb_leads_to(repo):
    repo.write("persona-site.toml", "publish_transcripts = true\n")
    repo.transcript("2026/a.md", "**Dana Whitfield:** [Words.]{.pain}\n", date="2026-11-10")
    assert repo.run("build").exit_code == 0
    index = (repo.root / "site/transcripts/index.html").read_text()
    assert 'href="/transcripts/2026/a/"' in index and "Acme Corp" in index and "Head of Revenue Operations" in index
    page = (repo.root / "site/transcripts/2026/a/index.html").read_text()
    assert '<a href="/transcripts/">Transcripts</a>' in page


def test_one_persona_alone_has_no_distinctive_words():
    """Nothing to compare with (a new site with one persona quoted): no list, and no division by zero."""
    assert phrases.distinctive({"a": Counter({"spreadsheet": 3})}) == {}


def test_a_site_where_everyone_says_one_word_builds_with_nothing_distinctive(repo):
    """Found by Hypothesis: two personas who said nothing but 'forecast' (the odds of a term that is all that was
    said divide by zero). The build goes on; no phrase stands out."""
    repo.transcript("a.md", "**Dana Whitfield:** [The forecast, the forecast.]{.pain}\n", date="2026-11-02")
    repo.transcript("b.md", "**Priya Raman:** [The forecast.]{.pain}\n", date="2026-11-03")
    assert phrases.distinctive({"a": Counter({"forecast": 2}), "b": Counter({"forecast": 1})}) == {"a": [], "b": []}
    assert repo.run("build").exit_code == 0
    assert not re.findall(r'data-phrase="([^"]+)"', (repo.root / "site/personas/head-of-revops/index.html").read_text())


def test_in_their_words_is_counted_as_a_cold_builds_pages_are_made_and_kept_where_it_is_the_same(repo, monkeypatch):
    """phrases.Counting: a cold build counts the phrases while its pages are made (beside the forked process that
    makes the pages of many); a later build counts them to compare, keeps a persona page whose phrases and quotes
    are the same, and follows an edit to a year-old quote that changes them."""
    from persona_site import render
    from persona_site.incremental import pool

    making, counted, made = [False], [], []
    make_outputs, count, make = pool.make_outputs, phrases.phrases_by_period, render.Renderer.make

    def making_outputs(*args, **kwargs):
        making[0] = True
        try:
            return make_outputs(*args, **kwargs)
        finally:
            making[0] = False

    monkeypatch.setattr(pool, "make_outputs", making_outputs)
    monkeypatch.setattr(phrases, "phrases_by_period", lambda *a, **k: counted.append(making[0]) or count(*a, **k))
    monkeypatch.setattr(render.Renderer, "make", lambda self, path, *a, **k: made.append(path) or make(self, path, *a, **k))
    for i in range(22):  # more than the page's latest 20: the old quotes are on no persona page
        repo.transcript(f"r{i}.md", "**Dana Whitfield:** [The forecast call runs long again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
        repo.transcript(f"s{i}.md", "**Priya Raman:** [The forecast call runs long again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
    for i in range(3):
        repo.transcript(f"old{i}.md", "**Dana Whitfield:** [The forecast call runs long again today.]{.pain}\n",
                        date=f"2025-06-{i + 1:02d}")
    page = repo.root / "site/personas/head-of-revops/index.html"
    env = {"SOURCE_DATE_EPOCH": "1796472000"}  # 2026-12-05: one day for every build
    assert repo.run("build", env=env).exit_code == 0
    assert counted == [True] and "spreadsheet" not in page.read_text()  # counted once, as the pages were made

    made.clear()
    repo.transcript("old0.md", "**Dana Whitfield:** [The forecast call runs long again today!]{.pain}\n",
                    date="2025-06-01")  # the same words: the same phrases
    assert repo.run("build", env=env).exit_code == 0
    assert counted == [True, False]  # counted to compare with the last build's pages
    assert "personas/head-of-revops/2025-06/index.html" in made
    assert "personas/head-of-revops/index.html" not in made  # its phrases and quotes are the same: kept

    for i in range(3):
        repo.transcript(f"old{i}.md", "**Dana Whitfield:** [Our spreadsheet is the forecast again today.]{.pain}\n",
                        date=f"2025-06-{i + 1:02d}")
    assert repo.run("build", env=env).exit_code == 0
    listed = re.findall(r'data-phrase="([^"]+)"', page.read_text())
    assert "spreadsheet" in listed  # over all time: said three times, a year ago
    rebuilt = page.read_bytes()
    shutil.rmtree(repo.root / ".persona-cache")
    shutil.rmtree(repo.root / "site")
    assert repo.run("build", env=env).exit_code == 0
    assert page.read_bytes() == rebuilt


def test_a_quote_of_one_persona_leaves_the_others_pages_that_show_the_same_phrases(repo, monkeypatch):
    """Each persona's phrases are weighed against the others' words: an edit of one persona's quote moves every
    persona's scores a little. A page that shows the same phrases, in the same order, with the same counts, is
    kept (CI: a commit that changed one quote made every persona page again); one whose phrases change is not."""
    from persona_site import render

    made, make = [], render.Renderer.make
    monkeypatch.setattr(render.Renderer, "make", lambda self, path, *a, **k: made.append(path) or make(self, path, *a, **k))
    for i in range(6):
        repo.transcript(f"r{i}.md", "**Dana Whitfield:** [Our spreadsheet is the forecast again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
        repo.transcript(f"s{i}.md", "**Priya Raman:** [The pipeline review runs long again.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
    env = {"SOURCE_DATE_EPOCH": "1796472000"}
    assert repo.run("build", env=env).exit_code == 0
    revops = repo.root / "site/personas/head-of-revops/index.html"
    before = re.findall(r'data-phrase="([^"]+)"', revops.read_text())
    assert "spreadsheet" in before

    made.clear()
    repo.transcript("s0.md", "**Priya Raman:** [The pipeline review runs long again, sadly.]{.pain}\n",
                    date="2026-11-01")  # a word said once by the VP of Sales: no phrase of theirs, other scores
    assert repo.run("build", env=env).exit_code == 0
    assert "personas/vp-sales/2026-11/index.html" in made
    assert "personas/head-of-revops/index.html" not in made
    assert re.findall(r'data-phrase="([^"]+)"', revops.read_text()) == before

    made.clear()
    for i in range(6):  # now the VP of Sales says what the Head of RevOps says: nothing sets them apart
        repo.transcript(f"s{i}.md", "**Priya Raman:** [Our spreadsheet is the forecast again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
    assert repo.run("build", env=env).exit_code == 0
    assert "personas/head-of-revops/index.html" in made
    assert re.findall(r'data-phrase="([^"]+)"', revops.read_text()) != before
    monkeypatch.setenv("SOURCE_DATE_EPOCH", env["SOURCE_DATE_EPOCH"])
    assert revops.read_bytes() == cold_build(repo.root).outputs["personas/head-of-revops/index.html"]


def test_a_persona_page_is_made_again_when_in_their_words_ranks_otherwise(repo, monkeypatch):
    """What the phrases are counted from is the same, how they are ranked is not (an upgrade that keeps the version
    number, or an edit of phrases.py): the pages must not keep the last ranking."""
    for i in range(10):
        repo.transcript(f"r{i}.md", "**Dana Whitfield:** [Our spreadsheet is the forecast again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
        repo.transcript(f"s{i}.md", "**Priya Raman:** [The forecast call runs long again today.]{.pain}\n",
                        date=f"2026-11-{i + 1:02d}")
    page = repo.root / "site/personas/head-of-revops/index.html"
    env = {"SOURCE_DATE_EPOCH": "1796472000"}
    assert repo.run("build", env=env).exit_code == 0
    assert "spreadsheet" in re.findall(r'data-phrase="([^"]+)"', page.read_text())

    monkeypatch.setattr(phrases, "MIN_COUNT", 100)  # no phrase said often enough
    repo.transcript("s0.md", "**Priya Raman:** [The forecast call runs long again today.]{.pain}\n\n"
                    "**Sam Ortiz:** Thanks.\n", date="2026-11-01")  # a file read again: a build, no quote changed
    assert repo.run("build", env=env).exit_code == 0
    assert re.findall(r'data-phrase="([^"]+)"', page.read_text()) == []


def test_serve_remembers_no_more_lines_after_many_edits_when_its_theme_shows_no_phrases(repo):
    """A theme whose persona page leaves "In their words" out: serve never counts them, and must not keep every
    version of an edited month's quotes it looked at."""
    from conftest import Kept
    from persona_site.theme import BUILTIN_THEME

    shown = BUILTIN_THEME.joinpath("templates/persona.html").read_text()
    assert "{% if phrases and (phrases.recent or phrases.all) %}" in shown
    repo.write("themes/default/templates/persona.html",
               shown.replace("{% if phrases and (phrases.recent or phrases.all) %}", "{% if false %}"))
    for i in range(12):
        repo.transcript(f"c{i:02d}.md", f"**Dana Whitfield:** [Call {i} and the forecast.]{{.pain}}\n",
                        date=f"2026-{1 + i % 11:02d}-10")
    kept = Kept(repo.root)
    assert kept.build().ok
    remembered = []
    for step in range(30):
        repo.transcript("c00.md", f"**Dana Whitfield:** [Edit number {step} of the forecast.]{{.pain}}\n",
                        date="2026-01-10")
        assert kept.build().ok
        memo = kept.engine._counted
        remembered.append(len(memo) + len(memo._parts))
    assert max(remembered) <= remembered[0] + 2, remembered


def test_in_their_words_kept_between_builds_is_what_counting_everything_again_gives(repo):
    """With a memo (a build's, kept between builds and processes: a month whose quotes are the same is not counted
    again), after edits, a month gone, a month new, and the memo saved and loaded as a new process loads it, in
    their words ranks what counting every month from nothing ranks."""
    import datetime as dt
    import pickle

    from conftest import cold_build
    from persona_site.incremental.render_memo import UsedMemo
    from persona_site.pages_archive import months_by_role

    words = ["spreadsheet", "forecast", "board deck", "renewal", "headcount", "pipeline", "quota", "budget"]
    for i in range(24):
        who = "Dana Whitfield" if i % 3 else "Priya Raman"
        repo.transcript(f"c{i:02d}.md", f"**{who}:** [The {words[i % 8]} and the {words[(i * 3) % 8]} "
                                        f"again, the {words[i % 5]}.]{{.pain}}\n", date=f"2026-{1 + i % 11:02d}-1{i % 9}")
    memo = UsedMemo()
    steps = [("c03.md", "The spreadsheet, the spreadsheet and the quota.", "2026-04-13"),
             ("c03.md", None, None),  # its month loses a quote
             ("c30.md", "A renewal in a month of its own, the renewal.", "2025-12-01"),  # a new month
             ("c05.md", "The budget and the budget and the board deck.", "2026-06-15"),
             ("c30.md", None, None)]  # that month gone again
    for step, (name, text, date) in enumerate([(None, None, None), *steps]):
        if name and text:
            repo.transcript(name, f"**Dana Whitfield:** [{text}]{{.pain}}\n", date=date)
        elif name:
            (repo.root / "content/transcripts" / name).unlink()
        built = cold_build(repo.root, render=False)
        months = months_by_role(built.archive, built.config.zone)
        when = dt.datetime.fromtimestamp(-built.archive.refs()[0].order, built.config.zone)  # the newest quote's day
        expected = phrases_by_period(built.archive, when, months)
        assert phrases_by_period(built.archive, when, months, memo) == expected, step
        memo.forget_unasked()
        memo = UsedMemo(pickle.loads(pickle.dumps(dict(memo))))  # as the next process loads it
