"""Instructions a transcript costs to read, counted by cachegrind: a measure the host's noise cannot move.

    python benchmarks/instructions.py DIR [--files 200]
    python benchmarks/instructions.py DIR --no-change
    python benchmarks/instructions.py DIR --one-file

DIR is a corpus from make_corpus.py. The first form reads its first N transcripts
the way a build's worker does (incremental.pool.parse_job: read, hash, front matter, quotes,
the frozen transcript and the quotes' JSON lines), once with N files and once with
none, under `valgrind --tool=cachegrind`, and prints the instructions per file:
the difference over N. The second counts a whole no-change `persona-site build`
(one build first makes the site up to date); the third, a build after bench.py's
one-file change (one quote's words), in the build's own process (not git's). Wall times on this shared 2-vCPU VM
move by 30% from one run to the next; instruction counts move by 0.3%. They do
not see the kernel (reading files, stat), nor cache misses: read them with the
wall times of bench.py, not instead of them. Needs valgrind (Debian: `apt-get
install valgrind`).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# What a worker does for each file, without the pool: the corpus's own config and personas.
_PARSE = """
import gc, sys
gc.disable()  # where a full collection falls moves with any allocation: counts swung 5-10% between commits with it
from pathlib import Path
from persona_site import content
from persona_site.config import parse_config
from persona_site.incremental.pool import Job, Work, parse_job
from persona_site.reader import read_personas
from persona_site.reading import ReadInputs
from persona_site.roles import roles_of
source, count = Path(sys.argv[1]), int(sys.argv[2])
config, _ = parse_config((source / "persona-site.toml").read_text("utf-8"), "persona-site.toml")
personas, _ = read_personas(content.read_persona_files(source)[0])
inputs = ReadInputs(config, roles_of(personas), {p.slug: p.title for p in personas}, None, frozenset())
paths = list(content.read_work_tree(source).transcripts)[:count]
added = ("0" * 40, "2024-01-01T00:00:00+00:00")  # as for a file unchanged since git added it
jobs = [Job(path, None, None, added, ()) for path in paths]
work = Work(inputs, set(), source, None)
results = [parse_job(job, work) for job in jobs]
"""


def instructions(argv: list[str]) -> int:
    """The instructions a command ran (user space), as cachegrind counts them."""
    done = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                           *argv], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    found = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
    if found is None:
        raise SystemExit(f"cachegrind gave no count:\n{done.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="a corpus made by make_corpus.py")
    parser.add_argument("--files", type=int, default=200, help="transcripts to read (default: 200)")
    parser.add_argument("--no-change", action="store_true", help="count a whole no-change build instead")
    parser.add_argument("--one-file", action="store_true", help="count a whole build after bench.py's one-file change")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    python = os.path.realpath(sys.executable)  # not a pyenv shim: cachegrind would count the shell script
    # Compile and cache every module's bytecode first: else the first count would include compiling what changed,
    # and a module imported only as files are read (quotes_fast) would be counted against the files.
    subprocess.run([python, "-c", "import compileall, os, persona_site; "
                    "compileall.compile_dir(os.path.dirname(persona_site.__file__), quiet=1)"], check=True,
                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    command = [python, "-m", "persona_site", "build", "--quiet", "--source", str(args.dir)]
    if args.no_change:
        subprocess.run(command, check=True)
        print(f"{instructions(command) / 1e6:,.0f}M instructions: a no-change build of {args.dir}")
        return
    if args.one_file:
        from bench import ProbeEdit
        from make_corpus import load_corpus

        with ProbeEdit(load_corpus(args.dir)) as edit:
            subprocess.run(command, check=True)
            counts = []
            for _ in range(3):
                edit.change()
                counts.append(instructions(command))
        print(f"{sorted(counts)[1] / 1e6:,.0f}M instructions: a one-file rebuild of {args.dir} "
              f"(median of {', '.join(f'{c / 1e6:,.0f}M' for c in counts)})")
        subprocess.run(command, check=True)  # the site as the corpus is again
        return
    per_file = (instructions([python, "-c", _PARSE, str(args.dir), str(args.files)])
                - instructions([python, "-c", _PARSE, str(args.dir), "0"])) // args.files
    print(f"{per_file:,} instructions a transcript ({args.files} of {args.dir})")


if __name__ == "__main__":
    main()
