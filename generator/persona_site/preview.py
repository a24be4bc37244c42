"""The site being previewed: each good build one frozen `Snapshot`, swapped whole; rebuilds on request.

Each good build becomes one frozen `Snapshot` (every output, by path), and the server (serve.py) swaps a single
reference to it: a response is wholly the old build or wholly the new one, and a build with errors never
replaces the last good snapshot (its errors are shown over the page instead). `LiveSite` receives a rebuild
callable and nothing else (`preview_builder`'s, as MkDocs' LiveReloadServer takes a builder). A page carries
the version of the build it came from, and its live-reload script reloads it when the server's version differs.
"""

from __future__ import annotations

import json
import threading
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from secrets import token_hex
from types import MappingProxyType
from urllib.parse import urlsplit

from markupsafe import Markup

from .build import BuildOptions, BuildResult
from .config import Config, load_config
from .incremental import PersistentEngine
from .incremental.persistent import build_recovering
from .incremental.cache import collector_paused
from .model import Diagnostic, error

EVENTS = "__persona-site/events"
"""The live-reload stream, under the site's base path (outputs never start with '__')."""


SAVE_WHEN_IDLE = 5.0
"""Seconds without a rebuild after which serve saves the cache."""
RETIRE_AFTER = 0.3
"""Seconds after a rebuild at which the snapshot it replaced is let go (LiveSite._retire)."""


@dataclass(frozen=True)
class Snapshot:
    """What the server answers from: one complete build, replaced whole and never edited."""

    outputs: Mapping[str, bytes | Callable[[], bytes]]
    """The last good build's files by path under the base path; empty until a build succeeds."""
    version: str
    """The token its pages carry, so that a page can tell it is out of date."""
    base_path: str
    """The URL path the site lives under, as its links write it: '/' or '/personas/'."""
    errors: tuple[Diagnostic, ...] = ()
    """The latest build's errors, shown over every page until fixed; empty when it succeeded."""
    stamp: str = ""
    """What the pages carry where their live-reload script names the version (LiveSite._stamp)."""

    def page(self, name: str) -> bytes:
        """An output as served: a page gets its build's version."""
        data = self.outputs[name]
        if callable(data):  # made when first asked for (incremental.render_memo.Deferred, Later)
            data = data()
        if self.stamp and name.endswith(".html"):
            data = data.replace(self.stamp.encode(), self.version.encode())
        return data


Rebuild = Callable[[set[str] | None, BuildOptions], BuildResult]
"""Builds the site: given the paths changed since the last build (None: not known) and how to build it."""


class LiveSite:
    """The site being previewed: rebuilds on request, hands out whole snapshots, wakes whoever waits."""

    def __init__(self, source: Path, build: Rebuild | None = None, save: Callable[[], None] | None = None, *,
                 live_reload: bool = True) -> None:
        """`build` and `save`: the rebuild callable and the cache's save (default: preview_builder's)."""
        if build is None or save is None:
            build, save = preview_builder(source)
        self.source = source
        self.live_reload = live_reload
        self.builds = 0
        """How many builds ran, good or not."""
        self.listeners = 0
        """Open live-reload streams (a hidden tab closes its stream)."""
        self._build, self._save = build, save
        self._nonce = token_hex(4)  # differs after a restart, so open pages reload
        self._stamp = f"persona-site-build-{token_hex(16)}"
        """What pages carry in place of their build's version; a response puts the version in (so a page that
        did not change is the same bytes from build to build, and is not rendered again)."""
        self._snapshot = Snapshot(MappingProxyType({}), "", "/")
        self._building = threading.Lock()
        """Held by a rebuild, and by a save of the cache: never both at once."""
        self._idle = threading.Timer(0, lambda: None)
        self._retired: Snapshot | None = None
        """The snapshot the last rebuild replaced, until RETIRE_AFTER (_retire)."""
        self._letting_go = threading.Timer(0, lambda: None)
        self._changed = threading.Condition()
        self._closed = False

    @property
    def current(self) -> Snapshot:
        return self._snapshot

    @property
    def closed(self) -> bool:
        return self._closed

    def rebuild(self, changed: set[str] | None = None) -> BuildResult:
        """Build; a good build replaces the snapshot, a bad one only adds its errors to the last good one.

        `changed`: the paths (relative to the source) changed since the last build, when the watcher knows
        them: the content files are then not walked again where those paths tell all (worktree.patch_work_tree)."""
        self.builds += 1
        version = f"{self._nonce}-{self.builds}"
        with self._building:
            result, base_path = self._guarded(changed)
        self._save_when_idle()
        if result.ok:
            self._publish(Snapshot(MappingProxyType(result.outputs), version, base_path, stamp=self._stamp))
        else:
            self._publish(replace(self._snapshot, errors=tuple(d for d in result.diagnostics if d.is_error)))
        return result

    def wait(self, seen: Snapshot | None, timeout: float) -> Snapshot:
        """The snapshot after `seen`, or `seen` again after timeout (or when closed)."""
        with self._changed:
            self._changed.wait_for(lambda: self._snapshot is not seen or self._closed, timeout)
            return self._snapshot

    @contextmanager
    def listening(self) -> Iterator[None]:
        with self._changed:
            self.listeners += 1
        try:
            yield
        finally:
            with self._changed:
                self.listeners -= 1

    def close(self) -> None:
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._idle.cancel()
        self._letting_go.cancel()
        self.save_cache()

    def save_cache(self) -> None:
        """Save what the builds since the last save parsed, for the next start (and the next `build`)."""
        with self._building:
            self._save()

    def _save_when_idle(self) -> None:
        """Save the cache once no rebuild came for a while: a save of 10,000 entries takes 0.2 s, too long to
        add to every rebuild."""
        self._idle.cancel()
        self._idle = threading.Timer(SAVE_WHEN_IDLE, self.save_cache)
        self._idle.daemon = True
        self._idle.start()

    def _guarded(self, changed: set[str] | None) -> tuple[BuildResult, str]:
        """The build, and the base path it was made for. Whatever fails (a file that cannot be opened at the
        open-file limit, a bug) is an error shown over the page, and the engine walks every file again at the next
        build: a change is never lost to an error (issue 21, item 14)."""
        base_path = self._snapshot.base_path
        try:
            base_path = base_path_of(self.source)
            script = live_reload_script(self._stamp, base_path) if self.live_reload else ""
            return self._build(changed, BuildOptions(base_url=base_path, live_reload=script, minute_clock=True)), base_path
        except OSError as exc:
            problem = error("persona-site", 0, f"the content could not be read ({exc.strerror or exc}); "
                                               "the preview tries again at the next save")
        except Exception as exc:  # noqa: BLE001 -- a bug in one build must not end the preview
            traceback.print_exc()
            problem = error("persona-site", 0, f"the build crashed ({type(exc).__name__}: {exc}); "
                                               "this is a bug in persona-site, please report it")
        return BuildResult(Config(), [problem]), base_path

    def _publish(self, snapshot: Snapshot) -> None:
        with self._changed:
            replaced, self._snapshot = self._snapshot, snapshot
            self._changed.notify_all()
        self._retire(replaced)

    def _retire(self, snapshot: Snapshot) -> None:
        """Let the replaced snapshot go a moment after the rebuild, once the page it made is served: what it holds
        alive (the last build's archive, transcripts, lazily made files) takes 10 ms to free at 100,000
        transcripts, 120 ms after the first build. One retired before that moment goes now."""
        self._letting_go.cancel()
        self._retired = snapshot
        self._letting_go = threading.Timer(RETIRE_AFTER, self._let_go)
        self._letting_go.daemon = True
        self._letting_go.start()

    def _let_go(self) -> None:
        with self._building:  # not while a rebuild runs
            self._retired = None


def preview_builder(source: Path) -> tuple[Rebuild, Callable[[], None]]:
    """serve's rebuild callable, over one engine that keeps its work between rebuilds, and its save of the cache.

    A rebuild runs with the collector paused: its passes over what a rebuild makes took 20-40 ms of 160-190 at
    10,000 transcripts, and a rebuild leaves almost nothing in cycles (1-2 MiB over 19 rebuilds), which the
    engine's next full collection takes (PersistentEngine.built, save)."""
    engine = PersistentEngine(source, watching=True)

    def rebuild(changed: set[str] | None, options: BuildOptions) -> BuildResult:
        engine.expect(changed)
        with collector_paused():
            try:
                return build_recovering(source, options, engine)
            finally:
                engine.built()

    return rebuild, engine.save


def base_path_of(source: Path) -> str:
    """The path part of base_url: a full URL (https://example.com/personas/) previews at /personas/."""
    config, _ = load_config(source)
    return urlsplit(config.base_url).path or "/"


def _js(value: str) -> str:
    return json.dumps(value).replace("<", "\\u003c")


_SCRIPT = """<script>/* persona-site serve: live reload; never in a built site */
(function () {
  "use strict";
  var version = %(version)s, url = %(url)s, source = null, timer = null;
  function show(errors) {
    var old = document.getElementById("persona-site-errors");
    if (old) old.remove();
    if (!errors.length) return;
    var box = document.createElement("aside"), list = document.createElement("ul");
    var title = document.createElement("strong"), hide = document.createElement("button");
    box.id = "persona-site-errors";
    box.setAttribute("role", "alert");
    box.style.cssText = "position:fixed;z-index:2147483647;left:1rem;right:1rem;bottom:1rem;max-height:60vh;" +
      "overflow:auto;margin:0;padding:1rem 1.25rem;background:#2b0b0b;color:#fff;border:2px solid #e5484d;" +
      "border-radius:8px;font:14px/1.5 ui-monospace,Menlo,Consolas,monospace;text-align:left";
    title.textContent = "The site did not rebuild. Fix " + (errors.length === 1 ? "this error" :
      "these " + errors.length + " errors") + " and save; until then you see the last good version.";
    list.style.cssText = "margin:.5rem 0 0;padding-left:1.25rem";
    errors.forEach(function (e) {
      var item = document.createElement("li");
      item.textContent = e.path + (e.line ? ":" + e.line : "") + ": " + e.message;
      list.appendChild(item);
    });
    hide.type = "button";
    hide.textContent = "Hide";
    hide.style.cssText = "float:right;margin-left:1rem;font:inherit;cursor:pointer";
    hide.onclick = function () { box.remove(); };
    box.appendChild(hide);
    box.appendChild(title);
    box.appendChild(list);
    document.body.appendChild(box);
  }
  function disconnect() {
    if (source) source.close();
    source = null;
  }
  function connect() {
    if (source || document.hidden) return;
    source = new EventSource(url);
    source.addEventListener("state", function (event) {
      var state = JSON.parse(event.data);
      if (state.version && state.version !== version) {
        disconnect();
        location.reload();
      } else {
        show(state.errors);
      }
    });
    source.onerror = function () {
      // The browser retries by itself, unless it gave up: then try again later.
      if (source && source.readyState === EventSource.CLOSED) {
        source = null;
        clearTimeout(timer);
        timer = setTimeout(connect, 1000);
      }
    };
  }
  // A hidden tab holds no connection (mkdocs#3389); it catches up when shown again.
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) disconnect(); else connect();
  });
  window.addEventListener("pagehide", disconnect);
  window.addEventListener("pageshow", function (event) { if (event.persisted) connect(); });
  connect();
})();
</script>"""


def live_reload_script(version: str, base_path: str) -> Markup:
    """The script a page carries in serve mode: reload on a new build, show errors over the page."""
    return Markup(_SCRIPT % {"version": _js(version), "url": _js(base_path + EVENTS)})
