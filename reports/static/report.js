/* Search, tier/flag filters and column sorting for table.matrix.  No network, no innerHTML. */
(function () {
  "use strict";
  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }

  function applyFilters(table) {
    var search = document.getElementById("search");
    var tier = document.getElementById("tier-filter");
    var flag = document.getElementById("flag-filter");
    var words = search ? search.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var wantTier = tier ? tier.value : "";
    var wantFlag = flag ? flag.value : "";
    var shown = 0, rows = rowsOf(table);
    rows.forEach(function (row) {
      var text = row.getAttribute("data-search") || "";
      var tiers = (row.getAttribute("data-tiers") || "").split(" ");
      var flags = (row.getAttribute("data-flags") || "").split(" ");
      var ok = words.every(function (w) { return text.indexOf(w) !== -1; }) &&
        (!wantTier || tiers.indexOf(wantTier) !== -1) &&
        (!wantFlag || flags.indexOf(wantFlag) !== -1);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    var count = document.getElementById("shown-count");
    if (count) { count.textContent = shown + " of " + rows.length + " shown"; }
  }

  function sortBy(table, header) {
    var col = parseInt(header.getAttribute("data-col"), 10);
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = rowsOf(table);
    function key(row) {
      var cell = row.cells[col];
      var value = cell ? (cell.getAttribute("data-sort") || cell.textContent) : "";
      return numeric ? parseFloat(value) : value.toLowerCase();
    }
    rows.sort(function (a, b) {
      var ka = key(a), kb = key(b);
      var order = ka < kb ? -1 : ka > kb ? 1 : 0;
      return ascending ? order : -order;
    });
    var body = table.tBodies[0];
    rows.forEach(function (row) { body.appendChild(row); });
  }

  document.querySelectorAll("table.matrix").forEach(function (table) {
    table.querySelectorAll("th.sortable").forEach(function (th) {
      th.tabIndex = 0;
      th.addEventListener("click", function () { sortBy(table, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th); }
      });
    });
    ["search", "tier-filter", "flag-filter"].forEach(function (id) {
      var control = document.getElementById(id);
      if (control) { control.addEventListener("input", function () { applyFilters(table); }); }
    });
    applyFilters(table);
  });

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.getAttribute("data-copy"));
      source.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () { document.execCommand("copy"); done(); });
      } else { document.execCommand("copy"); done(); }
    });
  });

  /* Badge snippets: turn the relative badge and page paths into absolute URLs of this site. */
  document.querySelectorAll("textarea[data-badge]").forEach(function (area) {
    if (area.getAttribute("data-absolute") === "true" || location.protocol === "file:") { return; }
    var badge = new URL(area.getAttribute("data-badge"), location.href).href;
    var page = new URL(area.getAttribute("data-page"), location.href).href;
    area.value = "[![" + area.getAttribute("data-alt") + "](" + badge + ")](" + page + ")";
  });
})();
