"""Profile one cold `persona-site build` with py-spy and print where the time goes (issue 5).

    python benchmarks/profile.py DIR [--publish] [--rebuild] [--top 25]

DIR is a corpus from make_corpus.py. Its cache and output are deleted and
publish_transcripts is set as --publish says; with --rebuild one build then
runs unprofiled, so that the profiled one is a no-change rebuild. The build runs
under `py-spy record --idle --function --subprocesses` (a sampling profiler: no
tracing overhead; --idle keeps the time spent waiting for git or for workers).
The samples are summed per function (file and name, all lines together),
separately for the main process's main thread (the wall time a user waits) and
for the process pool's workers (their time added up), each as two Markdown
tables: by total time (the function and all it calls; import and pool plumbing
left out) and by own time (samples where it is the innermost frame).

Needs py-spy (`pip install py-spy`). Run persona-site from elsewhere with
--python and PYTHONPATH, e.g. a `git archive` snapshot of generator/ and themes/.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from make_corpus import load_corpus, set_publish

# Frames every sample has (Python's start-up, click's dispatch): left out of the tables.
_ENTRY = re.compile(r"^(<frozen runpy>|click/|persona_site/__main__\.py)")
# Plumbing that only wraps the work (imports, the pool's dispatch): left out of the totals, kept in own time.
_PLUMBING = re.compile(r"^(<frozen importlib|concurrent/futures/|threading\.py|multiprocessing/)")
# Where a pool worker's own work starts (concurrent.futures or multiprocessing.Pool).
_WORKER = re.compile(r"^(concurrent/futures/process\.py: _process_worker|multiprocessing/pool\.py: worker)$")
# A py-spy raw frame: "name (path/to/file.py:line)"; the line is the function's first with --function.
_FRAME = re.compile(r"^(?P<name>.*) \((?P<file>.*?)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """'extract_quotes (/x/site-packages/persona_site/quotes.py:68)' -> 'persona_site/quotes.py: extract_quotes'."""
    match = _FRAME.match(frame)
    if not match:
        return frame
    file = re.sub(r"^.*/(?:site-packages|lib/python3\.\d+|generator)/", "", match["file"])
    return f"{file}: {match['name']}"


@dataclass
class Profile:
    """Samples of one kind of process: the main one (its main thread: the wall time) or the pool's workers."""

    samples: int = 0
    total: Counter = field(default_factory=Counter)
    """Samples per function, with its callees."""
    own: Counter = field(default_factory=Counter)
    """Samples per function as the innermost frame."""


def summarize(raw: str) -> tuple[dict[str, Profile], int]:
    """py-spy's raw output -> {'main': Profile, 'workers': Profile}, and the samples of helper threads left out.

    With --subprocesses every stack starts with `process PID:"command"` frames, one
    per level: one for the main process, two for a worker. Helper threads of the
    main process (a process pool's bookkeeping, idle) are left out.
    """
    profiles = {"main": Profile(), "workers": Profile()}
    helpers = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        depth = sum(1 for f in frames if f.startswith("process "))
        frames = [_function(f) for f in frames[depth:]]
        if not frames or not frames[0].startswith("<frozen runpy>"):
            helpers += int(count)
            continue
        if depth > 1:  # a forked worker carries its parent's stack: start at the pool's worker loop
            starts = [i for i, f in enumerate(frames) if _WORKER.match(f)]
            frames = (frames[starts[-1] + 1:] or frames[-1:]) if starts else frames
        profile = profiles["workers" if depth > 1 else "main"]
        profile.samples += int(count)
        profile.own[frames[-1]] += int(count)
        for function in set(frames):  # a recursive function counts once per sample
            profile.total[function] += int(count)
    return profiles, helpers


def report(profile: Profile, top: int) -> str:
    lines = []
    for title, counts, hide in (("total (with callees)", profile.total, (_ENTRY, _PLUMBING)),
                                ("own (innermost frame)", profile.own, (_ENTRY,))):
        lines += [f"| % {title} | function |", "|---:|---|"]
        shown = [(name, n) for name, n in counts.most_common() if not any(h.match(name) for h in hide)][:top]
        lines += [f"| {100 * n / profile.samples:.1f} | `{name}` |" for name, n in shown]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example: python benchmarks/profile.py /tmp/persona-site-bench/corpus-10000-seed1")
    parser.add_argument("dir", type=Path, metavar="DIR", help="a corpus made by make_corpus.py")
    parser.add_argument("--publish", action=argparse.BooleanOptionalAction, default=False,
                        help="publish_transcripts on or off (default: off)")
    parser.add_argument("--rebuild", action="store_true",
                        help="profile a no-change rebuild instead: one build first (not profiled), then the same again")
    parser.add_argument("--top", type=int, default=25, help="rows per table (default: 25)")
    parser.add_argument("--rate", type=int, default=250, help="samples per second (default: 250)")
    parser.add_argument("--python", default=sys.executable, help="the Python that runs persona-site (default: this one)")
    parser.add_argument("--raw", type=Path, help="also keep py-spy's raw samples in this file")
    args = parser.parse_args(argv)
    corpus = load_corpus(args.dir)
    if corpus is None:
        parser.error(f"{args.dir} is not a corpus made by make_corpus.py")
    if not shutil.which("py-spy"):
        parser.error("py-spy is not installed: pip install py-spy")
    set_publish(corpus.root, args.publish)
    build = [args.python, "-m", "persona_site", "build", "--source", str(corpus.root), "--out", str(corpus.root / "site")]
    env = {name: value for name, value in os.environ.items() if name != "PERSONA_SITE_CACHE"}
    for folder in (corpus.root / ".persona-cache", corpus.root / "site"):
        shutil.rmtree(folder, ignore_errors=True)
    if args.rebuild:
        subprocess.run(build, check=True, stdout=sys.stderr, env=env)
    with tempfile.TemporaryDirectory() as temp:
        raw_file = args.raw or Path(temp) / "samples.txt"
        subprocess.run(["py-spy", "record", "--idle", "--function", "--subprocesses", "--rate", str(args.rate),
                        "--format", "raw", "--output", str(raw_file), "--", *build],
                       check=True, stdout=sys.stderr, env=env)
        profiles, helpers = summarize(raw_file.read_text("utf-8"))
    set_publish(corpus.root, False)
    print(f"{'No-change rebuild' if args.rebuild else 'Cold build'}, publish_transcripts {'on' if args.publish else 'off'}, "
          f"N={corpus.count:,}, {args.rate} samples/s ({helpers} samples of idle helper threads left out)\n")
    for role, profile in profiles.items():
        if profile.samples:
            what = "wall time" if role == "main" else "CPU and wait time summed over the workers"
            print(f"### {role}: {profile.samples} samples, about {profile.samples / args.rate:.1f} s of {what}\n")
            print(report(profile, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
