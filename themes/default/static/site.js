// persona-site: progressive enhancement only; every page works without it.
// What depends on today (N days ago, Fresh/Quiet/Stale, last-30-days counts, the time windows, "New") is counted
// here from the dates in the page, so a site built weeks ago reads right today (issue 19, item 4).
(function () {
  "use strict";
  // The site's clock is clock.js's, which base.html loads first; a theme's base.html from before it does not: then
  // this loads it, from beside itself, and runs once it has (without it, it counts in UTC).
  var here = document.currentScript && document.currentScript.src;
  if (window.personaSiteTime || !here) main();
  else {
    var script = document.createElement("script");
    script.src = new URL("clock.js" + new URL(here).search, here).href;  // its version, as this file's
    script.onload = script.onerror = main;
    document.head.appendChild(script);
  }
function main() {
  var DAY = 86400000;

  // The site's clock (clock.js: wall and instant in the site's zone, as query.py reads them); a theme whose
  // base.html does not load clock.js counts in UTC.
  var clock = window.personaSiteTime || {
    wall: function (ms) {
      var d = new Date(ms);
      return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    },
    instant: function (y, m, d, h, mi, s) { return Date.UTC(y, m - 1, d, h || 0, mi || 0, s || 0); }
  };
  var wall = clock.wall, instant = clock.instant;
  // The instant N days before now on the site's clock: where since=Nd starts (query.py: now - timedelta(days=N)).
  var daysBack = function (days) {
    var w = wall(Date.now());
    return instant(w[0], w[1], w[2] - days, w[3], w[4], w[5]);
  };
  // When a quote was: a date-time in its own offset, or a date's midnight in the site's zone (as the build reads it)
  var instantOf = function (iso) {
    iso = String(iso || "");
    if (iso.length > 10) return Date.parse(iso);
    var p = iso.split("-").map(Number);
    return p.length === 3 && p.every(isFinite) ? instant(p[0], p[1], p[2]) : NaN;
  };
  var each = function (selector, root, fn) { Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn); };

  // Whole days between a day and today. A date-time in a page (a quote's, in its own offset) counts on its day in the
  // site's zone, as the build counts it; a date is that day.
  var dayNumber = function (iso) {  // whole days since 1970 of a date, or of a date-time's day on the site's clock
    iso = String(iso || "");
    var when = iso.length > 10 ? Date.parse(iso) : NaN;
    var p = isFinite(when) ? wall(when) : iso.slice(0, 10).split("-").map(Number);
    return p.length >= 3 && p.every(isFinite) ? Date.UTC(p[0], p[1] - 1, p[2]) / DAY : NaN;
  };
  var todayWall = wall(Date.now());
  var todayNumber = Date.UTC(todayWall[0], todayWall[1] - 1, todayWall[2]) / DAY;
  var daysAgo = function (iso) { return todayNumber - dayNumber(iso); };
  // Where this quarter starts (since=this-quarter): its first day's midnight in the site's zone
  var quarterStart = instant(todayWall[0], Math.floor((todayWall[1] - 1) / 3) * 3 + 1, 1);
  var plural = function (n, word) { return n + " " + word + (n === 1 ? "" : "s"); };

  // When the site was built, and from which commit: in one file, build.json, so a page that did not change is not
  // written again only to say so (issue 22).
  each("[data-built]", null, function (footer) {
    if (!window.fetch) return;
    fetch(footer.getAttribute("data-built"), { cache: "no-cache" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (build) { if (build && build.text) footer.textContent = build.text; })
      .catch(function () {});
  });

  // "Last heard N days ago"
  each("time[data-days]", null, function (time) {
    var days = daysAgo(time.getAttribute("datetime"));
    if (!(days >= 0)) return;
    time.textContent = days === 0 ? "today" : days === 1 ? "yesterday" : days + " days ago";
    time.setAttribute("data-days", String(days));
  });

  // Fresh / Quiet / Stale
  each("[data-freshness]", null, function (badge) {
    var last = badge.getAttribute("data-last");
    if (!last) return;  // never heard from: true on any day
    var days = daysAgo(last), staleAfter = Number(badge.getAttribute("data-stale-after")) || 90;
    var state = days > staleAfter ? "stale" : days <= 30 ? "fresh" : "quiet";
    badge.className = "badge badge-" + state;
    badge.textContent = state.charAt(0).toUpperCase() + state.slice(1);
    var card = badge.closest(".persona-card");
    if (card) card.classList.toggle("is-stale", state === "stale");
  });

  // How many of these quotes since=<days>d finds: "1793059200x3 1792800000" is three quotes at one instant (seconds
  // since 1970: a date's quotes share its midnight) and one at another (render.instant_counts writes them).
  var countWithin = function (list, days) {
    var since = daysBack(days);
    return (list || "").split(" ").filter(Boolean).reduce(function (n, item) {
      var parts = item.split("x");
      return n + (Number(parts[0]) * 1000 >= since ? Number(parts[1] || 1) : 0);
    }, 0);
  };

  // Quotes in the last 30 days, on the index (from the dates each card carries)
  each("a[data-recent-dates]", null, function (link) {
    link.textContent = plural(countWithin(link.getAttribute("data-recent-dates"), 30), "quote");
  });
  // ... and on a persona page, from all of them (its cards are only the latest, up to 200)
  each("[data-recent-count][data-recent-dates]", null, function (count) {
    count.textContent = String(countWithin(count.getAttribute("data-recent-dates"), 30));
  });

  // The tags index: each persona's quotes per tag in the last N days (data-days), from the days each cell carries.
  each("table[data-days]", null, function (grid) {
    var days = Number(grid.getAttribute("data-days"));
    each("a[data-dates]", grid, function (link) {
      var n = countWithin(link.getAttribute("data-dates"), days);
      link.textContent = String(n);
      link.setAttribute("aria-label", (link.getAttribute("aria-label") || "").replace(/\d+ quotes?$/, plural(n, "quote")));
      link.parentNode.classList.toggle("zero", !n);
    });
  });

  // Counted from today: the "as of <build date>" notes are no longer needed.
  each(".as-of", null, function (note) { note.hidden = true; });

  // The persona page: time windows, the tag filter (counts true for the window shown), the status line.
  var filter = document.querySelector("[data-filter]");
  var list = document.querySelector(".persona-quotes .quotes");
  var cards = list ? Array.prototype.slice.call(list.querySelectorAll("[data-quote-id]")) : [];
  var recent = document.querySelector(".persona-status [data-recent-count]");
  // Each card's instant, and where the last 30 days start: read once, not each time a window counts its cards
  var cardTimes = cards.map(function (c) { return instantOf(c.getAttribute("data-date")); });
  var monthBack = daysBack(30);
  var inLast30 = function (c, i) { return cardTimes[i] >= monthBack; };
  if (recent && !recent.hasAttribute("data-recent-dates")) {  // a theme's older persona.html: its cards
    recent.textContent = String(cards.filter(inLast30).length);
  }
  if (filter && list) {
    var status = document.querySelector(".filter-status");
    var windows = document.querySelector("[data-windows]");
    var buttons = windows ? Array.prototype.slice.call(windows.querySelectorAll("button[data-window]")) : [];
    var links = Array.prototype.slice.call(filter.querySelectorAll("a[data-tag]"));
    var onTagPage = links.some(function (a) { return a.getAttribute("data-tag") && a.getAttribute("aria-current"); });
    var limit = cards.filter(function (c) { return !c.hasAttribute("data-extra"); }).length;
    var label = function (el) { return el.firstChild.textContent.trim(); };
    var WINDOWS = {
      "30d": { name: "the last 30 days", test: inLast30 },
      quarter: { name: "this quarter", test: function (c, i) { return cardTimes[i] >= quarterStart; } },
      latest: { name: "the latest " + limit, test: function (c, i) { return i < limit; } }
    };
    var inWindow = function (name) { return cards.filter(function (c, i) { return WINDOWS[name].test(c, i); }); };
    var hasTag = function (card, tag) { return (card.getAttribute("data-tags") || "").split(" ").indexOf(tag) !== -1; };
    var current = { window: "latest", tag: "" };

    var apply = function (windowName, tag) {
      if (!WINDOWS[windowName] || !buttons.length) windowName = "latest";
      var chosen = links.filter(function (link) { return link.getAttribute("data-tag") === tag; })[0];
      if (!chosen) { tag = ""; chosen = links[0]; }
      current = { window: windowName, tag: tag };
      var pool = inWindow(windowName), shown = 0;
      cards.forEach(function (card) {
        var show = pool.indexOf(card) !== -1 && (!tag || hasTag(card, tag));
        card.hidden = !show;
        if (show) shown += 1;
      });
      buttons.forEach(function (b) {
        var name = b.getAttribute("data-window");
        b.setAttribute("aria-pressed", String(name === windowName));
        var count = b.querySelector(".count");
        if (count) count.textContent = String(inWindow(name).length);
      });
      links.forEach(function (link) {
        var t = link.getAttribute("data-tag");
        if (!onTagPage) {
          link.querySelector(".count").textContent = String(t ? pool.filter(function (c) { return hasTag(c, t); }).length : pool.length);
        }
        if (link === chosen) link.setAttribute("aria-current", "true");  // the chosen filter, not another page
        else link.removeAttribute("aria-current");
      });
      if (!status) return;
      status.textContent = "";
      var say = function (text) { status.appendChild(document.createTextNode(text)); };
      if (!pool.length) {
        say("No quotes in " + WINDOWS[windowName].name + ". ");
        var back = document.createElement("button");
        back.type = "button";
        back.className = "linkish";
        back.textContent = "Show the latest " + limit;
        back.addEventListener("click", function () { choose("latest", ""); });
        status.appendChild(back);
      } else if (tag) {
        say(shown + " of the " + plural(pool.length, "quote") + " in " + WINDOWS[windowName].name + " " +
            (shown === 1 ? "is" : "are") + " tagged " + label(chosen) + ".");
        // The tag's own page lists as many of the tag's latest quotes as this page lists in all.
        var there = Math.min(Number(chosen.getAttribute("data-total")) || 0, limit);
        if (there > shown) {
          var more = document.createElement("a");
          more.href = chosen.href;
          more.textContent = "The latest " + there + " " + label(chosen).toLowerCase() + " quotes";
          say(" ");
          status.appendChild(more);
        }
      }
    };
    var address = function (windowName, tag) {
      var parts = [];
      if (windowName !== "latest") parts.push("window=" + windowName);
      if (tag) parts.push("tag=" + tag);
      return window.location.pathname + window.location.search + (parts.length ? "#" + parts.join("&") : "");
    };
    var choose = function (windowName, tag) {
      var there = address(windowName, tag);
      if (there !== window.location.pathname + window.location.search + window.location.hash) window.history.pushState(null, "", there);
      apply(windowName, tag);
    };
    var fromAddress = function () {
      var found = {};
      window.location.hash.replace(/^#/, "").split("&").forEach(function (pair) {
        var kv = pair.split("=");
        if (kv.length === 2 && /^[\w-]+$/.test(kv[1])) found[kv[0]] = kv[1];
      });
      apply(found.window || "latest", found.tag || "");
    };
    if (!onTagPage) {
      if (windows) windows.hidden = false;
      buttons.forEach(function (b) {
        b.addEventListener("click", function () { choose(b.getAttribute("data-window"), current.tag); });
      });
      links.forEach(function (link) {
        link.addEventListener("click", function (event) {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
          event.preventDefault();
          choose(current.window, link.getAttribute("data-tag"));
        });
      });
      window.addEventListener("popstate", fromAddress);
      fromAddress();
    }
  }

  // "New": added since this reader's last visit to this page (on a first visit: the last 7 days).
  (function () {
    var key = "persona-site:last-visit:" + window.location.pathname, store = null, before = null;
    try { store = window.localStorage; before = Number(store.getItem(key)) || null; } catch (e) { store = null; }
    var since = before || Date.now() - 7 * DAY, marked = 0;
    each(".quote-card[data-added]", null, function (card) {
      var added = Date.parse(card.getAttribute("data-added"));
      if (!(added > since) || added > Date.now() + DAY) return;
      var badge = document.createElement("span");
      badge.className = "badge badge-new";
      badge.textContent = "New";
      badge.title = before ? "Added since your last visit to this page" : "Added in the last 7 days";
      var caption = card.querySelector("figcaption");
      if (caption) caption.insertBefore(badge, caption.firstChild);
      marked += 1;
    });
    each(".new-key", null, function (note) { note.hidden = !marked; });
    if (store) { try { store.setItem(key, String(Date.now())); } catch (e) { /* private mode: no memory */ } }
  })();

  // Copy a quote with who said it and its link in context, for Slack and decks. One listener for the page: the
  // query page adds its cards (query.js) after this has run.
  var copy = function (button) {
    var card = button.closest(".quote-card");
    var words = card.querySelector("blockquote").textContent.replace(/\s+/g, " ").trim();
    var date = card.querySelector("time");
    var context = card.querySelector("a.context");
    var text = "“" + words + "” (" + card.getAttribute("data-cite") + (date ? ", " + date.textContent : "") + ")" +
      (context ? "\n" + context.href : "");
    var done = function () {
      var was = button.firstChild.textContent;
      button.firstChild.textContent = "Copied";
      setTimeout(function () { button.firstChild.textContent = was; }, 2000);
    };
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed"; area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); done(); } catch (e) { /* nothing more to try */ }
      area.remove();
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  };
  each(".quote-card [data-copy]", null, function (button) { button.hidden = false; });
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest(".quote-card [data-copy]");
    if (button) copy(button);
  });
}
})();
