"""Git: dates of undated transcripts, --rev from git objects, build provenance. Real repositories."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from persona_site import gitmeta
from persona_site.incremental.git_ahead import GitAhead

QUOTE = "**Dana Whitfield:** [First words.]{.pain}\n"


def quotes(repo, *args):
    result = repo.run("quotes", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_undated_transcript_takes_the_date_of_the_commit_that_added_it(repo):
    repo.transcript("a/undated.md", QUOTE, date=None)
    repo.commit_all("add", date="2026-03-04T10:00:00+00:00")
    repo.git("mv", "content/transcripts/a/undated.md", "content/transcripts/moved.md")
    repo.commit_all("move", date="2026-05-06T10:00:00+00:00")
    result = repo.run("quotes", "--format", "json")
    assert "modification time" not in result.stderr
    [quote] = json.loads(result.stdout)["quotes"]
    assert quote["date"] == "2026-03-04" and quote["transcript"] == "transcripts/moved.md"


@pytest.mark.parametrize("name", ["acme pilot call", 'acme "pilot" call', "acme\\pilot", "acme\tpilot"])
def test_a_file_name_git_quotes_or_pads_keeps_its_dates(repo, name):
    """Git writes a name with a space followed by a tab in a patch's header, and a name with a quote, a backslash or
    a tab quoted and escaped, in its logs: such a transcript is still the one git added and edited."""
    repo.transcript(f"2026/{name}.md", QUOTE, date=None)
    repo.commit_all("add", date="2026-03-04T10:00:00+00:00")
    added = repo.git("rev-parse", "HEAD").strip()
    path = repo.root / f"content/transcripts/2026/{name}.md"
    path.write_text(path.read_text() + "\n**Dana Whitfield:** [Added later.]{.objection}\n")
    repo.commit_all("edit", date="2026-05-06T10:00:00+00:00")
    edited = repo.git("rev-parse", "HEAD").strip()
    path.write_text(path.read_text() + "\n**Dana Whitfield:** [Not committed.]{.criteria}\n")
    result = repo.run("quotes", "--format", "json")
    assert result.exit_code == 0, result.output
    assert "modification time" not in result.stderr  # the date is the commit's that added the file
    found = {q["text"]: q for q in json.loads(result.stdout)["quotes"]}
    assert {q["date"] for q in found.values()} == {"2026-03-04"}
    assert found["First words."]["added_in"] == {"commit": added, "date": "2026-03-04T10:00:00+00:00"}
    assert found["Added later."]["added_in"] == {"commit": edited, "date": "2026-05-06T10:00:00+00:00"}
    assert found["Not committed."]["added_in"] is None


def test_a_line_that_reads_like_a_patch_header_keeps_the_dates_of_the_lines_after_it(repo):
    """A transcript line that starts '++ ' or '-- ' is '+++ ' or '--- ' in a patch: inside a hunk it is a line of
    the file, and the lines added with it keep their commit, in history and in the work tree."""
    repo.transcript("call.md", QUOTE + "\n-- notes\n", date=None)
    repo.commit_all("add", date="2026-03-04T10:00:00+00:00")
    path = repo.root / "content/transcripts/call.md"
    path.write_text(path.read_text() + "\n++ agenda\n\n**Dana Whitfield:** [Added later.]{.objection}\n")
    repo.commit_all("edit", date="2026-05-06T10:00:00+00:00")
    edited = repo.git("rev-parse", "HEAD").strip()
    path.write_text(path.read_text() + "\n++ draft\n\n**Dana Whitfield:** [Not committed.]{.criteria}\n")
    found = {q["text"]: q for q in quotes(repo)["quotes"]}
    assert found["Added later."]["added_in"] == {"commit": edited, "date": "2026-05-06T10:00:00+00:00"}
    assert found["Not committed."]["added_in"] is None


def test_a_line_moved_or_taken_out_and_put_back_keeps_the_commit_that_first_added_it(repo):
    """A quote moved up the file is added before it is removed in the patch, and one taken out and put back before
    the file was renamed was taken out under the old name: both still date from the commit that added the file."""
    second = "**Dana Whitfield:** [Second thought.]{.objection}\n"
    third = "**Dana Whitfield:** [Third, taken out and put back.]{.criteria}\n"
    repo.transcript("old name.md", QUOTE + "\nMiddle words.\n\n" + second + "\n" + third, date=None)
    repo.commit_all("add", date="2026-03-04T10:00:00+00:00")
    added = repo.git("rev-parse", "HEAD").strip()
    path = repo.root / "content/transcripts/old name.md"
    body = path.read_text()
    path.write_text(body.replace(QUOTE + "\nMiddle words.\n\n" + second, second + "\nMiddle words.\n\n" + QUOTE))
    repo.commit_all("move a quote up", date="2026-04-05T10:00:00+00:00")
    path.write_text(path.read_text().replace(third, ""))
    repo.commit_all("take one out", date="2026-05-06T10:00:00+00:00")
    path.write_text(path.read_text() + "\n" + third)
    repo.commit_all("put it back", date="2026-06-07T10:00:00+00:00")
    repo.git("mv", "content/transcripts/old name.md", "content/transcripts/new.md")
    repo.commit_all("rename", date="2026-07-08T10:00:00+00:00")
    found = {q["text"]: q["added_in"] for q in quotes(repo)["quotes"]}
    assert found == {"First words.": {"commit": added, "date": "2026-03-04T10:00:00+00:00"},
                     "Second thought.": {"commit": added, "date": "2026-03-04T10:00:00+00:00"},
                     "Third, taken out and put back.": {"commit": added, "date": "2026-03-04T10:00:00+00:00"}}


def test_uncommitted_undated_transcript_warns(repo):
    repo.commit_all("personas", date="2026-03-04T10:00:00+00:00")
    repo.transcript("new.md", QUOTE, date=None)
    result = repo.run("check")
    assert "content/transcripts/new.md:1: warning: no 'date' in the front matter and this transcript is not committed to git yet" in result.stderr


def test_not_a_repository_warns(repo):
    repo.transcript("new.md", QUOTE, date=None)
    assert "this folder is not a git repository" in repo.run("check").stderr


def test_git_dates_take_one_process_whatever_the_number_of_files(repo, monkeypatch):
    for n in range(30):
        repo.transcript(f"t{n:02d}.md", QUOTE, date=None)
    repo.commit_all("many", date="2026-03-04T10:00:00+00:00")
    calls = []
    real = subprocess.Popen

    def counting(args, *a, **k):
        calls.append(args)
        return real(args, *a, **k)

    monkeypatch.setattr(gitmeta.subprocess, "Popen", counting)  # subprocess.run makes a Popen too
    data = quotes(repo)
    assert data["count"] == 30
    assert len(calls) <= 6, calls  # is-repo, log (dates), log -1, status, log -p: never one per file


def _children() -> dict[int, str]:
    """This process's child processes and their states (Z: exited, never waited for)."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found[int(stat.parent.name)] = fields[0]
    return found


def test_git_begun_ahead_answers_as_git_does_and_never_goes_stale(history):
    root = history.root
    history.transcript("2026/draft.md", QUOTE)
    expected = (gitmeta.is_repository(root), gitmeta.head_info(root), gitmeta.dirty_paths(root))
    with GitAhead(root) as git:
        assert (gitmeta.is_repository(root, git), gitmeta.head_info(root, git=git), gitmeta.dirty_paths(root, git)) == expected
        assert gitmeta.head_info(root, git=git) == expected[1]  # asked twice in one build: the same answer
    history.commit_all("third", date="2026-11-27T09:00:00+00:00")
    assert gitmeta.head_info(root)["commit"] == history.git("rev-parse", "HEAD").strip() != expected[1]["commit"]
    assert gitmeta.dirty_paths(root) == set()


def test_a_build_takes_the_answers_git_began_ahead(history):
    """The point of beginning ahead: the build's own questions do not start git again."""
    root = history.root
    with GitAhead(root) as git:
        begun = time.time_ns()
        assert gitmeta.status(root, git)[1] < begun  # asked when the engine was made, not now
        assert gitmeta.is_repository(root, git) and gitmeta.head_info(root, git=git)
    assert gitmeta.status(root, git)[1] >= begun  # after close(): asked anew


def test_a_build_that_stops_early_leaves_no_git_behind(history):
    before = _children()
    history.write("persona-site.toml", "title = [broken\n")
    assert history.run("build").exit_code == 1  # stops at the config: never asks what is uncommitted
    assert {pid: state for pid, state in _children().items() if pid not in before} == {}
    history.write("persona-site.toml", 'title = "Fixed"\n')
    history.commit_all("fix", date="2026-11-27T09:00:00+00:00")
    assert history.run("build").exit_code == 0
    page = (root_page := history.root / "site/index.html").read_text()
    assert f"from commit {history.git('rev-parse', 'HEAD').strip()[:7]} " in page, root_page
    assert "with uncommitted changes" not in page


@pytest.fixture
def history(repo):
    """Two commits and a tag, with known dates."""
    repo.transcript("2026/first.md", QUOTE, date="2026-06-01")
    repo.commit_all("first", date="2026-06-02T09:00:00+00:00")
    repo.git("tag", "v2026-q2")
    repo.transcript("2026/first.md", QUOTE + "\n**Priya Raman:** [Added later.]{.criteria}\n", date="2026-06-01")
    repo.transcript("2026/second.md", "**Dana Whitfield:** [Second call.]{.objection}\n", date=None)
    repo.commit_all("second", date="2026-11-25T09:00:00+00:00")
    return repo


def test_rev_reproduces_an_old_state_exactly(history):
    old = quotes(history, "--rev", "v2026-q2")
    assert [q["text"] for q in old["quotes"]] == ["First words."]
    assert old["commit"] == history.git("rev-parse", "v2026-q2").strip()
    assert [q["text"] for q in quotes(history, "--rev", "HEAD~1")["quotes"]] == ["First words."]
    now = quotes(history, "--rev", "main")
    assert sorted(q["text"] for q in now["quotes"]) == ["Added later.", "First words.", "Second call."]


def test_rev_ignores_uncommitted_changes_and_never_touches_the_work_tree(history):
    history.transcript("2026/draft.md", "**Dana Whitfield:** [Draft.]{.pain}\n")
    (history.root / "content/transcripts/2026/second.md").write_text("garbage that would not parse: [x]{.nope}")
    status_before = history.git("status", "--porcelain")
    index = history.root / ".git/index"
    index_mtime = index.stat().st_mtime_ns
    texts = [q["text"] for q in quotes(history, "--rev", "HEAD")["quotes"]]
    assert sorted(texts) == ["Added later.", "First words.", "Second call."]
    assert index.stat().st_mtime_ns == index_mtime
    assert history.git("status", "--porcelain") == status_before
    assert "garbage" in (history.root / "content/transcripts/2026/second.md").read_text()


def test_rev_dates_undated_files_from_history_up_to_that_revision(history):
    data = quotes(history, "--rev", "HEAD")
    second = next(q for q in data["quotes"] if q["text"] == "Second call.")
    assert second["date"] == "2026-11-25"


def test_build_and_check_take_rev(history, tmp_path):
    result = history.run("build", "--rev", "v2026-q2", "--out", str(tmp_path / "old"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "old/quotes.json").read_text())["count"] == 1
    assert history.run("check", "--rev", "v2026-q2").exit_code == 0


@pytest.mark.parametrize("rev", ["nope", "HEAD~10", "--output=x"])
def test_bad_revision_is_a_clear_error(history, rev):
    result = history.run("quotes", "--rev", rev)
    assert result.exit_code == 1
    assert "is not a commit, branch or tag" in result.stderr
    assert "Traceback" not in result.output


def test_rev_before_the_first_commit_says_so(repo):
    repo.transcript("a.md", "**Dana Whitfield:** [Words.]{.pain}\n")
    repo.git("init", "-q", "-b", "main")
    result = repo.run("build", "--rev", "HEAD")
    assert result.exit_code == 1
    assert "has no commits yet, so there is no 'HEAD' to build: commit your content first" in result.stderr
    assert "Traceback" not in result.output


def test_rev_outside_git_is_a_clear_error(repo):
    result = repo.run("check", "--rev", "HEAD")
    assert result.exit_code == 1
    assert "--rev needs a git repository" in result.stderr


def test_provenance_in_footer_json_and_added_in(history):
    head = history.git("rev-parse", "HEAD").strip()
    first = history.git("rev-parse", "v2026-q2").strip()
    assert history.run("build").exit_code == 0
    site = history.root / "site"
    index = (site / "index.html").read_text()
    assert f"from commit {head[:7]} " in index
    assert "with uncommitted changes" not in index
    build = json.loads((site / "build.json").read_text())  # what every other page's footer shows (site.js)
    assert build["commit"] == head[:7] and f"from commit {head[:7]} " in build["text"]
    page = (site / "personas/head-of-revops/index.html").read_text()
    assert re.search(r'<p class="built" data-built="[^"]*build.json">Built 1 Dec 2026.</p>', page), page
    assert head[:7] not in page  # the day without script; the commit from build.json: not rewritten each commit
    data = json.loads((site / "quotes.json").read_text())
    assert data["commit"] == head
    added = {q["text"]: q["added_in"] for q in data["quotes"]}
    assert added["First words."] == {"commit": first, "date": "2026-06-02T09:00:00+00:00"}
    assert added["Added later."] == {"commit": head, "date": "2026-11-25T09:00:00+00:00"}
    # now is pinned to 2026-12-01: added 6 days ago is new, added in June is not
    vp = (site / "personas/vp-sales/index.html").read_text()
    assert 'badge-new' in vp
    assert page.count('badge-new') == 1  # "Second call." is new, "First words." is not


def test_dirty_work_tree_is_marked(history):
    history.transcript("2026/draft.md", "**Dana Whitfield:** [Draft.]{.pain}\n")
    assert history.run("build").exit_code == 0
    page = (history.root / "site/index.html").read_text()
    assert "with uncommitted changes" in page
    draft = next(q for q in json.loads((history.root / "site/quotes.json").read_text())["quotes"] if q["text"] == "Draft.")
    assert draft["added_in"] is None


def test_added_in_follows_edits_renames_and_uncommitted_lines(history):
    second_commit = history.git("rev-parse", "HEAD").strip()
    (history.root / "content/transcripts/2026/first.md").rename(history.root / "content/transcripts/first-moved.md")
    history.commit_all("move", date="2026-11-26T09:00:00+00:00")
    path = history.root / "content/transcripts/first-moved.md"
    path.write_text(path.read_text().replace("[Added later.]", "[Edited, not committed.]"))
    added = {q["text"]: q["added_in"] for q in quotes(history)["quotes"]}
    assert added["First words."]["commit"] == history.git("rev-parse", "v2026-q2").strip()
    assert added["Second call."]["commit"] == second_commit
    assert added["Edited, not committed."] is None


def test_serves_git_status_asks_again_about_the_changed_paths_only_and_answers_as_git_does(repo, monkeypatch):
    """serve asks `git status` about the paths its watcher saw change and keeps the last answer for the others; after
    each change, as the watcher reports it, the answer is git's own (the reference: a full `git status`) for every
    file a build reads, and so are the uncommitted paths. Where a path's answer does not stand alone, git is asked
    about everything."""
    from persona_site.basics import never_read
    from persona_site.incremental.git_status import MAX_PATHS, PatchedStatus

    root = repo.root
    for name in ("a", "b", "c"):
        repo.transcript(f"2026/{name}.md", QUOTE, date="2026-06-01")
    repo.commit_all("start", date="2026-06-02T09:00:00+00:00")
    asked: list[tuple[str, ...]] = []
    real_run = gitmeta.GitRunner.run

    def run(self, where, args, input=None):
        asked.append(args)
        return real_run(self, where, args, input)

    monkeypatch.setattr(gitmeta.GitRunner, "run", run)
    memo = PatchedStatus()
    t = "content/transcripts/2026"

    def step(changed: set[str] | None, whole: bool) -> None:
        memo.expect(changed)
        asked.clear()
        answer = sorted(entry for entry in gitmeta.status(root, memo)[0] if not never_read(entry[1]))
        assert (gitmeta.STATUS in asked) == whole, asked
        assert answer == sorted(entry for entry in gitmeta.status(root)[0] if not never_read(entry[1]))
        assert gitmeta.dirty_paths(root, memo) == gitmeta.dirty_paths(root)

    def by_git() -> list[str]:  # the paths of git's last `status` but a full one
        return [arg for args in asked if "status" in args for arg in args if arg.startswith(t)]

    step(None, whole=True)  # the first build: everything
    committed = (root / t / "a.md").read_bytes()
    repo.transcript("2026/a.md", QUOTE + "\n**Dana Whitfield:** [More.]{.pain}\n", date="2026-06-01")
    step({f"{t}/a.md"}, whole=False)  # a tracked file edited: another size than the index's, not `git status`
    assert by_git() == [], asked
    (root / t / "a.md").write_bytes(committed)
    step({f"{t}/a.md"}, whole=False)  # and written back as committed: the same size, its blob the index's
    assert by_git() == [] and any("hash-object" in args for args in asked), asked
    repo.transcript("2026/a.md", QUOTE + "\n**Dana Whitfield:** [More.]{.pain}\n", date="2026-06-01")
    step({f"{t}/a.md"}, whole=False)
    repo.transcript("2026/new.md", QUOTE)
    step({f"{t}/new.md"}, whole=False)  # a new file
    (root / t / "new.md").unlink()
    (root / t / "b.md").unlink()
    step({f"{t}/new.md", f"{t}/b.md"}, whole=False)  # an untracked file and a tracked one deleted
    repo.transcript("2027/x.md", QUOTE)
    repo.transcript("2027/y.md", QUOTE)
    step({"content/transcripts/2027"}, whole=False)  # a folder that came, as one path
    (root / "content/transcripts/2027/x.md").unlink()
    (root / "content/transcripts/2027/y.md").unlink()
    (root / "content/transcripts/2027").rmdir()
    step({"content/transcripts/2027"}, whole=False)  # and went
    (root / t / ".a.md.swp").write_text("swap")
    (root / t / "a.md~").write_text("backup")
    step(set(), whole=False)  # an editor's files, which the watcher does not report: not uncommitted changes
    repo.transcript("2026/c.md", QUOTE + "\n**Dana Whitfield:** [Edited.]{.pain}\n", date="2026-06-01")
    memo.expect({f"{t}/c.md"})  # a build that never asked git (its config would not read)
    repo.transcript("2026/d.md", QUOTE)
    step({f"{t}/d.md"}, whole=False)  # the paths of both builds are asked about
    repo.write(".gitignore", "content/transcripts/2026/d.md\n")  # hidden: the watcher does not report it
    step(set(), whole=True)  # an ignore file changed: everything
    repo.git("add", f"{t}/a.md")
    step(set(), whole=True)  # the index changed
    repo.commit_all("more", date="2026-06-03T09:00:00+00:00")
    step(set(), whole=True)  # a commit
    repo.git("reset", "--soft", "HEAD~1")
    step(set(), whole=True)  # HEAD moved, the index as it was
    repo.transcript("2026/e.md", QUOTE)
    step({f"{t}/e.md", "themes/x/templates/base.html", "elsewhere.txt"}, whole=False)
    step({f"{t}/e.md"}, whole=False)  # the same again
    repo.git("add", "-N", f"{t}/e.md")
    step(set(), whole=True)
    (root / t / "e.md").rename(root / t / "e2.md")
    step({f"{t}/e.md", f"{t}/e2.md"}, whole=True)  # an intent-to-add file renamed: git pairs the two paths
    repo.git("rm", "-q", "--cached", f"{t}/e.md")
    step(set(), whole=True)
    nested = root / "content/transcripts/nested"
    nested.mkdir()
    repo.git("-C", str(nested), "init", "-q")
    (nested / "f.md").write_text(QUOTE)
    step({"content/transcripts/nested/f.md"}, whole=True)  # a repository of its own: git lists its folder
    (nested / "f.md").write_text(QUOTE + "more\n")
    step({"content/transcripts/nested/f.md"}, whole=True)
    shutil.rmtree(nested)
    step({"content/transcripts/nested"}, whole=True)  # the last answer listed a folder whole
    inside = root / "content/transcripts/inside"
    inside.mkdir()
    repo.git("-C", str(inside), "init", "-q")
    (inside / "f.md").write_text(QUOTE)
    step({"content/transcripts"}, whole=False)  # a folder holding a new repository: git lists that folder whole...
    shutil.rmtree(inside / ".git")  # (hidden: not reported)
    (inside / "g.md").write_text(QUOTE)
    step({"content/transcripts/inside/f.md"}, whole=True)  # ...so that answer is not patched again
    many = {f"{t}/many-{n}.md" for n in range(MAX_PATHS + 1)}
    for path in many:
        (root / path).write_text(QUOTE)
    step(many, whole=True)  # a batch too large to name on git's command line
    step({f"{t}/many-0.md"}, whole=False)
    repo.transcript("2026/f.md", QUOTE)
    step(None, whole=True)  # a batch the watcher could not tell
    repo.transcript("2026/a.md", QUOTE + "\n**Dana Whitfield:** [Staged.]{.pain}\n", date="2026-06-01")
    repo.git("add", f"{t}/a.md")
    step(set(), whole=True)
    repo.transcript("2026/a.md", QUOTE + "\n**Dana Whitfield:** [Again.]{.pain}\n", date="2026-06-01")
    step({f"{t}/a.md"}, whole=False)  # staged, then edited again ("MM"): the staged half is the last answer's
    assert by_git() == [], asked
    (root / t / "a.md").unlink()
    step({f"{t}/a.md"}, whole=False)  # staged, then deleted ("MD")
    (root / t / "a.md").chmod(0o755) if (root / t / "a.md").exists() else (root / t / "c.md").chmod(0o755)
    step({f"{t}/a.md", f"{t}/c.md"}, whole=False)  # a mode the index does not keep: git tells
    assert f"{t}/c.md" in by_git(), asked
    repo.write(".gitattributes", "*.md text\n")
    repo.commit_all("attributes", date="2026-06-04T09:00:00+00:00")
    step(set(), whole=True)
    (root / t / "c.md").write_bytes((root / t / "c.md").read_bytes().replace(b"\n", b"\r\n"))
    step({f"{t}/c.md"}, whole=False)  # CRLF in the work tree: not the size the index keeps, so changed, as git says
    repo.git("add", f"{t}/c.md")
    step(set(), whole=True)  # the index keeps the CRLF file's size, and the same blob as HEAD's
    (root / t / "c.md").write_bytes((root / t / "c.md").read_bytes())
    step({f"{t}/c.md"}, whole=False)  # written again with CRLF: git's line ends depend on the index's blob
    assert by_git() == [f"{t}/c.md"] and gitmeta.dirty_paths(root) == set(), gitmeta.dirty_paths(root)
    repo.git("config", "core.autocrlf", "true")  # a blob committed with CRLF is left so by git status
    repo.git("status")
    memo.expect(None)
    step(None, whole=True)
    (root / t / "c.md").write_bytes((root / t / "c.md").read_bytes())
    step({f"{t}/c.md"}, whole=False)  # the same bytes again: not changed, as git says (not as hash-object would)
    repo.git("config", "core.autocrlf", "false")
    step(None, whole=True)
    (root / t / "d2.md").write_text(QUOTE)
    repo.git("add", f"{t}/d2.md")
    repo.git("commit", "-q", "-m", "d2")
    step(None, whole=True)
    (root / t / "d2.md").unlink()
    (root / t / "d2.md").mkdir()
    (root / t / "d2.md" / "f.md").write_text(QUOTE)
    step({f"{t}/d2.md"}, whole=False)  # a tracked file made a folder, reported as one path: git tells
    shutil.rmtree(root / t / "d2.md")
    (root / t / "d2.md").write_text(QUOTE)
    step({f"{t}/d2.md"}, whole=False)  # a file again, answered from the index: nothing left below it


def test_a_history_continued_over_new_commits_is_the_history_made_anew_and_says_what_they_touched(history):
    """gitmeta.history(previous=...) reads only the commits since previous's head when it is an ancestor (a new
    commit), and says how many came and which transcripts they touched (the cache patches its scan by them);
    after a reset to an older commit, or a rewritten one, it is made anew."""
    first, second = (history.git("rev-parse", ref).strip() for ref in ("v2026-q2", "HEAD"))
    old = gitmeta.history(history.root, first)
    continued = gitmeta.history(history.root, second, old)
    assert continued.since == gitmeta.Since(first, 1, frozenset({"content/transcripts/2026/first.md",
                                                                 "content/transcripts/2026/second.md"}))
    anew = gitmeta.history(history.root, second)
    assert (continued.added, continued.lines, continued.changed) == (anew.added, anew.lines, anew.changed)
    assert anew.since is None
    history.write("NOTES.md", "Not a transcript.\n")
    history.commit_all("notes", date="2026-11-26T09:00:00+00:00")
    third = history.git("rev-parse", "HEAD").strip()
    assert gitmeta.history(history.root, third, continued).since == gitmeta.Since(second, 1, frozenset())
    back = gitmeta.history(history.root, first, continued)  # second is no ancestor of first
    assert back.since is None and back.added == old.added and back.lines == old.lines
