"""Per-file time of split_front_matter on a corpus's transcripts (issue 5).

    python benchmarks/frontmatter_bench.py [DIR] [--files 2000] [--rounds 10]

DIR is a corpus made by make_corpus.py (default: the 10,000-transcript one in
/tmp/persona-site-bench/). Prints µs per file for split_front_matter, for the
loader-only path (fast=False) and for python-frontmatter's split alone, and how
many files take the fast path. The ways are timed in turn, in chunks of 100
files, and each chunk keeps its best round: a busy machine slows some rounds, so
the sum of the best is steadier than the best sum.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from persona_site import frontmatter_yaml
from persona_site.frontmatter_strict import HANDLER as _HANDLER
from persona_site.frontmatter_yaml import split_front_matter

DEFAULT = Path("/tmp/persona-site-bench/corpus-10000-seed1")
CHUNK = 100


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    paths = sorted((args.dir / "content/transcripts").rglob("*.md"))
    texts = [p.read_text("utf-8") for p in paths[::max(1, len(paths) // args.files)][:args.files]]
    fast = hasattr(frontmatter_yaml, "try_load")  # not before the fast path: time the old code alone
    ways = {"split_front_matter": split_front_matter}
    if fast:
        ways["split_front_matter(fast=False)"] = lambda text: split_front_matter(text, fast=False)
    ways["python-frontmatter's split only"] = _HANDLER.split
    chunks = [texts[i:i + CHUNK] for i in range(0, len(texts), CHUNK)]
    best = {name: [float("inf")] * len(chunks) for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            for i, chunk in enumerate(chunks):
                start = time.perf_counter()
                for text in chunk:
                    way(text)
                best[name][i] = min(best[name][i], time.perf_counter() - start)
    print(f"{len(texts)} files from {args.dir}, best of {args.rounds} rounds a chunk")
    for name in ways:
        print(f"  {name:32s} {sum(best[name]) / len(texts) * 1e6:7.1f} µs/file")
    if fast:
        taken = sum(frontmatter_yaml.try_load(frontmatter_yaml._split(text)[0]) is not None for text in texts)
        print(f"  fast path taken: {taken}/{len(texts)}")


if __name__ == "__main__":
    main()
