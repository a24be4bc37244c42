// persona-site: the query page (quotes/). The same meaning of a query as `persona-site quotes`: this file follows
// generator/persona_site/query.py rule for rule, and tests/test_query_browser.py runs a table of queries both ways.
// Data: data/quotes/index.json (months and counts), then data/quotes/<yyyy-mm>.json newest first, only the months
// the time window touches, stopping as soon as the page of results can be shown (querydata.py has the format).
// The site's clock (wall, instant) is clock.js's, which quotes.html loads before this file; a theme's quotes.html
// from before it does not: then this loads it, from beside itself, and runs once it has.
(function () {
  "use strict";
  var here = document.currentScript && document.currentScript.src;
  if (window.personaSiteTime || !here) main();
  else {
    var script = document.createElement("script");
    script.src = new URL("clock.js" + new URL(here).search, here).href;  // its version, as this file's
    script.onload = main;
    document.head.appendChild(script);
  }
function main() {
  var form = document.querySelector("form[data-query]");
  if (!form) return;
  var PAGE = 50;
  var base = form.getAttribute("data-base") || "/";
  var dataFolder = new URL("../data/quotes/", window.location.href);  // relative: works under any base_url
  var results = document.getElementById("results");
  var status = document.getElementById("query-status");
  var more = document.getElementById("more");
  var roleSelect = form.elements.role;
  var tagBoxes = Array.prototype.slice.call(form.querySelectorAll("input[name=tag]"));
  var companyInput = form.elements.company || null;

  // ---- Time, in the site's zone (query.py: period) ----
  var wall = window.personaSiteTime.wall, instant = window.personaSiteTime.instant, utc = window.personaSiteTime.utc;
  function daysIn(y, m) { return new Date(utc(y, m + 1, 0)).getUTCDate(); }
  function addMonths(w, n) {  // the same wall time n calendar months away; the 31st becomes the month's last day
    var index = w[0] * 12 + (w[1] - 1) + n;
    var y = Math.floor(index / 12), m = index - y * 12 + 1;
    return [y, m, Math.min(w[2], daysIn(y, m)), w[3], w[4], w[5]];
  }
  function at(w) { return instant(w[0], w[1], w[2], w[3], w[4], w[5]); }
  var TIME_HELP = "use 30d, 2w, 3m, this-month, last-month, this-quarter, last-quarter, this-year, 2026, 2026-11 or 2026-11-15";
  function period(word, now) {  // [start, end) in ms, or throws
    word = word.trim().toLowerCase();
    var w = wall(now), found;
    if ((found = /^(\d{1,4})([dwm])$/.exec(word))) {
      var n = Number(found[1]);
      if (found[2] === "m") {
        if (n >= w[0] * 12) throw new Error("'" + word + "' reaches back before the year 1: " + TIME_HELP);
        return [at(addMonths(w, -n)), now];
      }
      var days = n * (found[2] === "w" ? 7 : 1);
      return [instant(w[0], w[1], w[2] - days, w[3], w[4], w[5]), now];
    }
    var month = [w[0], w[1], 1, 0, 0, 0];
    var quarter = [w[0], 3 * Math.floor((w[1] - 1) / 3) + 1, 1, 0, 0, 0];
    var named = {
      "this-month": [month, addMonths(month, 1)],
      "last-month": [addMonths(month, -1), month],
      "this-quarter": [quarter, addMonths(quarter, 3)],
      "last-quarter": [addMonths(quarter, -3), quarter],
      "this-year": [[w[0], 1, 1, 0, 0, 0], [w[0] + 1, 1, 1, 0, 0, 0]]
    };
    if (Object.prototype.hasOwnProperty.call(named, word)) return [at(named[word][0]), at(named[word][1])];
    if ((found = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(word))) {
      var y = Number(found[1]);
      if (y < 1) { /* the year 0: not a date */ }
      else if (found[3] !== undefined) {
        var mo = Number(found[2]), d = Number(found[3]);
        if (mo >= 1 && mo <= 12 && d >= 1 && d <= daysIn(y, mo)) return [instant(y, mo, d), instant(y, mo, d + 1)];
      } else if (found[2] !== undefined) {
        var m2 = Number(found[2]);
        if (m2 >= 1 && m2 <= 12) return [instant(y, m2, 1), instant(y, m2 + 1, 1)];
      } else {
        return [instant(y, 1, 1), instant(y + 1, 1, 1)];
      }
    }
    throw new Error("'" + word + "' is not a time: " + TIME_HELP);
  }

  // ---- Matching (query.py: fold, same_company, Query.matcher) ----
  function fold(text) { return text.toLowerCase().replace(/[’‘ʼ]/g, "'").normalize("NFKD").replace(/\p{M}/gu, ""); }
  var QUOTE_MARKS = /^["'“”„«»]+|["'“”„«»]+$/g;  // query.py: _QUOTE_MARKS, off a searched word's ends
  function sameCompany(a, b) { return a.normalize("NFC").toLowerCase() === b.normalize("NFC").toLowerCase(); }
  function matcher(query, now) {
    var low = query.since ? period(query.since, now)[0] : null;
    var high = query.until ? period(query.until, now)[1] : null;
    var words = fold(query.q || "").split(/\s+/).map(function (w) { return w.replace(QUOTE_MARKS, ""); }).filter(Boolean);
    return {
      low: low, high: high,
      test: function (role, tags, when, company, text) {
        if (query.role && role !== query.role) return false;
        if (query.tags.length && !query.tags.some(function (t) { return tags.indexOf(t) !== -1; })) return false;
        if ((low !== null && when < low) || (high !== null && when >= high)) return false;
        if (query.company && (company === null || !sameCompany(company, query.company))) return false;
        if (words.length) {
          var haystack = fold(text + "\n" + (company || ""));
          return words.every(function (word) { return haystack.indexOf(word) !== -1; });
        }
        return true;
      }
    };
  }

  // ---- The address <-> the form ----
  function aliasOf(value) {
    var options = Array.prototype.slice.call(roleSelect.options);
    var found = options.filter(function (o) {
      return o.value === value || (o.getAttribute("data-aliases") || "").split(" ").indexOf(value) !== -1;
    })[0];
    return found ? found.value : value;
  }
  function fromAddress() {
    var params = new URLSearchParams(window.location.search);
    return {
      role: params.get("role") ? aliasOf(params.get("role")) : "", tags: params.getAll("tag").filter(Boolean),
      since: params.get("since") || "", until: params.get("until") || "",
      company: companyInput ? params.get("company") || "" : "", q: params.get("q") || "",
      withheld: !companyInput && Boolean(params.get("company"))  // asked for a company where none is published
    };
  }
  function fromForm() {
    return {
      role: roleSelect.value, tags: tagBoxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; }),
      since: form.elements.since.value.trim(), until: form.elements.until.value.trim(),
      company: companyInput ? companyInput.value.trim() : "", q: form.elements.q.value.trim()
    };
  }
  function fill(query) {
    if (query.role && !Array.prototype.some.call(roleSelect.options, function (o) { return o.value === query.role; })) {
      var unknown = document.createElement("option");  // a role this site does not have: shown, and it finds nothing
      unknown.value = unknown.textContent = query.role;
      roleSelect.appendChild(unknown);
    }
    roleSelect.value = query.role;
    tagBoxes.forEach(function (b) { b.checked = query.tags.indexOf(b.value) !== -1; });
    form.elements.since.value = query.since;
    form.elements.until.value = query.until;
    if (companyInput) companyInput.value = query.company;
    form.elements.q.value = query.q;
  }
  function address(query) {  // the order query.py's Query.address writes
    var params = new URLSearchParams();
    if (query.role) params.append("role", query.role);
    query.tags.forEach(function (t) { params.append("tag", t); });
    ["since", "until", "company", "q"].forEach(function (key) { if (query[key]) params.append(key, query[key]); });
    var text = params.toString();
    return window.location.pathname + (text ? "?" + text : "");
  }

  // ---- Data ----
  var manifest = null;
  var shards = {};  // month -> promise of its decoded rows
  function getJson(name) {
    return fetch(new URL(name, dataFolder).href).then(function (response) {
      if (!response.ok) throw new Error(name + ": " + response.status);
      return response.json();
    });
  }
  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }
  function decode(shard) {
    var y = Number(shard.month.slice(0, 4)), m = Number(shard.month.slice(5, 7));
    var list = function (name) { return shard[name] || []; };
    var roles = list("roles"), tags = list("tags"), companies = list("companies"), pages = list("transcripts"), people = list("people");
    return shard.quotes.map(function (row) {
      var date = row[1];
      var plain = typeof date === "number";
      var at = function (i, fallback) { return row.length > i ? row[i] : fallback; };
      var company = at(4, -1);
      return {
        id: row[0], month: shard.month, role: roles[row[2]], tags: tags[row[3]].split(" "),
        when: plain ? instant(y, m, date) : Date.parse(date),
        date: plain ? shard.month + "-" + (date < 10 ? "0" : "") + date : date, plainDate: plain,
        company: company === -1 ? null : companies[company], text: row[5],
        html: at(6, 0) === 0 ? escapeHtml(row[5]) : row[6], timestamp: at(7, 0) || null,
        page: at(8, -1) === -1 ? null : pages[row[8]],
        speaker: at(9, -1) === -1 ? null : people[row[9]], title: at(10, -1) === -1 ? null : people[row[10]]
      };
    });
  }
  function shard(month) {
    if (!shards[month]) {
      shards[month] = getJson(month + ".json").then(decode);
      shards[month].catch(function () { delete shards[month]; });  // a failed load is tried again next time
    }
    return shards[month];
  }

  // ---- Showing results ----
  var tagLabels = {};
  tagBoxes.forEach(function (b) { tagLabels[b.value] = form.querySelector("label[for='" + b.id + "']").textContent; });
  var roleTitles = {};
  Array.prototype.forEach.call(roleSelect.options, function (o) { if (o.value) roleTitles[o.value] = o.textContent; });
  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  function el(name, attributes, children) {
    var node = document.createElement(name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }
  // The quote as on every page of many personas: _macros.html's quote_card(q, show_role=true), element for element
  // (tests/test_query_browser.py compares the two), but for data-added: the shards do not hold when a quote came
  // into the archive, and "New" is for the pages a reader comes back to. The copy button is site.js's.
  function card(q) {
    var roleTitle = roleTitles[q.role] || q.role;
    var who = [roleTitle];
    if (q.speaker) who = [q.speaker + (q.title ? ", " + q.title : ""), roleTitle];
    if (q.company) who.push(q.company);
    var cite = [q.speaker, q.title || roleTitle, q.company].filter(Boolean).join(", ");
    var w = q.plainDate ? q.date.split("-").map(Number) : wall(q.when);
    var shown = w[2] + " " + MONTHS[w[1] - 1] + " " + w[0];
    var context = base + (q.page || "personas/" + q.role + "/" + q.month + "/") + "#" + q.id;
    var meta = el("span", { "class": "meta" }, [el("time", { datetime: q.date }, [shown])]);
    if (q.timestamp) meta.append(" · ", el("span", { "class": "stamp", title: "Time in the recording" }, [q.timestamp]));
    var text = el("p");
    text.innerHTML = q.html;  // the inline rendering the build made, raw HTML escaped (as on every page)
    var caption = el("figcaption", {}, [el("a", { "class": "who", href: base + "personas/" + q.role + "/" }, [roleTitle])]);
    if (q.speaker) caption.append(el("span", { "class": "who" }, [q.speaker]));
    if (q.title && q.title !== roleTitle) caption.append(el("span", { "class": "who" }, [q.title]));
    if (q.company) caption.append(el("span", { "class": "company" }, [q.company]));
    caption.append(meta, el("ul", { "class": "chips", "aria-label": "Tags" }, q.tags.map(function (t) {
      return el("li", {}, [el("a", { "class": "chip chip-" + t, href: base + "tags/" + t + "/" }, [tagLabels[t] || t])]);
    })), el("a", { "class": "context", href: context }, ["in context",
      el("span", { "class": "visually-hidden" }, [" (the quote of " + who.join(" · ") + ", " + shown + ")"])]),
    el("button", { type: "button", "class": "copy", "data-copy": "" }, ["Copy",
      el("span", { "class": "visually-hidden" }, [" the quote with who said it and a link"])]));
    return el("li", { "class": "quote-card", id: q.id, "data-quote-id": q.id, "data-tags": q.tags.join(" "),
      "data-date": q.date, "data-cite": cite }, [el("figure", {}, [el("blockquote", { dir: "auto" }, [text]), caption])]);
  }
  function monthName(key) { return MONTHS[Number(key.slice(5, 7)) - 1] + " " + key.slice(0, 4); }
  function plural(n, word) { return n.toLocaleString("en") + " " + word + (n === 1 ? "" : "s"); }

  // ---- Running a query ----
  var run = null;  // the query being shown: {query, months, next, found, limit, done}
  function setBusy(busy) { results.setAttribute("aria-busy", busy ? "true" : "false"); }
  function render() {
    var shown = results.children.length;
    var want = Math.min(run.limit, run.found.length);
    var batch = document.createDocumentFragment();
    for (var i = shown; i < want; i++) batch.appendChild(card(run.found[i]));
    results.appendChild(batch);
    results.setAttribute("data-count", String(run.found.length));
    var complete = run.next >= run.months.length;
    var count = run.found.length;
    var text;
    if (!complete && count < run.limit) text = count ? plural(count, "quote") + " so far, searching older months…" : "Searching…";
    else if (!count) text = "No quotes match. Try fewer words, more tags, or a longer time.";
    else if (complete) text = plural(count, "quote") + (count > want ? ", showing the newest " + want.toLocaleString("en") : "") + ".";
    else text = "Showing the newest " + want.toLocaleString("en") + " of at least " + plural(count, "quote")
      + " (searched back to " + monthName(run.months[run.next - 1]) + ").";
    status.textContent = text;
    more.hidden = !(count > want || (!complete && count >= run.limit));
  }
  function pump(current) {
    if (run !== current) return;  // a newer query replaced this one
    if (current.found.length >= current.limit || current.next >= current.months.length) {
      render();
      setBusy(false);
      return;
    }
    setBusy(true);
    render();
    var month = current.months[current.next];
    shard(month).then(function (rows) {
      if (run !== current) return;
      rows.forEach(function (q) {
        if (current.matches.test(q.role, q.tags, q.when, q.company, q.text)) current.found.push(q);
      });
      current.next += 1;
      pump(current);
    }, function (error) {
      if (run !== current) return;
      setBusy(false);
      status.textContent = "The quotes of " + monthName(month) + " could not be loaded (" + error.message + "). Reload to try again.";
    });
  }
  function fieldError(name, message) {
    var input = form.elements[name];
    var note = document.getElementById("q-" + name + "-error");
    if (message) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    note.textContent = message || "";
    note.hidden = !message;
  }
  function start(query) {
    fill(query);
    results.textContent = "";
    var now = Math.floor(Date.now() / 1000) * 1000;
    var matches;
    var bad = false;
    ["since", "until"].forEach(function (name) {
      try { if (query[name]) period(query[name], now); fieldError(name, ""); }
      catch (error) { fieldError(name, error.message); bad = true; }
    });
    // What `persona-site quotes` refuses as a usage error, the page does not search for either: it says why.
    var unknown = query.tags.filter(function (t) { return !Object.prototype.hasOwnProperty.call(tagLabels, t); });
    var refused = [];
    var quoted = function (names) { return names.map(function (n) { return "'" + n + "'"; }).join(" or "); };
    if (query.role && !Object.prototype.hasOwnProperty.call(roleTitles, query.role)) {
      refused.push("This site has no persona " + quoted([query.role]) + ": its personas are " +
        Object.keys(roleTitles).join(", ") + ".");
    }
    if (unknown.length) {
      refused.push("This site has no tag " + quoted(unknown) + ": its tags are " + Object.keys(tagLabels).join(", ") + ".");
    }
    if (query.withheld) refused.push("Companies are not published on this site, so a search cannot ask for one.");
    if (bad || refused.length) {
      run = null;
      setBusy(false);
      results.setAttribute("data-count", "0");
      more.hidden = true;
      status.textContent = bad ? "Fix the time above to search." : refused.join(" ");
      return;
    }
    matches = matcher(query, now);
    var first = matches.low === null ? null : wall(matches.low);
    var last = matches.high === null ? null : wall(matches.high - 1);
    var key = function (w) { return w[0] + "-" + (w[1] < 10 ? "0" : "") + w[1]; };
    var months = manifest.months.map(function (m) { return m.month; }).filter(function (month) {
      return (first === null || month >= key(first)) && (last === null || month <= key(last));
    });
    run = { query: query, months: months, next: 0, found: [], limit: PAGE, matches: matches };
    pump(run);
  }
  function go(query) {
    var target = address(query);
    if (target !== window.location.pathname + window.location.search) window.history.pushState(null, "", target);
    start(query);
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); go(fromForm()); });
  form.addEventListener("change", function (event) {
    if (event.target.name === "q") return;  // words are searched on Enter or the button, not on every blur
    go(fromForm());
  });
  more.addEventListener("click", function () {
    if (!run) return;
    run.limit += PAGE;
    var first = results.children.length;
    pump(run);
    var next = results.children[first];  // move focus to the first new quote's link, for keyboards and readers
    if (next) { var link = next.querySelector("a"); if (link) link.focus({ preventScroll: true }); }
  });
  window.addEventListener("popstate", function () { if (manifest) start(fromAddress()); });

  fill(fromAddress());
  getJson("index.json").then(function (data) {
    manifest = data;
    if (companyInput && data.companies) {
      var list = document.getElementById("q-companies");
      data.companies.forEach(function (name) { list.appendChild(el("option", { value: name })); });
    }
    start(fromAddress());
  }, function (error) {
    setBusy(false);
    status.textContent = "The quotes could not be loaded (" + error.message + "). Reload to try again.";
  });
}
})();
