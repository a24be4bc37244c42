"""SECURITY.md, items 26 on: the trust boundaries of issue 21, each tried and shut."""

from __future__ import annotations

import pytest

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
