"""Where a one-file rebuild in the preview server spends its time, stage by stage (issue 5).

    python benchmarks/rebuild_stages.py DIR [--rounds 6]

DIR is a corpus from make_corpus.py (its probe transcript is the one edited). A
`LiveSite` (what `persona-site serve` runs) builds the corpus once, then for
each round the probe's quote is edited and the site rebuilt with the path the
watcher would report, as the server does. Each stage's wall time is printed per
round, in milliseconds; "other" is what no stage listed covers. A thread is kept
alive, as the server's are, so the build takes the same paths as in the server.
The first round after the start renders every page once (the footer then says
"with uncommitted changes"); the later rounds are the steady state. The probe is
restored at the end.
"""

from __future__ import annotations

import argparse
import functools
import threading
import time
from pathlib import Path

from make_corpus import load_corpus

from persona_site import build, gitmeta, preview
from persona_site.incremental import persistent, store
from persona_site.incremental.render_memo import RenderMemo

# build_site's stages (build.py) and what the engine does for each (incremental/persistent.py).
STAGES = [(build, name) for name in ("read_settings", "read_all_personas", "provenance", "theme_problems",
                                     "site_checks")]
STAGES += [(persistent.PersistentEngine, name) for name in ("content", "history", "_line_dated", "archive",
                                                            "render")]
STAGES += [(store.TranscriptStore, name) for name in ("read", "persist")]
STAGES += [(RenderMemo, "render"), (persistent, "patch_work_tree"), (gitmeta, "uncommitted_lines")]


def timed(spent: dict[str, float]) -> None:
    """Wrap each stage so that its wall time adds up in `spent`."""
    for owner, name in STAGES:
        inner = getattr(owner, name)

        @functools.wraps(inner)
        def stage(*args, _inner=inner, _name=name, **kwargs):
            started = time.perf_counter()
            try:
                return _inner(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - started

        setattr(owner, name, stage)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir", type=Path, help="a corpus made by make_corpus.py")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    corpus = load_corpus(args.dir)
    if corpus is None:
        raise SystemExit(f"{args.dir} is not a corpus made by make_corpus.py")
    root = args.dir.absolute()
    probe = f"content/{corpus.probe}"
    original = (root / probe).read_text("utf-8")
    spent: dict[str, float] = {}
    timed(spent)
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # the server has threads
    site = preview.LiveSite(root)
    site.rebuild()
    try:
        for number in range(1, args.rounds + 1):
            (root / probe).write_text(original.replace("(point 1)]", f"(point 1, stage edit {number})]", 1), "utf-8")
            spent.clear()
            started = time.perf_counter()
            site.rebuild({probe})
            total = time.perf_counter() - started
            parts = ", ".join(f"{name.strip('_')} {seconds * 1000:.0f}" for name, seconds in spent.items())
            print(f"round {number}: {total * 1000:.0f} ms: {parts}, other {(total - sum(spent.values())) * 1000:.0f}")
    finally:
        (root / probe).write_text(original, "utf-8")
        site.close()


if __name__ == "__main__":
    main()
