"""`persona-site init DIR`: a new content repository, ready to push."""

from __future__ import annotations

import datetime as dt
import json
import shlex
import subprocess
import sys
from pathlib import Path

import click

from . import __version__, gitmeta

PUBLISH_WORKFLOW = Path(__file__).parent / "scaffold" / "publish.yml"
if not PUBLISH_WORKFLOW.is_file():  # a source checkout: the repository's own workflow is the one source
    PUBLISH_WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "publish.yml"

CONFIG = '''\
# persona-site settings. Every key is optional; the values shown are the defaults.

# The site's title.
# title = "Buyer personas"

# Where the site is served: a path ("/personas/") or a full URL. The publish
# workflow passes GitHub Pages' address with --base-url, so leave this for local builds.
# base_url = "/"

# How many quotes a persona page (and its feed) shows.
# quotes_per_role = 20

# A persona with no quote newer than this many days is flagged stale.
# stale_after_days = 90

# What a published quote names: "role", "role-company", or "name".
# Speaker names are published only with "name".
# attribution = "role-company"

# Also publish every transcript as a page, with quotes linking to their place in it.
# publish_transcripts = false

# The zone for dates without one, and for "N days ago".
# timezone = "UTC"

# A folder under themes/ whose files replace the built-in theme's, file by file.
# theme = "default"

# The tags a quote may carry: slug = "Label". Setting this table replaces the defaults.
# [tags]
# pain = "Pain"
# objection = "Objection"
# criteria = "Decision criteria"
'''

PERSONA = '''\
---
title: Head of Revenue Operations
summary: Owns the forecast and the plumbing under it.
# Other role names that mean this persona in a transcript's participants:
aliases: [revops-lead, director-revops]
# Job-title words that `persona-site import` maps to this role:
match_titles: [RevOps, Revenue Operations, Sales Operations]
# Anything else is shown in the persona's Facts:
reports_to: CRO
priorities: [forecast accuracy, clean pipeline data]
metrics: [forecast variance, pipeline coverage]
tools: [Salesforce, Clari, Google Sheets]
---
The sketch of this buyer, in Markdown: who they are, what a week looks like,
what keeps them up at night, how they buy.

## What they need to hear

- Exactly which CRM fields we read and write.
- A rollout measured in weeks, not quarters.
'''

TRANSCRIPT = '''\
---
title: Example Co discovery call
date: {date}
company: Example Co
participants:
  Dana Whitfield: head-of-revops
  Lee Park: {{role: revops-lead, title: "Senior Manager, Revenue Operations"}}
  Sam Ortiz: internal
  Jordan Blake: unknown
recording: https://example.com/recordings/example-co-discovery
---

_A sample transcript. Replace it with a real call; keep the shape._

**Sam Ortiz:** [00:01:05] What does quarter-end look like today?

**Dana Whitfield:** [00:01:20] Honestly it's a scramble.
[We spend the last four days of every quarter reconciling pipeline in spreadsheets.]{{.pain}}
Nobody trusts the CRM numbers.

A paragraph without a name continues Dana's turn.
[If the rollout takes more than a quarter, we are out.]{{#q-example-rollout .objection .criteria}}

Lee Park: [02:10] [We need *field-level* mapping to our `Opportunity` object before anything else.]{{.criteria}}

**Jordan Blake:** Jordan has no role yet, so nothing Jordan says is tagged.
'''

GITIGNORE = '''\
# persona-site output, caches, and the temporary folders of a build in progress
/site/
.persona-cache/
.persona-site-tmp-*
.persona-site-old-*
.persona-site-spool-*
'''

REQUIREMENTS = '''\
# Where the publish workflow installs persona-site from.
{comment}
{line}
'''
PLACEHOLDER = f"persona-site @ git+https://github.com/YOUR-ORG/persona-site@v{__version__}"


def requirement(direct: dict | None) -> tuple[str, str]:
    """The requirements.txt line that installs this very persona-site in CI, and a comment on it, from how it was
    installed (pip's direct_url.json, PEP 610): a git URL or an archive's address is written as it is, pinned to the
    commit; anything CI cannot reach (this computer's folder, a wheel file, a package index whose address pip does
    not record) gives PLACEHOLDER, to be replaced. Never a bare name: persona-site is not on PyPI, and a bare name
    would install whatever someone publishes there under it."""
    url = str((direct or {}).get("url", ""))
    vcs = (direct or {}).get("vcs_info")
    if url and not url.startswith("file:"):
        if isinstance(vcs, dict) and vcs.get("vcs"):
            ref = vcs.get("commit_id") or vcs.get("requested_revision")
            return (f"persona-site @ {vcs['vcs']}+{url}" + (f"@{ref}" if ref else ""),
                    "# The copy `persona-site init` ran from, at its commit.")
        if "archive_info" in (direct or {}):
            return f"persona-site @ {url}", "# The copy `persona-site init` ran from."
    return PLACEHOLDER, ("# EDIT THIS LINE before you push: where your team installs persona-site from, such as\n"
                         "# its git repository (as below) or a package index your CI is set up for.")


def _installed_from() -> dict | None:
    """This persona-site's direct_url.json (PEP 610), or None."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        text = distribution("persona-site").read_text("direct_url.json")
        found = json.loads(text) if text else None
    except (PackageNotFoundError, ValueError, OSError):
        return None
    return found if isinstance(found, dict) else None

TEAM_README = '''\
# Our buyer personas

This repository is our buyer archive: call transcripts with the quotes that
matter tagged, and one persona per buyer role. Every push to `main` rebuilds
the persona site with persona-site (`requirements.txt` says where it is
installed from).

## Add a call

1. Put the transcript in `content/transcripts/<year>/`, named
   `YYYY-MM-DD-company-call.md` (`persona-site import export.vtt` makes one
   from a Zoom, Teams, Meet, Otter or Gong export).
2. List everyone under `participants` with their role (`internal` for us).
3. Tag what matters: `[the words they said]{.pain}`, `{.objection}`, `{.criteria}`.
4. Check it: `persona-site check`. Preview it: `persona-site serve`.
5. Commit and push. The site updates in about a minute.

## Ask the archive

```sh
persona-site quotes --role head-of-revops --since 30d
```
'''


def _files(today: dt.date, install: tuple[str, str]) -> dict[str, str]:
    line, comment = install
    return {
        "persona-site.toml": CONFIG,
        "content/personas/head-of-revops.md": PERSONA,
        f"content/transcripts/{today.year}/{today.isoformat()}-example-co-discovery.md": TRANSCRIPT.format(date=today.isoformat()),
        ".gitignore": GITIGNORE,
        ".github/workflows/publish.yml": PUBLISH_WORKFLOW.read_text("utf-8"),
        "requirements.txt": REQUIREMENTS.format(line=line, comment=comment),
        "README.md": TEAM_README,
    }


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force/--no-force", default=False, help="Overwrite files that already exist.")
@click.option("--source", "-s", "source", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The folder DIRECTORY is relative to.")
def init(directory: Path, force: bool, source: Path) -> None:
    """Start a new persona repository in DIRECTORY.

    It holds a sample persona and transcript, the settings file with every key
    explained, and the GitHub Actions workflow that publishes the site.

    Example:

    \b
        persona-site init team-personas && cd team-personas && persona-site serve
    """
    target = directory if directory.is_absolute() else source / directory
    install = requirement(_installed_from())
    files = _files(dt.date.today(), install)
    existing = [rel for rel in files if (target / rel).exists()]
    if existing and not force:
        for rel in existing:
            click.echo(f"{target / rel}: error: already exists", err=True)
        click.echo("Nothing was written; pass --force to overwrite these files.", err=True)
        sys.exit(1)
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")
    if not gitmeta.is_repository(target):
        subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=False)
        click.echo(f"started a git repository in {target}")
    if install[0] == PLACEHOLDER:
        click.echo(f"{target / 'requirements.txt'}: warning: edit it before you push: say where your team installs "
                   "persona-site from (this copy came from a folder on this computer or a package index, which the "
                   "publish workflow cannot know)", err=True)
    click.echo(f"\nNext: cd {shlex.quote(str(target))} && persona-site serve   (then commit and push to publish)")
