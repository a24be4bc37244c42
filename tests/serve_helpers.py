"""Helpers for the serve tests: a small content repository, a real server on a free port, waiting."""

from __future__ import annotations

import http.client
import json
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import persona_site.cli  # noqa: F401 -- cli registers serve's command: import it before persona_site.serve
from persona_site.serve import EVENTS, Address, PreviewServer

PERSONAS = {
    "head-of-revops": "---\ntitle: Head of Revenue Operations\nsummary: Owns the forecast.\n---\nRuns the forecast call.\n",
    "vp-sales": "---\ntitle: VP Sales\nsummary: Carries the number.\n---\nSketch.\n",
}
PARTICIPANTS = "  Dana Whitfield: head-of-revops\n  Priya Raman: vp-sales\n  Sam Ortiz: internal\n"


def transcript(quote: str, *, speaker: str = "Dana Whitfield", tag: str = "pain", date: str = "2026-10-14") -> str:
    """A transcript with one tagged quote; the quote is on line 13."""
    return (f"---\ntitle: A call\ndate: {date}\ncompany: Acme Corp\nparticipants:\n{PARTICIPANTS}---\n\n"
            f"**Sam Ortiz:** What hurts?\n\n**{speaker}:** [{quote}]{{.{tag}}}\n")


def make_repo(root: Path, *, base_url: str | None = None) -> Path:
    """Two personas, three transcripts, no git."""
    files = {f"content/personas/{slug}.md": text for slug, text in PERSONAS.items()}
    files["content/transcripts/2026/acme.md"] = transcript("Quarter end is a scramble.")
    files["content/transcripts/2026/globex.md"] = transcript("Nobody trusts the CRM.", speaker="Priya Raman", tag="objection")
    files["content/transcripts/2025/initech.md"] = transcript("Six-month rollouts are out.", date="2025-12-01")
    files["persona-site.toml"] = 'title = "Preview test"\n' + (f'base_url = "{base_url}"\n' if base_url else "")
    for rel, text in files.items():
        write(root, rel, text)
    return root


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def wait_until(condition: Callable[[], object], timeout: float = 10.0, what: str = "the condition") -> object:
    """Poll until condition() is truthy; its value, or AssertionError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Running:
    """A started PreviewServer and what its rebuilds reported."""

    preview: PreviewServer
    source: Path
    rebuilds: list[set[str]] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.preview.url.split(":")[2].split("/")[0])

    @property
    def base(self) -> str:
        return self.preview.site.current.base_path

    def get(self, path: str, *, host: str | None = None, method: str = "GET") -> Response:
        """The exact request target given, unnormalised; path is relative to the base unless it starts with /."""
        target = path if path.startswith("/") else self.base + path
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, target, headers={"Host": host or f"127.0.0.1:{self.port}"})
            response = conn.getresponse()
            return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def wait_for_text(self, path: str, text: str, present: bool = True, timeout: float = 10.0) -> Response:
        return wait_until(lambda: (r := self.get(path)) and ((text in r.text) == present) and r,
                          timeout, f"{text!r} {'on' if present else 'gone from'} {path}")  # type: ignore[return-value]

    @contextmanager
    def events(self) -> Iterator[EventStream]:
        stream = EventStream(self.port, self.base + EVENTS)
        try:
            yield stream
        finally:
            stream.close()


class EventStream:
    """A live-reload stream read as a browser would."""

    def __init__(self, port: int, path: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next_state(self, condition: Callable[[dict], bool] = lambda state: True) -> dict:
        """The next `state` event that satisfies condition (each read times out after 10 s)."""
        data = None
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                if condition(data):
                    return data
                data = None

    def close(self) -> None:
        self.response.close()
        self.conn.close()


@contextmanager
def serving(source: Path, on_build: Callable | None = None, **options: object) -> Iterator[Running]:
    """A PreviewServer on a free port; rebuilds are recorded as their sets of changed paths, then on_build runs."""
    rebuilds: list[set[str]] = []

    def record(result, changed, seconds):
        rebuilds.append(changed)
        if on_build:
            on_build(result, changed, seconds)

    preview = PreviewServer(source, Address(port=0), on_build=record, **options)  # type: ignore[arg-type]
    running = Running(preview, source, rebuilds)
    preview.start()
    try:
        yield running
    finally:
        preview.close()
