// persona-site: the site's clock, for site.js (every page) and query.js (the query page). wall(ms) is
// [y, m, d, h, mi, s] in the site's zone at an instant; instant(y, m, d, h, mi, s) the instant of a wall-clock time
// there (months and days may overflow: they fold into the next). A time a clock change skips or repeats is read as
// Python reads it (fold=0): with the offset before the change, and the earlier of the two. One clock for both, so a
// count on a page and the query its link opens agree (generator/persona_site/query.py has the rules).
(function () {
  "use strict";
  if (window.personaSiteTime) return;  // loaded twice (the query page asks for it too): once is enough
  var DAY = 86400000;
  var zone = document.body.getAttribute("data-timezone") || "UTC";  // deferred: the body is there
  // Date.UTC with years 0-99 as written (Date.UTC reads 98 as 1998)
  var utc = function (y, m, d, h, mi, s) {
    var when = new Date(0);
    when.setUTCFullYear(y, m - 1, d);
    when.setUTCHours(h || 0, mi || 0, s || 0, 0);
    return when.getTime();
  };
  var clockParts = (function () {
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric",
        day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    } catch (e) {
      return null;  // a zone this browser does not know: UTC
    }
  })();
  var wall = function (ms) {
    if (!clockParts) {
      var d = new Date(ms);
      return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    }
    var out = {};
    clockParts.formatToParts(new Date(ms)).forEach(function (p) { out[p.type] = Number(p.value); });
    return [out.year, out.month, out.day, out.hour % 24, out.minute, out.second];
  };
  var offsetAt = function (ms) {
    var w = wall(ms);
    return utc(w[0], w[1], w[2], w[3], w[4], w[5]) - Math.floor(ms / 1000) * 1000;
  };
  var instant = function (y, m, d, h, mi, s) {
    var asUtc = utc(y, m, d, h, mi, s);
    var before = offsetAt(asUtc - DAY), after = offsetAt(asUtc + DAY);  // no zone changes its offset twice a day
    var early = asUtc - before, late = asUtc - after;
    var earlyReads = offsetAt(early) === before, lateReads = offsetAt(late) === after;
    if (earlyReads && lateReads) return Math.min(early, late);  // the same, or a repeated time: the earlier
    return lateReads ? late : early;  // a skipped time: the offset before the change
  };
  window.personaSiteTime = { wall: wall, instant: instant, utc: utc };
})();
