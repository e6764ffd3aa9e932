/* frontierbench site: shared helpers. Data from records only ever reaches the page through
   textContent, attribute setters or escaped Plotly text, never through innerHTML. */
(function () {
  "use strict";

  var FB = {};

  FB.readData = function (id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };

  /* el("a", {href: "x", class: "y"}, "text", [children]) */
  FB.el = function (tag, attrs, text, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, String(attrs[key]));
      });
    }
    if (text !== null && text !== undefined) node.textContent = String(text);
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  };

  /* Plotly parses a small HTML subset in labels; escape so names show as typed. */
  FB.plotlyText = function (s) {
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  };

  var PREFIXES = {
    "s": [[1, "s"], [1e-3, "ms"], [1e-6, "\u00b5s"], [1e-9, "ns"]],
    "J": [[1e6, "MJ"], [1e3, "kJ"], [1, "J"], [1e-3, "mJ"], [1e-6, "\u00b5J"]],
    "W": [[1e3, "kW"], [1, "W"], [1e-3, "mW"]],
    "gCO2e": [[1e6, "tCO2e"], [1e3, "kgCO2e"], [1, "gCO2e"], [1e-3, "mgCO2e"], [1e-6, "\u00b5gCO2e"]],
    "B": [[Math.pow(2, 40), "TiB"], [Math.pow(2, 30), "GiB"], [Math.pow(2, 20), "MiB"], [1024, "KiB"], [1, "B"]],
    "items/s": [[1e9, "G items/s"], [1e6, "M items/s"], [1e3, "k items/s"], [1, "items/s"]]
  };

  FB.scale = function (value, unit) {
    var steps = PREFIXES[unit];
    if (!steps) return [1, unit || ""];
    var magnitude = Math.abs(value);
    for (var i = 0; i < steps.length; i++) {
      if (magnitude >= steps[i][0]) return steps[i];
    }
    return steps[steps.length - 1];
  };

  function digits(x) {
    if (x === 0) return "0";
    var a = Math.abs(x);
    var text = (a >= 1e5 || a < 1e-3) ? x.toPrecision(3) : x.toPrecision(4);
    if (text.indexOf("e") < 0 && text.indexOf(".") >= 0) text = text.replace(/0+$/, "").replace(/\.$/, "");
    return text;
  }

  /* "412 ms [405, 431]" */
  FB.format = function (value, unit, low, high) {
    if (value === null || value === undefined) return "\u2014";
    var s = FB.scale(value, unit);
    var text = (digits(value / s[0]) + " " + s[1]).trim();
    if (low !== null && low !== undefined && high !== null && high !== undefined) {
      text += " [" + digits(low / s[0]) + ", " + digits(high / s[0]) + "]";
    }
    return text;
  };

  /* Sortable tables: a button in each header; cells may carry data-sort (numbers sort numerically,
     empty values sort last in either direction). */
  function cellKey(cell) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (raw === "" || raw === "\u2014") return { empty: true };
    var number = Number(raw);
    return isNaN(number) ? { text: raw.toLowerCase() } : { number: number };
  }

  function compareKeys(a, b) {
    if (a.empty || b.empty) return a.empty && b.empty ? 0 : (a.empty ? 1 : -1);
    if (a.number !== undefined && b.number !== undefined) return a.number - b.number;
    var x = a.number !== undefined ? String(a.number) : a.text;
    var y = b.number !== undefined ? String(b.number) : b.text;
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  FB.sortTable = function (table, column, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var keyed = rows.map(function (row, index) { return { row: row, key: cellKey(row.cells[column]), index: index }; });
    keyed.sort(function (a, b) {
      var c = compareKeys(a.key, b.key);
      if (descending && !(a.key.empty || b.key.empty)) c = -c;
      return c || a.index - b.index;
    });
    keyed.forEach(function (k) { body.appendChild(k.row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === column) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  };

  FB.makeSortable = function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      if (th.querySelector("button.sort")) return;
      var button = FB.el("button", { type: "button", "class": "sort" }, null);
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var descending = th.getAttribute("aria-sort") === "ascending";
        FB.sortTable(table, column, descending);
      });
    });
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), FB.makeSortable);
    /* The hardware-class selector navigates to a sibling page; its values are written by the build. */
    Array.prototype.forEach.call(document.querySelectorAll("select[data-navigate]"), function (select) {
      select.addEventListener("change", function () {
        var target = select.value;
        if (/^[a-z0-9._-]+\.html$/.test(target)) window.location.href = target;
      });
    });
  }

  window.FB = FB;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
