"""The least a one-file rebuild in a new process must do, timed beside the real one (issue 5).

    python benchmarks/floor.py DIR [--rounds 9]

DIR is a corpus from make_corpus.py (publish_transcripts off). After bench.py's
one-file change (one quote's words), the spec leaves no output as it was: every
page's footer shows the build time and every `*.json` file its `generated` time
and the changed quote. So whatever a build keeps between runs, a `build` command
started for that change must at least

- start Python and import click (the command line) and Jinja (the pages),
- load the theme's compiled templates and render every page (26 here) from the
  quotes it shows: a few hundred, given ready-made, with every count,
- make the six `*.json` files (34 MB at 10,000 transcripts) from the last
  build's, the one changed line replaced where it is known to be (no search;
  the rest copied by the kernel, `os.copy_file_range`), and write the pages.

floor.py records what the pages were made from in one real build (the quotes on
each page, the counts; untimed), then times a new process that does only the
three steps above (`floor`), alternated with the real `persona-site build` after
the same kind of edit (`build`), and prints both. Everything the real build also
does is left out of `floor`: asking git, finding the changed file, reading and
parsing it, loading any cache, placing its quotes among the others, saving the
cache, the atomic swap of the output folder. So no design of the build command
can be faster than `floor` on the same machine: it is the bound the 0.3 s goal
is to be read against.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench import ProbeEdit  # noqa: E402
from make_corpus import load_corpus  # noqa: E402

# The timed process: only what no build can skip (see the docstring).
_FLOOR = r"""
import os, pickle, sys
from pathlib import Path
import click, jinja2  # the command line and the pages
from persona_site.incremental.bytecode import SealedBytecodeCache
from persona_site.render import Renderer

state_path, out = sys.argv[1], Path(sys.argv[2])
with open(state_path, "rb") as handle:
    state = pickle.load(handle)


class Answers:
    # The archive's answers as the real build gave them: the quotes each page shows, and every count.
    def __init__(self, answers):
        self.answers = answers
    def latest(self, role=None, tag=None, since=None, limit=None):
        return self.answers["latest", role, tag, since, limit]
    def count(self, role=None, tag=None, since=None):
        return self.answers["count", role, tag, since]
    def refs(self, role=None, tag=None, since=None, limit=None):
        return []  # the *.json files: spliced below
    def __len__(self):
        return self.answers["len"]


outputs = Renderer(state["theme"], SealedBytecodeCache(Path(state["compiled"]))).render(state["site"], Answers(state["answers"]), state["ctx"])
old_line, new_line = state["lines"]
for path, at in state["documents"].items():  # the last build's file, the changed quote's line replaced
    outputs.pop(path)
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(Path(state["site_folder"]) / path, "rb") as old, open(target, "wb") as new:
        size = os.fstat(old.fileno()).st_size
        for start, end in ((0, at), (at + len(old_line), size)) if at >= 0 else ((0, size),):
            new.flush()
            while start < end:  # in the kernel: no copy through this process
                start += os.copy_file_range(old.fileno(), new.fileno(), end - start, start)
            if end == at:
                new.write(new_line)
for path, data in outputs.items():
    target = out / path
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as handle:
        handle.write(data)
"""


class Recorder:
    """The real archive, noting every answer rendering asked of it."""

    def __init__(self, archive) -> None:
        self.archive = archive
        self.answers: dict = {"len": len(archive)}

    def latest(self, role=None, tag=None, since=None, limit=None):
        found = self.answers["latest", role, tag, since, limit] = self.archive.latest(role, tag, since, limit)
        return found

    def count(self, role=None, tag=None, since=None):
        found = self.answers["count", role, tag, since] = self.archive.count(role, tag, since)
        return found

    def refs(self, role=None, tag=None, since=None, limit=None):
        return self.archive.refs(role, tag, since, limit)

    def __len__(self) -> int:
        return len(self.archive)


def record(corpus: Path, state_path: Path) -> None:
    """One real build in this process (untimed): what its pages were made from, saved for the timed process."""
    from persona_site import render
    from persona_site.build import Builder
    from persona_site.model import Site, Transcripts

    seen: dict = {}
    real = render.Renderer.render

    def spy(self, site, archive, ctx, pages=None, defer=False):
        recorder = Recorder(archive)
        outputs = real(self, site, recorder, ctx, pages, defer)
        seen.update(renderer=self, site=site, ctx=ctx, recorder=recorder, outputs=outputs)
        return outputs

    render.Renderer.render = spy
    try:
        result = Builder(corpus).build()
    finally:
        render.Renderer.render = real
    if not result.ok or result.config.publish_transcripts:
        sys.exit(f"{corpus}: floor.py needs a corpus that builds, with publish_transcripts off")
    ctx = seen["ctx"]
    ctx.published = set()  # only published transcripts' links read it
    site = Site(seen["site"].personas, Transcripts({}))  # the pages of personas and tags need no transcript
    quotes = result.archive.refs()
    old = quotes[len(quotes) // 2].json  # a quote in the middle of every file it is in
    # Where it is in each file: a build that keeps its files' layout would know without searching.
    documents = {path: data.find(old) for path, data in seen["outputs"].items() if path.endswith(".json")}
    state = {"theme": seen["renderer"].theme, "compiled": str(corpus / ".persona-cache" / "templates"),
             "site": site, "ctx": ctx, "answers": seen["recorder"].answers, "documents": documents,
             "site_folder": str(corpus / "site"), "lines": (old, old.replace(b'"text": "', b'"text": "Edited: ', 1))}
    state_path.write_bytes(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="a corpus made by make_corpus.py")
    parser.add_argument("--rounds", type=int, default=9, help="runs of each (default: 9)")
    args = parser.parse_args()
    corpus = load_corpus(args.dir)
    if corpus is None:
        sys.exit(f"{args.dir} is not a corpus made by make_corpus.py")
    python = os.path.realpath(sys.executable)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as pip installs it: compiled
    build = [python, "-m", "persona_site", "build", "--quiet", "--source", str(args.dir)]
    work = Path(tempfile.mkdtemp(prefix="persona-site-floor."))
    try:
        subprocess.run(build, check=True, env=env)  # the site and the cache as the corpus is
        record(args.dir, work / "state.pickle")
        floor = [python, "-c", _FLOOR, str(work / "state.pickle"), str(work / "out")]
        times: dict[str, list[float]] = {"floor": [], "build": []}
        with ProbeEdit(corpus) as edit:
            for _ in range(args.rounds):
                shutil.rmtree(work / "out", ignore_errors=True)
                times["floor"].append(timed(floor, env))
                edit.change()
                times["build"].append(timed(build, env))
        subprocess.run(build, check=True, env=env)  # the site as the corpus is again
        made = {path.relative_to(work / "out") for path in (work / "out").rglob("*") if path.is_file()}
        built = {path.relative_to(args.dir / "site") for path in (args.dir / "site").rglob("*") if path.is_file()}
        if made != built - {Path(".persona-site-output")}:  # the manifest: the real build's own bookkeeping
            sys.exit(f"the floor made other files than the build: {sorted(map(str, made ^ built))[:5]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, runs in times.items():
        print(f"{name:6s} median {statistics.median(runs):.3f} s  (fastest {min(runs):.3f}, slowest {max(runs):.3f}; "
              f"{len(runs)} runs)")


if __name__ == "__main__":
    main()
