"""Save-to-served latency of `persona-site serve`: save a transcript, poll until the page shows it.

    python benchmarks/serve_bench.py                  # the sample content, 30 saves
    python benchmarks/serve_bench.py --source DIR --runs 50

The content repository (default: this repository's sample content) is copied to a
temporary folder and committed to a fresh git repository, as a writer's clone
would be. `persona-site serve --port 0` runs there as a subprocess. Each run
rewrites one transcript with a new tagged quote, then requests the persona page
every 5 ms until the quote is on it: the time from the save returning to the
first response carrying the quote. That includes the watcher's debounce, the
rebuild and the response. Record the result in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from persona_site.config import load_config

ROOT = Path(__file__).resolve().parents[1]
PROBE = "content/transcripts/zz-benchmark/latency.md"


def probe_transcript(role: str, tag: str, words: str) -> str:
    today = dt.date.today().isoformat()
    return (f"---\ntitle: Latency probe\ndate: {today}\ncompany: Benchmark Inc\nparticipants:\n"
            f"  Bea Probe: {role}\n  Sam Ortiz: internal\n---\n\n"
            f"**Sam Ortiz:** Anything else?\n\n**Bea Probe:** [{words}]{{.{tag}}}\n")


def copy_repository(source: Path, into: Path) -> None:
    for name in ("content", "themes", "persona-site.toml"):
        path = source / name
        if path.is_dir():
            shutil.copytree(path, into / name, ignore=shutil.ignore_patterns(".*"))
        elif path.is_file():
            shutil.copy2(path, into / name)


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8", "replace")


def measure(root: Path, runs: int) -> list[float]:
    role = sorted((root / "content" / "personas").glob("*.md"))[0].stem
    tag = next(iter(load_config(root)[0].tags))
    probe = root / PROBE
    probe.parent.mkdir(parents=True, exist_ok=True)
    probe.write_text(probe_transcript(role, tag, "The first words."), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "content")
    server = subprocess.Popen([sys.executable, "-c", "from persona_site.cli import main; main()",
                               "serve", "--source", str(root), "--port", "0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()  # "Serving ROOT at URL"
        if " at http" not in line:
            raise SystemExit(f"serve did not start: {line!r}")
        page = line.rsplit(" at ", 1)[1].strip() + f"personas/{role}/"
        timings = []
        for run in range(runs + 1):
            words = f"Latency probe number {run} at {time.time_ns()}."
            probe.write_text(probe_transcript(role, tag, words), encoding="utf-8")
            saved = time.perf_counter()
            while words not in fetch(page):
                if time.perf_counter() - saved > 10:
                    raise SystemExit(f"run {run}: the edit did not appear within 10 s")
                time.sleep(0.005)
            if run:  # the first run warms the caches, as the writer's first save after starting does
                timings.append(time.perf_counter() - saved)
            time.sleep(0.3)  # let the watcher go quiet, like a writer between saves
        return timings
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=ROOT, help="a content repository to copy (default: the sample)")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-bench-") as temp:
        copy_repository(args.source, Path(temp))
        timings = sorted(t * 1000 for t in measure(Path(temp), args.runs))
    transcripts = len(list((args.source / "content" / "transcripts").rglob("*.md")))
    p90 = timings[int(0.9 * (len(timings) - 1))]
    print(f"save-to-served over {len(timings)} saves, {transcripts} transcripts: "
          f"median {statistics.median(timings):.0f} ms, p90 {p90:.0f} ms, "
          f"min {timings[0]:.0f} ms, max {timings[-1]:.0f} ms")


if __name__ == "__main__":
    main()
