"""Make a synthetic content repository for benchmarks (issue 5).

    python benchmarks/make_corpus.py N DIR [--seed S] [--publish] [--force]

DIR gets, for the same seed, byte for byte the same files and the same commit:

    DIR/persona-site.toml              publish_transcripts as --publish says
    DIR/content/personas/*.md          5 personas, each with aliases
    DIR/content/transcripts/YYYY/*.md  N transcripts over 2024-2026: about 40
                                       speaker turns and 3 tagged quotes each,
                                       from about 0.15 N companies (1,500 for
                                       10,000 transcripts; issue 18)
    DIR/hugo/                          the same transcripts as a Hugo site
    DIR/corpus.json                    how the corpus was made (N, seed, a file to edit)

DIR is a git repository with one commit (fixed author, committer and dates)
holding persona-site.toml and content/; hugo/, site/ and .persona-cache/ are
git-ignored. Only the standard library and git are needed.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

MANIFEST = "corpus.json"
VERSION = 3
"""Bumped whenever the same N and seed would give other files: bench.py then makes the corpus again."""
MARKUP_RATE = 0.04
"""Sentences with inline Markdown (emphasis, code, a link): about 1 paragraph in 25 (the sample content/: 1 in 50)."""
FIRST_DAY = date(2024, 1, 1)
DAYS = (date(2026, 12, 31) - FIRST_DAY).days + 1
TURNS = 40
GIT_DATE = "2026-12-31T12:00:00+00:00"

PERSONAS = {
    "head-of-revops": ("Head of Revenue Operations", ["revops-lead", "director-revops"],
                       ["Revenue Operations", "Sales Operations", "RevOps"]),
    "cfo": ("Chief Financial Officer", ["vp-finance", "finance-lead"], ["CFO", "VP Finance", "FP&A"]),
    "vp-sales": ("VP of Sales", ["sales-vp", "head-of-sales"], ["VP Sales", "Head of Sales", "Sales Director"]),
    "security-reviewer": ("Security Reviewer", ["infosec", "security-lead"],
                          ["Security Engineer", "CISO", "Third-Party Risk"]),
    "enablement-lead": ("Head of Sales Enablement", ["enablement", "sales-enablement"],
                        ["Enablement", "Sales Training"]),
}
TITLES = {
    "head-of-revops": ["Director, Revenue Operations", "Sales Operations Manager", "RevOps Lead"],
    "cfo": ["VP Finance", "Finance Director", "Head of FP&A"],
    "vp-sales": ["VP Sales, EMEA", "Regional Vice President", "Head of Sales"],
    "security-reviewer": ["Senior Security Engineer", "IT Security Analyst", "CISO"],
    "enablement-lead": ["Senior Manager, Revenue Enablement", "Sales Trainer"],
}
FIRST = ["Dana", "Priya", "Sam", "Kofi", "Laura", "Lena", "Marcus", "Hana", "Owen", "Renata", "Greg", "Tasha",
         "Tom", "Ben", "Miriam", "Dev", "Nate", "Wes", "Callum", "Ines", "Yuki", "Omar", "Freya", "Luis", "Mei",
         "Ada", "Jonas", "Zara", "Felix", "Noor"]
LAST = ["Whitfield", "Raman", "Ortiz", "Mensah", "Chen", "Okafor", "Bell", "Kim", "Brandt", "Solis", "Tanaka",
        "Monroe", "Reyes", "Adler", "Holt", "Patel", "Sullivan", "Dunaway", "Reid", "Varga", "Sato", "Haddad",
        "Lindqvist", "Moreno", "Lin", "Novak", "Berg", "Qureshi", "Falk", "Amari"]
COMPANY_A = ["Harborline", "Quillfield", "Verawell", "Kestrel", "Ironbridge", "Lumenpath", "Corvane", "Stillwater",
             "Fernhollow", "Granitepeak", "Saltmarsh", "Redfern", "Amberlight", "Copperline", "Nimbleroot",
             "Westmark", "Halcyon", "Brightwater", "Sablecrest", "Ravenmoor", "Palisade", "Lakemont", "Bellecôte",
             "Åkerlund"]
COMPANY_B = ["Freight", "Payments", "Health", "Forge", "Logistics", "Learning", "Insurance", "Biotech", "Foods",
             "Industrial", "Security", "Telematics", "Energy", "Networks", "HR", "Medical", "Claims", "Marine"]
COMPANY_C = ["", "Group", "Partners", "Holdings", "Systems", "& Co", "Labs", "International", "Collective", "Works"]
COMPANIES_PER_TRANSCRIPT = 0.15
"""How many companies a corpus spreads its transcripts over (issue 18: about 1,500 for 10,000)."""
CALLS = ["discovery", "demo", "pricing", "security-review", "onboarding-kickoff", "win-interview", "qbr"]

# Sentence parts; none holds ': ' (a label), '[' or ']' (a span), or a line-leading Markdown marker.
SUBJECTS = ["the forecast", "our pipeline data", "the quarter-end roll-up", "the CRM", "every manager's commit",
            "the board deck", "the renewal list", "our security questionnaire", "the rollout plan",
            "the onboarding programme", "the pricing page", "the admin team", "the approval chain",
            "the data warehouse sync", "our territory model"]
VERBS = ["takes four days to reconcile", "breaks whenever a rep bulk-edits close dates",
         "lives in six spreadsheets", "never matches what finance sees", "needs a named owner",
         "slips a week every quarter", "has no audit trail", "costs us a headcount", "is rebuilt by hand",
         "is the first thing the CRO asks about", "gets a haircut of ten percent", "is stuck in procurement",
         "has to pass legal review", "depends on one admin", "was migrated badly two years ago"]
TAILS = ["and nobody trusts it.", "so we pad every number.", "which is why I'm on this call.",
         "and that is before the audit.", "every single month.", "and it shows in the win rate.",
         "so the team ignores it.", "and I would like that to stop.", "which finance hates.", "in every region."]
ASKS = ["What does that look like today?", "Who owns that process now?", "How often does that happen?",
        "What would you change first?", "Can you walk me through the last quarter?",
        "Which tools are in the stack today?", "What happens when a deal slips?", "Who else signs off?",
        "How did the last rollout go?", "What would good look like in six months?"]
FILLERS = ["Sure.", "That makes sense.", "Right, go on.", "Honestly, yes.", "Fair question.", "Let me think.",
           "We tried that once.", "That is the short version.", "Exactly.", "I can send the numbers later."]
EMPHASIS = ["*every* quarter", "**before** the board meeting", "`forecast_category`", "_all_ of it",
            "the [status page](https://status.example.com)"]
TAGS = ["pain", "objection", "criteria"]


@dataclass(frozen=True)
class Corpus:
    """What make_corpus wrote: enough for bench.py to find and edit it."""

    root: Path
    count: int
    seed: int
    probe: str
    """A transcript (relative to content/) that has a tagged quote, for the one-file-change rebuild."""
    version: int = VERSION
    """The make_corpus VERSION that wrote it."""


def _sentence(rng: random.Random) -> str:
    text = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)}"
    if rng.random() < MARKUP_RATE:
        text += f", {rng.choice(EMPHASIS)},"
    return f"{text[0].upper()}{text[1:]} {rng.choice(TAILS)}"


def _quote(rng: random.Random, number: int, qid: str) -> str:
    tags = rng.sample(TAGS, 2) if rng.random() < 0.1 else [rng.choice(TAGS)]
    classes = " ".join(f".{t}" for t in tags)
    if rng.random() < 0.02:
        classes = f"#{qid} {classes}"  # an explicit id, unique in the site
    words = _sentence(rng)[:-1]  # the quote ends before the sentence's full stop
    return f"[{words} (point {number})]{{{classes}}}."


def _participants(rng: random.Random) -> list[tuple[str, str, str | None]]:
    """Two or three buyers and one `internal` speaker: (name, role as written, job title or None)."""
    names = [f"{first} {last}" for first, last in zip(rng.sample(FIRST, 4), rng.sample(LAST, 4))]
    people = []
    for name in names[: rng.choice((2, 2, 3))]:
        slug = rng.choice(list(PERSONAS))
        role = rng.choice([slug, slug, *PERSONAS[slug][1]])  # sometimes an alias
        title = rng.choice(TITLES[slug]) if rng.random() < 0.5 else None
        people.append((name, role, title))
    people.append((names[3], "internal", None))
    return people


def _timestamp(seconds: int) -> str:
    return f"[{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}] "


def _body(rng: random.Random, people: list[tuple[str, str, str | None]], doc_id: str) -> str:
    host = people[-1][0]
    buyers = [p[0] for p in people[:-1]]
    buyer_turns = range(1, TURNS, 2)  # the host asks, a buyer answers
    quoted = set(rng.sample(buyer_turns, rng.choice((2, 3, 3, 4))))
    paragraphs, seconds, quotes = [], 5, 0
    for turn in range(TURNS):
        seconds += rng.randint(4, 50)
        name = host if turn % 2 == 0 else rng.choice(buyers)
        label = f"**{name}:** " if rng.random() < 0.85 else f"{name}: "
        stamp = _timestamp(seconds) if rng.random() < 0.9 else ""
        if turn % 2 == 0:
            paragraphs.append(f"{label}{stamp}{rng.choice(FILLERS)} {rng.choice(ASKS)}")
            continue
        sentences = [_sentence(rng) for _ in range(rng.randint(1, 3))]
        continuation = [_sentence(rng) for _ in range(rng.randint(1, 2))] if rng.random() < 0.2 else []
        if turn in quoted:
            quotes += 1
            where = continuation if continuation and rng.random() < 0.3 else sentences
            where.insert(rng.randrange(len(where) + 1), _quote(rng, quotes, f"q-{doc_id}-{quotes}"))
        paragraphs.append(f"{label}{stamp}{' '.join(sentences)}")
        if continuation:
            paragraphs.append(" ".join(continuation))
    return "\n\n".join(paragraphs) + "\n"


def _companies(count: int, seed: int) -> list[str]:
    """The corpus's company names: about COMPANIES_PER_TRANSCRIPT of `count`, from their own generator (the same
    seed gives the same names), numbered once the parts run out."""
    names = [" ".join(filter(None, parts)) for parts in itertools.product(COMPANY_A, COMPANY_B, COMPANY_C)]
    random.Random(f"companies-{seed}").shuffle(names)
    wanted = max(1, round(count * COMPANIES_PER_TRANSCRIPT))
    return [names[i % len(names)] + (f" {i // len(names) + 1}" if i >= len(names) else "") for i in range(wanted)]


def _transcript(rng: random.Random, index: int, companies: list[str]) -> tuple[str, str]:
    """(path under content/, file text) of transcript number `index`."""
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    company = rng.choice(companies)
    call = rng.choice(CALLS)
    name = re.sub(r"[^a-z0-9]+", "-", unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode().lower())
    slug = f"{day.isoformat()}-{name.strip('-')}-{call}-{index:05d}"
    people = _participants(rng)
    lines = ["---", f"title: {company} {call.replace('-', ' ')} call", f"date: {day.isoformat()}",
             f"company: {company}", f"call_type: {call}", "participants:"]
    for name, role, title in people:
        lines.append(f'  {name}: {{role: {role}, title: "{title}"}}' if title else f"  {name}: {role}")
    lines += [f"recording: https://recordings.example.com/calls/{day.year}/{slug}", "---", ""]
    return f"transcripts/{day.year}/{slug}.md", "\n".join(lines) + "\n" + _body(rng, people, f"{index:05d}")


def _persona(slug: str) -> str:
    title, aliases, match_titles = PERSONAS[slug]
    return (f"---\ntitle: {title}\nsummary: A synthetic {title.lower()} for benchmarks.\n"
            f"aliases: [{', '.join(aliases)}]\nmatch_titles: [{', '.join(match_titles)}]\n"
            "priorities: [a forecast the board believes, fewer spreadsheets]\n"
            "tools: [Salesforce, Google Sheets]\n---\n\n"
            f"The {title} in this corpus is made up by benchmarks/make_corpus.py.\n\n"
            "## What they need to hear\n\n- A rollout in weeks.\n- Proof on their own data.\n")


HUGO_CONFIG = """\
baseURL = "https://example.com/"
title = "persona-site benchmark corpus"
disableKinds = ["taxonomy", "term", "RSS", "sitemap", "robotsTXT", "404"]
buildFuture = true
"""
# Minimal layouts: every transcript page, its section list and a home page.
HUGO_LAYOUTS = {
    "_default/baseof.html": "<!doctype html><html><head><title>{{ .Title }}</title></head>"
                            "<body>{{ block \"main\" . }}{{ end }}</body></html>\n",
    "_default/single.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1><p>{{ .Date.Format \"2006-01-02\" }} "
                            "{{ .Params.company }}</p>{{ .Content }}{{ end }}\n",
    "_default/list.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1><ul>{{ range .Pages }}"
                          "<li><a href=\"{{ .RelPermalink }}\">{{ .Title }}</a></li>{{ end }}</ul>{{ end }}\n",
    "index.html": "{{ define \"main\" }}<h1>{{ .Site.Title }}</h1><p>{{ len .Site.RegularPages }} transcripts"
                  "</p>{{ end }}\n",
}
GITIGNORE = "site/\n.persona-cache/\nhugo/\n"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")


def _git(root: Path, *args: str, input: bytes | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Corpus", "GIT_AUTHOR_EMAIL": "corpus@example.com",
           "GIT_COMMITTER_NAME": "Corpus", "GIT_COMMITTER_EMAIL": "corpus@example.com",
           "GIT_AUTHOR_DATE": GIT_DATE, "GIT_COMMITTER_DATE": GIT_DATE}
    return subprocess.run(["git", "-C", str(root), "-c", "commit.gpgsign=false", "-c", "core.autocrlf=false", *args],
                          env=env, check=True, input=input, stdout=subprocess.PIPE).stdout.decode()


class _Commit:
    """One commit of files handed over as they are made, at git's speed for 100,000 files: their blobs go into one
    pack by `git fast-import`, without deltas (`git add` would write a loose object for each; adding a file to
    fast-import's own trees takes time linear in its folder, of 33,000 here; deltas would cost the checkout 40 s
    of CPU), the index is made from the sorted blob ids in one step, and `git reset --hard` writes the files out
    on every core. The commit is the one `git add` and `git commit` made, byte for byte."""

    def __init__(self, root: Path, message: str) -> None:
        self.root, self.message = root, message
        self.process = subprocess.Popen(["git", "-C", str(root), "-c", "pack.compression=1", "fast-import", "--quiet",
                                         "--depth=0"], stdin=subprocess.PIPE)
        self.entries: list[str] = []

    def add(self, rel: str, data: bytes) -> None:
        """Commit a file (its path relative to root)."""
        blob = hashlib.sha1(b"blob %d\0" % len(data))
        blob.update(data)
        self.entries.append(f"100644 {blob.hexdigest()}\t{rel}\n")
        for part in (b"blob\ndata %d\n" % len(data), data, b"\n"):
            self.process.stdin.write(part)

    def finish(self) -> None:
        self.process.stdin.close()
        if self.process.wait() != 0:
            raise SystemExit(f"git fast-import failed in {self.root}")
        index = "".join(sorted(self.entries, key=lambda entry: entry.partition("\t")[2])).encode()
        _git(self.root, "update-index", "--index-info", input=index)  # in order: each entry goes in at the end
        tree = _git(self.root, "write-tree").strip()
        commit = _git(self.root, "commit-tree", tree, "-m", self.message).strip()
        _git(self.root, "update-ref", "HEAD", commit)
        _git(self.root, "-c", "checkout.workers=0", "reset", "-q", "--hard")

    def abandon(self) -> None:
        self.process.kill()
        self.process.wait()


def set_publish(root: Path, publish: bool) -> None:
    """Write persona-site.toml with publish_transcripts on or off (bench.py flips it between scenarios)."""
    _write(root / "persona-site.toml", _settings(publish))


def _settings(publish: bool) -> str:
    return f'title = "Benchmark personas"\npublish_transcripts = {"true" if publish else "false"}\n'


def make_corpus(count: int, root: Path, *, seed: int = 1, publish: bool = False) -> Corpus:
    """Write the corpus into root (which must be empty or missing) and commit it: the committed files go to git
    as they are made, and git writes them out; the Hugo copy is written here, its folders made once."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    _git(root, "init", "-q", "-b", "main")
    commit = _Commit(root, f"Synthetic corpus: {count} transcripts, seed {seed}")
    try:
        commit.add("persona-site.toml", _settings(publish).encode())
        commit.add(".gitignore", GITIGNORE.encode())
        for slug in PERSONAS:
            commit.add(f"content/personas/{slug}.md", _persona(slug).encode())
        probe = None
        companies = _companies(count, seed)
        hugo, folders = root / "hugo" / "content", set()
        for index in range(count):
            rel, text = _transcript(rng, index, companies)
            data = text.encode()
            commit.add(f"content/{rel}", data)
            folder = rel.rpartition("/")[0]
            if folder not in folders:
                (hugo / folder).mkdir(parents=True, exist_ok=True)
                folders.add(folder)
            with open(hugo / rel, "wb") as out:
                out.write(data)
            probe = probe or rel
        corpus = Corpus(root, count, seed, probe or "")
        manifest = {"count": count, "seed": seed, "probe": corpus.probe, "version": VERSION}
        commit.add(MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    except BaseException:
        commit.abandon()
        raise
    commit.finish()
    _write(root / "hugo" / "hugo.toml", HUGO_CONFIG)
    for rel, text in HUGO_LAYOUTS.items():
        _write(root / "hugo" / "layouts" / rel, text)
    return corpus


def load_corpus(root: Path) -> Corpus | None:
    """The corpus in root as its manifest describes it, or None when root holds none."""
    try:
        data = json.loads((root / MANIFEST).read_text("utf-8"))
        return Corpus(root, int(data["count"]), int(data["seed"]), str(data["probe"]), int(data.get("version", 1)))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remove_corpus(root: Path) -> None:
    """Delete a folder only if make_corpus made it (it has a manifest)."""
    if load_corpus(root) is None:
        raise SystemExit(f"refusing to delete {root}: it has no {MANIFEST}, so make_corpus did not make it")
    shutil.rmtree(root)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python benchmarks/make_corpus.py 10000 /tmp/corpus-10k")
    parser.add_argument("count", type=int, metavar="N", help="number of transcripts")
    parser.add_argument("dir", type=Path, metavar="DIR", help="where to write the corpus (empty or missing)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--publish", action=argparse.BooleanOptionalAction, default=False,
                        help="set publish_transcripts in persona-site.toml (default: off)")
    parser.add_argument("--force", action="store_true", help="replace DIR if it holds a corpus made before")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("N must be 1 or more")
    if args.dir.exists() and any(args.dir.iterdir()):
        if not args.force:
            parser.error(f"{args.dir} is not empty (use --force to replace a corpus made before)")
        remove_corpus(args.dir)
    started = time.perf_counter()
    corpus = make_corpus(args.count, args.dir, seed=args.seed, publish=args.publish)
    print(f"{corpus.count} transcripts in {corpus.root} in {time.perf_counter() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
