// persona-site: progressive enhancement only; every page works without it.
(function () {
  "use strict";
  // Tag filter on a persona page: filter the listed quotes in place, no server needed.
  var filter = document.querySelector("[data-filter]");
  var list = document.querySelector(".persona-quotes .quotes");
  if (filter && list) {
    var status = document.querySelector(".filter-status");
    var cards = Array.prototype.slice.call(list.querySelectorAll("[data-quote-id]"));
    var links = Array.prototype.slice.call(filter.querySelectorAll("a[data-tag]"));
    var onTagPage = links.some(function (a) { return a.getAttribute("data-tag") && a.getAttribute("aria-current"); });
    if (!onTagPage) {
      links.forEach(function (link) {
        link.addEventListener("click", function (event) {
          if (event.metaKey || event.ctrlKey || event.shiftKey) return;
          event.preventDefault();
          var tag = link.getAttribute("data-tag");
          var shown = 0;
          cards.forEach(function (card) {
            var tags = (card.getAttribute("data-tags") || "").split(" ");
            var show = !tag || tags.indexOf(tag) !== -1;
            card.hidden = !show;
            if (show) shown += 1;
          });
          links.forEach(function (other) {
            if (other === link) other.setAttribute("aria-current", "page");
            else other.removeAttribute("aria-current");
          });
          if (status) {
            status.textContent = tag
              ? shown + " of the " + cards.length + " latest quotes are tagged " + link.firstChild.textContent.trim() + ". The tag's own page lists more."
              : "";
          }
        });
      });
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
