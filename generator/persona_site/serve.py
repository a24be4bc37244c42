"""`persona-site serve`: a local preview that rebuilds on save and reloads the browser.

Where the preview lives: in memory. Each good build becomes one frozen `Snapshot`
(every output, by path), and the server swaps a single reference to it. A request
reads that reference once and answers from it, so every response is wholly the
old build or wholly the new one, and a build with errors never replaces the last
good snapshot. Serving from the output folder instead would mean answering from a
folder that `write_site` replaces with two renames (there is an instant with no
folder at all), and would write the live-reload script into the site/ you publish.
Answering from a dict also means no request can reach a file outside the site:
there is no file system path to escape, only keys to look up (`..`, `%2e%2e`,
backslashes, absolute paths and symlinks all miss). site/ is left as it was.

The server serves a `preview.LiveSite`, which receives a rebuild callable and nothing else (as
MkDocs' LiveReloadServer); the watcher (watch.py) yields batches of changes.
Live reload is Server-Sent Events from the same server: a page carries the
version of the build it came from, and reloads when the server's version differs
(after a rebuild, or a restart of the server).
"""

from __future__ import annotations

import errno
import ipaddress
import json
import select
import socket
import sys
import threading
import time
import traceback
import warnings
import webbrowser
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from urllib.parse import quote, unquote, urlsplit

import click

from .build import BuildResult
from .cli import check_source, print_diagnostics, source_option
from .model import Diagnostic
from .preview import EVENTS, LiveSite, Snapshot, base_path_of, live_reload_script, preview_builder
from .watch import Watcher


_KEEPALIVE_SECONDS = 15
# Bounds under a flood of connections (issue 21, item 14): without them each idle connection held a thread and a
# file for ever, and at the open-file limit the preview stopped answering and a rebuild could not open a file.
MAX_CONNECTIONS = 64
"""Connections served at once; one more is closed at once (a browser tries again)."""
MAX_STREAMS = 16
"""Live-reload streams at once (one per visible tab); one more gets 503, and its page retries in a second."""
IDLE_SECONDS = 10.0
"""How long a connection may send nothing (or not read what it is sent) before it is closed."""
_WILDCARDS = ("", "0.0.0.0", "::")
_TYPES = MappingProxyType({
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".json": "application/json",
    ".xml": "application/xml", ".txt": "text/plain; charset=utf-8", ".svg": "image/svg+xml",
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".ico": "image/x-icon", ".woff2": "font/woff2", ".woff": "font/woff",
})


class ServeError(Exception):
    """The preview cannot start: a busy port, an address this machine does not have."""


def _placeholder(snapshot: Snapshot, watching: bool) -> bytes:
    """The page for every request until the first good build: its errors, and (watching) the live-reload script."""
    items = "".join(f"<li>{escape(str(d))}</li>" for d in snapshot.errors)
    todo = ("Fix these errors and save; this page reloads." if watching else
            "Fix these errors, then stop the preview (Ctrl-C) and start it again: it is not watching for changes "
            "(--no-watch).")
    script = live_reload_script("", snapshot.base_path) if watching else ""
    return (f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Not built yet</title>"
            f"<body><h1>The site has not built yet</h1><p>{todo}</p><ul>{items}</ul>{script}</body></html>").encode()


def route(snapshot: Snapshot, path: str) -> tuple[int, str]:
    """A decoded request path -> (200, output name), (302, where to go) or (404, '')."""
    base = unquote(snapshot.base_path)
    if not path.startswith(base):
        # A header holds ASCII only: a base_url written with other letters ('/übersicht/') goes there percent-encoded
        return (302, quote(base)) if path in ("/", base.rstrip("/")) else (404, "")
    name = path[len(base):]
    # The outputs are dict keys, so nothing can escape; refuse tricks anyway rather than guess.
    if "\\" in name or "\0" in name or name.startswith("/") or {".", ".."} & set(name.split("/")):
        return 404, ""
    if name == "" or name.endswith("/"):
        name += "index.html"
    if name in snapshot.outputs:
        return 200, name
    if f"{name}/index.html" in snapshot.outputs:
        return 302, quote(path) + "/"
    return 404, ""


def content_type(name: str) -> str:
    if PurePosixPath(name).name == "feed.xml":
        return "application/atom+xml"
    return _TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")


@dataclass(frozen=True)
class HostCheck:
    """Which Host headers name this server: a DNS-rebinding page arrives under a foreign name."""

    names: frozenset[str]
    """Names that always pass: localhost, loopback addresses, this machine's name, the --host given."""
    any_ip: bool
    """Bound to every address (0.0.0.0): any IP address, or this machine's name, reaches us."""

    @classmethod
    def for_host(cls, host: str) -> HostCheck:
        # This machine's own name is no rebinding: an attacker's page arrives under the attacker's domain. On a
        # loopback address it reaches the preview when the name resolves to it (Debian's 127.0.1.1 does not).
        names = {"localhost", "127.0.0.1", "::1", socket.gethostname().lower(), host.lower().strip("[]")}
        return cls(frozenset(names), host in _WILDCARDS)

    def allows(self, header: str | None) -> bool:
        if header is None:
            return True  # an HTTP/1.0 client; browsers always send Host
        try:
            name = (urlsplit(f"//{header}").hostname or "").rstrip(".")
        except ValueError:
            return False
        if name in self.names or name.endswith(".localhost"):
            return True
        return self.any_ip and _is_ip(name)


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    return host.lower() == "localhost" or (_is_ip(host) and ipaddress.ip_address(host).is_loopback)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: LiveSite) -> None:
        self.address_family = socket.getaddrinfo(address[0], address[1], type=socket.SOCK_STREAM)[0][0]
        self.site = site
        self.host_check = HostCheck.for_host(address[0])
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.streams = threading.BoundedSemaphore(MAX_STREAMS)
        super().__init__(address, _Handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:
        """Serve a connection in a thread of its own, at most MAX_CONNECTIONS at once."""
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: socket.socket, client_address: object) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: object, client_address: object) -> None:
        """A browser that cancels a request (it reloaded, it navigated away) is not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "persona-site"

    @property
    def timeout(self) -> float:  # type: ignore[override]  # read when the connection is set up
        return IDLE_SECONDS

    def do_GET(self) -> None:  # noqa: N802 -- http.server's naming
        self._respond(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(body=False)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet: the terminal is for build results."""

    def _respond(self, body: bool) -> None:
        if not self.server.host_check.allows(self.headers.get("Host")):
            message = b"This preview only answers to localhost (or the --host it was started with).\n"
            return self._send(403, message, "text/plain; charset=utf-8", body)
        path = unquote(urlsplit(self.path).path)
        if path.endswith("/" + EVENTS) and body:
            if not self.server.streams.acquire(blocking=False):
                return self._send(503, b"Too many live-reload streams.\n", "text/plain; charset=utf-8", body)
            try:
                return self._events()
            finally:
                self.server.streams.release()
        snapshot = self.server.site.current  # read once: this response is all one build
        if not snapshot.outputs:
            return self._send(503, _placeholder(snapshot, self.server.site.live_reload), _TYPES[".html"], body)
        status, target = route(snapshot, path)
        if status == 302:  # the query kept: /quotes?role=cfo is /quotes/?role=cfo
            query = urlsplit(self.path).query
            return self._send(302, b"", "text/plain", body, {"Location": target + (f"?{query}" if query else "")})
        if status == 404:  # the theme's 404 page (the renderer always makes one)
            page = snapshot.page("404.html") if "404.html" in snapshot.outputs else b"Not found"
            return self._send(404, page, _TYPES[".html"], body)
        return self._send(200, snapshot.page(target), content_type(target), body)

    def _send(self, status: int, data: bytes, kind: str, body: bool, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(data)), "Cache-Control": "no-store",
                            "X-Content-Type-Options": "nosniff", **(extra or {})}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _events(self) -> None:
        """Server-Sent Events: the current state now, then after every build, until the client goes."""
        site = self.server.site
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        seen, quiet_since = None, time.monotonic()
        try:
            self.wfile.write(b"retry: 1000\n\n")
            with site.listening():
                while not site.closed:
                    snapshot = site.wait(seen, timeout=1.0)
                    if snapshot is not seen:
                        seen, quiet_since = snapshot, time.monotonic()
                        self.wfile.write(_state_event(snapshot))
                    elif self._client_gone():
                        return
                    elif time.monotonic() - quiet_since > _KEEPALIVE_SECONDS:
                        quiet_since = time.monotonic()
                        self.wfile.write(b": still here\n\n")
        except OSError:  # the browser went away mid-write
            return

    def _client_gone(self) -> bool:
        """An EventSource sends nothing after its request: readable means closed."""
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True


def _state_event(snapshot: Snapshot) -> bytes:
    errors = [{"path": d.path, "line": d.line, "message": d.message} for d in snapshot.errors]
    data = json.dumps({"version": snapshot.version, "errors": errors})
    return f"event: state\ndata: {data}\n\n".encode()


def _bind(address: Address, site: LiveSite, report: Callable[[str], None]) -> _HTTPServer:
    host, port = address.host, address.port
    try:
        return _HTTPServer((host, port), site)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise ServeError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    free = next((p for p in range(port + 1, min(port + 50, 65536)) if _port_is_free(host, p)), None)
    if not address.next_free_port or free is None:
        hint = f": try --port {free}" if free else ""
        raise ServeError(f"port {port} is already in use (another preview, perhaps){hint}")
    report(f"Port {port} is in use; using {free} instead.")
    return _HTTPServer((host, free), site)


def _port_is_free(host: str, port: int) -> bool:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _url(host: str, port: int, source: Path) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{base_path_of(source)}"


OnBuild = Callable[[BuildResult, set[str], float], None]
"""Told of each rebuild: its result, the paths that changed, and how long it took in seconds."""


@dataclass(frozen=True)
class Address:
    """Where the preview listens."""

    host: str = "127.0.0.1"
    """The address to listen on (0.0.0.0: every one, so other computers see the preview)."""
    port: int = 8000
    """The port (0: any free one)."""
    next_free_port: bool = False
    """When the port is taken, take a free one after it (serve's default port: another preview may hold it)."""


class PreviewServer:
    """The HTTP server, the site it serves, and (with watch) the watcher that rebuilds it on change."""

    def __init__(self, source: Path, address: Address = Address(), *, watch: bool = True, poll: bool = False,
                 on_build: OnBuild = lambda result, changed, seconds: None,
                 report: Callable[[str], None] = print) -> None:
        self.site = LiveSite(source, *preview_builder(source), live_reload=watch)
        self.address = address
        self.on_build, self.report = on_build, report
        self.watcher = Watcher(source, poll=poll, report=report) if watch else None
        self._server: _HTTPServer | None = None
        self._threads: list[threading.Thread] = []

    def start(self) -> BuildResult:
        """Listen, build once, then serve (and watch) in background threads."""
        self._server = _bind(self.address, self.site, self.report)
        if self.watcher:
            self.watcher.start()  # before the first build: a save during it is not lost
        first = self.site.rebuild()
        self._threads.append(threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                              name="persona-site-http", daemon=True))
        if self.watcher:
            self._threads.append(threading.Thread(target=self._rebuild_on_change, name="persona-site-watch", daemon=True))
        for thread in self._threads:
            thread.start()
        return first

    @property
    def url(self) -> str:
        """Where to open the preview on this computer."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return _url("::1" if host == "::" else "127.0.0.1" if host in _WILDCARDS else host, port, self.site.source)

    @property
    def network_url(self) -> str:
        """Where another computer opens it: by this computer's name when listening on every address."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return _url(socket.gethostname() if host in _WILDCARDS else host, port, self.site.source)

    def close(self) -> None:
        self.site.close()
        if self.watcher:
            self.watcher.stop()
        if self._server:
            if self._threads:
                self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> PreviewServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _rebuild_on_change(self) -> None:
        assert self.watcher is not None
        for changed in self.watcher.batches():
            try:
                started = time.perf_counter()
                result = self.site.rebuild(changed)
                self.on_build(result, changed, time.perf_counter() - started)
            except Exception:  # noqa: BLE001 -- keep watching whatever a report does
                self.report("persona-site hit a bug while rebuilding; still watching.\n" + traceback.format_exc())


def _terminal_reporter() -> OnBuild:
    """Prints each rebuild; warnings only when they change, errors every time (the site is stuck until fixed)."""
    shown: list[Diagnostic] = []

    def on_build(result: BuildResult, changed: set[str], seconds: float) -> None:
        what = next(iter(changed)) if len(changed) == 1 else f"{len(changed)} files"
        if not result.ok:
            print_diagnostics(result.diagnostics)
            click.echo(click.style(f"The site did not rebuild ({what} changed); still serving the last good "
                                   "version. The browser shows the errors until you fix them.", fg="red"), err=True)
        else:
            if result.diagnostics != shown:
                print_diagnostics(result.diagnostics)
            click.echo(f"Rebuilt in {seconds * 1000:.0f} ms ({what} changed).", err=True)
        shown[:] = result.diagnostics

    return on_build


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.command()
@source_option
@click.option("--watch/--no-watch", default=True, show_default=True,
              help="Rebuild when content, persona-site.toml or the theme change, and reload the browser.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="The address to listen on. 0.0.0.0 lets other computers on your network see the preview.")
@click.option("--port", "-p", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="The port to listen on (0: any free port).")
@click.option("--poll/--no-poll", default=False, show_default=True,
              help="Look for changes by polling: for network drives, Docker volumes and WSL.")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the preview in your web browser.")
def serve(source: Path, watch: bool, host: str, port: int, poll: bool, open_browser: bool) -> None:
    """Preview the site while you write: it rebuilds when you save and the browser reloads.

    The preview is served from memory: site/ is not touched. Press Ctrl-C to stop.

    Example:

    \b
        persona-site serve --open
    """
    check_source(source)
    # watchdog warns of its own harmless race when nested folders appear at once; not the writer's concern.
    warnings.filterwarnings("ignore", message="Callback with id", category=RuntimeWarning)
    default_port = click.get_current_context().get_parameter_source("port") == click.core.ParameterSource.DEFAULT
    preview = PreviewServer(source, Address(host, port, next_free_port=default_port), watch=watch, poll=poll,
                            on_build=_terminal_reporter(), report=_say)
    try:
        first = preview.start()
        print_diagnostics(first.diagnostics)
        if not first.ok:
            then = "save; the preview updates by itself" if watch else "start the preview again"
            click.echo(click.style(f"The site has errors: fix them and {then}.", fg="red"), err=True)
        click.echo(f"Serving {source.resolve()} at {preview.url}")
        if not is_loopback(host):
            click.echo(click.style(f"Warning: --host {host} makes this preview visible to other computers on your "
                                   f"network ({preview.network_url}), unpublished transcripts included.",
                                   fg="yellow"), err=True)
        if watch:
            click.echo("Watching content/, themes/ and persona-site.toml: pages reload when you save.", err=True)
        click.echo("Press Ctrl-C to stop.", err=True)
        if open_browser:
            webbrowser.open(preview.url)
        while True:
            time.sleep(3600)
    except ServeError as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:
        click.echo("\nStopped.", err=True)
    finally:
        preview.close()
