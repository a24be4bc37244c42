"""Writing the site: what a rebuild must never lose, keep stale, or crash on (review findings)."""

from __future__ import annotations

import errno
import os
import subprocess
import threading

import pytest

from conftest import build_with, site_files

from persona_site import output
from persona_site.output import write_site

GOOD = "**Dana Whitfield:** [A fine quote.]{.pain}\n\n**Priya Raman:** [Another.]{.criteria}\n"


@pytest.fixture
def built(repo):
    repo.transcript("2026/a.md", GOOD)
    assert repo.run("build").exit_code == 0
    return repo


def test_an_output_file_edited_by_hand_is_rewritten_on_the_next_build(built):
    css = built.root / "site/assets/style.css"
    original = css.read_bytes()
    with open(css, "ab") as handle:
        handle.write(b"/* HACKED */")
    built.transcript("2026/b.md", GOOD.replace("A fine quote.", "New."))
    assert built.run("build").exit_code == 0
    assert css.read_bytes() == original


def test_a_deleted_page_is_not_up_to_date(built):
    (built.root / "site/index.html").unlink()
    result = built.run("build")
    assert "up to date" not in result.stderr
    assert (built.root / "site/index.html").is_file()


def test_a_symlinked_out_folder_is_written_where_it_points(built, tmp_path):
    target = tmp_path / "www"
    link = tmp_path / "link"
    link.symlink_to(target, target_is_directory=True)
    built.write("persona-site.toml", 'title = "NEW TITLE"\n')
    for _ in range(2):
        assert built.run("build", "--out", str(link)).exit_code == 0
    assert link.is_symlink()
    assert "NEW TITLE" in (target / "index.html").read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".persona-site")] == []


def mounted(monkeypatch) -> None:
    """site/ cannot be moved, as a mount point (a Docker volume) cannot."""
    real = os.replace

    def busy(src, dst):
        if str(src).endswith("/site"):
            raise OSError(errno.EBUSY, "Device or resource busy")
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", busy)


def test_an_out_folder_that_cannot_be_moved_is_a_clean_error(built, monkeypatch):
    mounted(monkeypatch)
    monkeypatch.setattr(output, "IN_PLACE_MAX", 0)  # every page changes: a new folder swapped in (few: in place)
    built.write("persona-site.toml", 'title = "Changed"\n')
    result = built.run("build")
    assert result.exit_code == 2
    assert "cannot replace" in result.stderr and "mount point" in result.stderr
    assert "Traceback" not in result.output


def test_a_site_moved_aside_by_a_killed_build_comes_back(built):
    site = built.root / "site"
    (site / "CNAME").write_text("x.example\n")
    os.replace(site, built.root / ".persona-site-old-site.abc123")
    built.write("persona-site.toml", 'title = "Changed"\n')
    assert built.run("build").exit_code == 0
    assert (site / "CNAME").read_text() == "x.example\n"


def test_leftovers_of_another_output_folder_are_left_alone(built):
    other = built.root / ".persona-site-tmp-site-preview.abc123"
    other.mkdir()
    built.write("persona-site.toml", 'title = "Changed"\n')
    assert built.run("build").exit_code == 0
    assert other.is_dir()


def test_a_build_leaves_no_spool_whether_it_succeeds_or_fails(built):
    """The build command writes pages to a spool beside the site as it makes them: the spool becomes the new site,
    or goes when the build fails; the previous site stays as it was."""
    def leftovers() -> list[str]:
        return [p.name for p in built.root.iterdir() if p.name.startswith(".persona-site-")]

    built.write("persona-site.toml", 'title = "Changed"\n')
    assert built.run("build").exit_code == 0
    assert leftovers() == [] and "Changed" in (built.root / "site/index.html").read_text()
    before = site_files(built.root / "site")
    built.write("persona-site.toml", 'title = "Broken"\ntimezone = 7\n')
    built.transcript("2026/broken.md", "**Dana Whitfield:** [no end{.pain}\n", date="2026-13-45")
    result = built.run("build", "--strict")
    assert result.exit_code == 1 and "the previous site is unchanged" in result.stderr
    assert leftovers() == [] and site_files(built.root / "site") == before


def test_a_killed_builds_spool_is_removed_and_a_running_ones_kept(built):
    """A spool no build holds (its builder was killed: the system dropped its lock) is removed by the next build;
    one a running build holds is not, nor is the spool of another output folder (site.v2), held or not."""
    import fcntl

    dead = built.root / ".persona-site-spool-site.abc12345"
    running = built.root / ".persona-site-spool-site.def67890"
    other = built.root / ".persona-site-spool-site.v2.ghi12345"
    for folder in (dead, running, other):
        (folder / "personas").mkdir(parents=True)
        (folder / "personas/index.html").write_text("half a build")
    held = os.open(running, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # as a running build holds its spool
    try:
        built.write("persona-site.toml", 'title = "Changed"\n')
        assert built.run("build").exit_code == 0
    finally:
        os.close(held)
    assert not dead.exists() and running.is_dir() and other.is_dir()
    assert sorted(p.name for p in built.root.iterdir() if p.name.startswith(".persona-site-")) == sorted(
        [running.name, other.name])


@pytest.mark.parametrize("previous", [False, True], ids=["a new site", "a site updated in place"])
def test_spooled_outputs_go_into_the_site_and_an_unspooled_page_never_does(tmp_path, previous):
    """Outputs written to the spool as they were made end up in the site with the held ones, whether the spool
    becomes the new site or its changed files move into the old one; a page unspooled (a worker's that is no
    output after all) stays out; nothing is left beside the site."""
    source, out = tmp_path / "repo", tmp_path / "site"
    source.mkdir()
    if previous:
        write_site({"index.html": b"old", "a/page.html": b"old page", "kept.html": b"same"}, out, source)
    with output.spooled(out) as spool:
        outputs = {"index.html": spool.keep("index.html", b"new"), "kept.html": spool.keep("kept.html", b"same"),
                   "a/page.html": spool.keep("a/page.html", b"a page"), "feed.xml": b"feed"}
        assert all(type(outputs[rel]) is output.Spooled for rel in ("index.html", "kept.html", "a/page.html"))
        spool.unspool(spool.keep("b/page.html", b"a page nobody asked for"))
        write_site(outputs, out, source, spool=spool)
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()
            and p.name != output.MARKER} == {"index.html": b"new", "kept.html": b"same", "a/page.html": b"a page",
                                              "feed.xml": b"feed"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "site"] and not (out / "b").exists()


def test_a_spooled_output_is_the_same_as_the_sites_file_only_byte_for_byte(tmp_path):
    """A spooled page equal to the site's file is kept as it is; one cut short in the spool (whatever its marker
    says) or of other bytes is not."""
    old = tmp_path / "old.html"
    old.write_bytes(b"<p>same</p>" * 100_000)
    with output.spooled(tmp_path / "site") as spool:
        same = spool.keep("a.html", old.read_bytes())
        other = spool.keep("b.html", old.read_bytes().replace(b"same", b"diff", 1))
        short = spool.keep("c.html", old.read_bytes())
        os.truncate(short.path, output._COMPARE_SIZE)  # what it holds is the start of the site's file
        assert output._same_bytes(str(old), same)
        assert not output._same_bytes(str(old), other) and not output._same_bytes(str(old), short)


def test_user_folders_survive_whole_even_empty_ones(built):
    site = built.root / "site"
    subprocess.run(["git", "init", "-q"], cwd=site, check=True)
    built.write("persona-site.toml", 'title = "Changed"\n')
    assert built.run("build").exit_code == 0
    assert (site / ".git/objects").is_dir() and (site / ".git/refs").is_dir()
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=site, capture_output=True, text=True).stdout
    assert top.strip() == str(site)


def test_two_builds_at_once_keep_user_files(built):
    site = built.root / "site"
    (site / "CNAME").write_text("x.example\n")
    errors = []

    def one(n: int) -> None:
        try:
            result = build_with(built.root, base_url=f"/b{n}/", cache_dir=None)
            write_site(result.outputs, site, built.root)
        except Exception as exc:  # noqa: BLE001 -- collected and asserted below
            errors.append(exc)

    for _ in range(3):
        threads = [threading.Thread(target=one, args=(n,)) for n in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert (site / "CNAME").read_text() == "x.example\n"
    assert (site / "index.html").is_file()


def test_unchanged_files_are_kept_and_a_change_of_the_same_size_is_written(tmp_path):
    source, out = tmp_path / "repo", tmp_path / "repo/site"
    (source / "content").mkdir(parents=True)
    big = b"x" * (3 * output._COMPARE_SIZE + 5)  # compared in several reads
    first = {"index.html": b"<p>one</p>", "quotes.json": big, "a/page.html": b"same"}
    assert write_site(first, out, source) == 3
    kept = (out / "a/page.html").stat().st_ino
    changed_late = big[:-1] + b"y"  # same size, last byte differs
    assert write_site({**first, "index.html": b"<p>two</p>", "quotes.json": changed_late}, out, source) == 2
    assert (out / "index.html").read_bytes() == b"<p>two</p>"
    assert (out / "quotes.json").read_bytes() == changed_late
    assert (out / "a/page.html").stat().st_ino == kept  # linked from the previous site, not written
    marker = (out / output.MARKER).stat().st_mtime_ns
    assert write_site({**first, "index.html": b"<p>two</p>", "quotes.json": changed_late}, out, source) == 0
    assert (out / output.MARKER).stat().st_mtime_ns == marker  # nothing changed: nothing touched


def test_an_output_swapped_for_a_link_to_a_file_outside_is_written_not_linked(tmp_path):
    source, out = tmp_path / "repo", tmp_path / "repo/site"
    (source / "content").mkdir(parents=True)
    write_site({"index.html": b"page", "other.html": b"x"}, out, source)
    outside = tmp_path / "secret.html"
    outside.write_bytes(b"page")  # the very bytes the next build writes
    (out / "index.html").unlink()
    (out / "index.html").symlink_to(outside)
    write_site({"index.html": b"page", "other.html": b"y"}, out, source)
    page = out / "index.html"
    assert not page.is_symlink() and page.stat().st_ino != outside.stat().st_ino
    assert page.read_bytes() == b"page"


def test_a_build_that_changes_few_files_updates_the_site_where_it_is(built, monkeypatch):
    """A mounted output folder (a Docker volume) cannot be swapped; a build that changes few files does not need
    to: the folder stays the same folder, its unchanged files untouched."""
    site = built.root / "site"
    folder, style = site.stat().st_ino, (site / "assets/style.css").stat().st_ino
    mounted(monkeypatch)
    built.transcript("2026/b.md", GOOD.replace("A fine quote.", "New."))
    assert built.run("build").exit_code == 0
    assert site.stat().st_ino == folder and (site / "assets/style.css").stat().st_ino == style
    assert "New." in (site / "index.html").read_text()
    assert [p.name for p in built.root.iterdir() if p.name.startswith(".persona-site-")] == []
