"""Per-file time of split_front_matter on a corpus's transcripts (issue 5).

    python benchmarks/frontmatter_bench.py [DIR] [--files 2000] [--repeat 5]

DIR is a corpus made by make_corpus.py (default: the 10,000-transcript one in
/tmp/persona-site-bench/). Prints the best of --repeat rounds, in µs per file,
for the whole function, the loader-only path (fast=False, when the function has
it) and python-frontmatter's split alone, and how many files take the fast path.
"""

from __future__ import annotations

import argparse
import inspect
import time
from pathlib import Path

from persona_site import frontmatter_yaml
from persona_site.frontmatter_yaml import split_front_matter

DEFAULT = Path("/tmp/persona-site-bench/corpus-10000-seed1")


def per_file(fn, texts, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    paths = sorted((args.dir / "content/transcripts").rglob("*.md"))
    step = max(1, len(paths) // args.files)
    texts = [p.read_text("utf-8") for p in paths[::step][:args.files]]
    print(f"{len(texts)} files from {args.dir}")
    print(f"split_front_matter:            {per_file(split_front_matter, texts, args.repeat):7.1f} µs/file")
    if "fast" in inspect.signature(split_front_matter).parameters:
        slow = per_file(lambda t: split_front_matter(t, fast=False), texts, args.repeat)
        print(f"split_front_matter(fast=False): {slow:6.1f} µs/file")
        taken = sum(frontmatter_yaml.simple_load(frontmatter_yaml._split(t)[0]) is not None for t in texts)
        print(f"fast path taken:               {taken}/{len(texts)}")
    handler = frontmatter_yaml._HANDLER
    print(f"python-frontmatter split only: {per_file(handler.split, texts, args.repeat):7.1f} µs/file")


if __name__ == "__main__":
    main()
