// persona-site: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Tag filter on a persona page: filter the listed quotes in place, no server needed. The chips stay links to the
  // persona's tag pages (without JavaScript, and with a modifier key, they open them); the choice is kept in the
  // address (#tag=pain), so reload, Back and a shared link keep it; the status links to the tag's own page, which
  // lists more of the tag's quotes than the few among the latest ones shown here.
  var filter = document.querySelector("[data-filter]");
  var list = document.querySelector(".persona-quotes .quotes");
  if (filter && list) {
    var status = document.querySelector(".filter-status");
    var heading = document.getElementById("quotes-heading");
    var allHeading = heading ? heading.textContent : "";
    var cards = Array.prototype.slice.call(list.querySelectorAll("[data-quote-id]"));
    var links = Array.prototype.slice.call(filter.querySelectorAll("a[data-tag]"));
    var onTagPage = links.some(function (a) { return a.getAttribute("data-tag") && a.getAttribute("aria-current"); });
    var label = function (link) { return link.firstChild.textContent.trim(); };
    var apply = function (tag) {
      var chosen = links.filter(function (link) { return link.getAttribute("data-tag") === tag; })[0];
      if (!chosen) { tag = ""; chosen = links[0]; }
      var shown = 0;
      cards.forEach(function (card) {
        var show = !tag || (card.getAttribute("data-tags") || "").split(" ").indexOf(tag) !== -1;
        card.hidden = !show;
        if (show) shown += 1;
      });
      links.forEach(function (link) {
        if (link === chosen) link.setAttribute("aria-current", "true");  // the chosen filter, not another page
        else link.removeAttribute("aria-current");
      });
      if (heading) heading.textContent = tag ? "Latest " + label(chosen).toLowerCase() + " quotes" : allHeading;
      if (status) {
        status.textContent = "";
        if (tag) {
          status.appendChild(document.createTextNode(
            shown + " of the " + cards.length + " latest quotes " + (shown === 1 ? "is" : "are") + " tagged " + label(chosen) + "."));
          // The tag's own page lists as many of the tag's latest quotes as this page lists in all.
          var count = chosen.querySelector(".count");
          var there = Math.min(count ? Number(count.textContent) || 0 : 0, cards.length);
          if (there > shown) {
            var more = document.createElement("a");
            more.href = chosen.href;
            more.textContent = "The latest " + there + " " + label(chosen).toLowerCase() + " quotes";
            status.appendChild(document.createTextNode(" "));
            status.appendChild(more);
          }
        }
      }
    };
    var fromAddress = function () {
      var found = /^#tag=([\w-]+)$/.exec(window.location.hash);
      apply(found ? found[1] : "");
    };
    if (!onTagPage) {
      links.forEach(function (link) {
        link.addEventListener("click", function (event) {
          if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || event.button !== 0) return;
          event.preventDefault();
          var tag = link.getAttribute("data-tag");
          var address = window.location.pathname + window.location.search + (tag ? "#tag=" + tag : "");
          if (address !== window.location.pathname + window.location.search + window.location.hash) {
            window.history.pushState(null, "", address);
          }
          apply(tag);
        });
      });
      window.addEventListener("popstate", fromAddress);
      if (window.location.hash) fromAddress();
    }
  }
})();

// "Last heard N days ago" was true when the site was built; a page opened days later says so.
(function () {
  "use strict";
  var times = document.querySelectorAll("time[data-days]");
  var today = new Date();
  var todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  Array.prototype.forEach.call(times, function (time) {
    var parts = (time.getAttribute("datetime") || "").split("-").map(Number);
    if (parts.length !== 3) return;
    var days = Math.round((todayUtc - Date.UTC(parts[0], parts[1] - 1, parts[2])) / 86400000);
    if (!(days > Number(time.getAttribute("data-days")))) return;  // only ever later than the build
    time.textContent = days === 1 ? "yesterday" : days + " days ago";
  });
})();
