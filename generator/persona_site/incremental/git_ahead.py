"""Git's commands begun ahead: a build of the work tree asks git the same three things first (is it a repository,
HEAD's commit, what is uncommitted), so one command begins them as it starts, and git answers on another core
while this process imports and loads the last look (worktree.py), or walks 10,000 files (issue 5)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from ..gitmeta import ASKED_BY_EVERY_BUILD, GitRunner, command

_Begun = tuple[subprocess.Popen[bytes] | subprocess.CompletedProcess[bytes], int]
"""A git command begun ahead (then its answer, once asked) and when it was begun (time.time_ns())."""


class GitAhead(GitRunner):
    """Begins gitmeta.ASKED_BY_EVERY_BUILD in `root` when made. Until close(), a run of one of them takes that
    answer (every time: one build asks HEAD's commit twice); close() waits for those no run asked, and drops them
    all, so none is ever stale. For one build in its own process: builds one after another need fresh answers."""

    def __init__(self, root: Path) -> None:
        self._begun: dict[tuple[str, tuple[str, ...]], _Begun] = {}
        for args in ASKED_BY_EVERY_BUILD:
            asked = time.time_ns()
            try:
                process = subprocess.Popen(command(root, args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                           stderr=subprocess.PIPE)
            except OSError:  # no git: each run says so as it always does
                break
            self._begun[(str(root), args)] = (process, asked)

    def run(self, root: Path, args: tuple[str, ...],
            input: bytes | None = None) -> tuple[subprocess.CompletedProcess[bytes], int]:
        key = (str(root), args)
        begun = self._begun.get(key) if input is None else None
        if begun is None:
            return super().run(root, args, input)
        process, asked = begun
        if not isinstance(process, subprocess.CompletedProcess):  # its answer, kept for the next run that asks
            stdout, stderr = process.communicate()
            process = subprocess.CompletedProcess(args, process.returncode, stdout, stderr)
            self._begun[key] = (process, asked)
        return process, asked

    def answered(self, root: Path, args: tuple[str, ...]) -> bool:
        """Whether a command begun ahead has answered already (or was not begun: nothing to wait for)."""
        begun = self._begun.get((str(root), args))
        return begun is None or isinstance(begun[0], subprocess.CompletedProcess) or begun[0].poll() is not None

    def settle(self, root: Path, args: tuple[str, ...], out: bytes, asked: int) -> None:
        """Answer `args` with `out`, as asked at `asked`, from now on: the command begun ahead is stopped (read only:
        `git status --no-optional-locks` writes nothing)."""
        begun = self._begun.get((str(root), args))
        if begun is not None and not isinstance(begun[0], subprocess.CompletedProcess):
            process = begun[0]
            process.kill()
            for pipe in (process.stdout, process.stderr):  # a filter git ran may hold them open: not waited for
                if pipe is not None:
                    pipe.close()
            process.wait()
        self._begun[(str(root), args)] = (subprocess.CompletedProcess(args, 0, out, b""), asked)

    def close(self) -> None:
        for process, _ in self._begun.values():
            if not isinstance(process, subprocess.CompletedProcess):
                process.communicate()
        self._begun.clear()

    def __enter__(self) -> GitAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
