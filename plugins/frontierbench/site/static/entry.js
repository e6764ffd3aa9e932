/* Entry page: summary cards, metrics with provenance, sample histograms, history, parameters and
   the environment fingerprint, all drawn from the page's JSON with textContent. */
(function () {
  "use strict";
  var FB = window.FB;
  var el = FB.el;
  var data = FB.readData("entry-data");
  if (!data) return;

  function byId(id) { return document.getElementById(id); }
  function pct(x) { return x === null || x === undefined ? "\u2014" : (100 * x).toFixed(1) + "%"; }
  function fixed(x) { return x === null || x === undefined ? "\u2014" : Number(x).toFixed(2); }

  function kvTable(rows, caption, cls) {
    var body = el("tbody", null, null, rows.map(function (r) {
      return el("tr", null, null, [el("th", { scope: "row" }, r[0]), el("td", null, r[1])]);
    }));
    return el("table", { "class": cls || "kv" }, null, [el("caption", null, caption), body]);
  }

  function card(label, value, sub) {
    return el("div", { "class": "card" }, null, [
      el("div", { "class": "card-label" }, label),
      el("div", { "class": "card-value" }, value),
      el("div", { "class": "card-sub" }, sub)
    ]);
  }

  /* badges */
  var badges = byId("entry-badges");
  data.badges.forEach(function (code) {
    var text = data.badge_text[code] || [code, code];
    badges.appendChild(el("span", { "class": "badge badge-" + code, title: text[1] }, text[0]));
    badges.appendChild(document.createTextNode(" "));
  });

  /* cards */
  var rel = data.reliability;
  var cards = byId("entry-cards");
  cards.appendChild(card("On the front", data.on_front ? "yes" : "no",
    rel ? "P(front) " + fixed(rel.p_front) + " \u00b7 " + rel.label : "no reliability report"));
  if (rel) {
    cards.appendChild(card("Rank on " + data.primary, String(rel.rank),
      "95% interval [" + rel.rank_interval[0] + ", " + rel.rank_interval[1] + "] \u00b7 P(rank 1) " +
      fixed(rel.p_top1) + " \u00b7 P(top " + data.top_k + ") " + fixed(rel.p_topk)));
  }
  var dominated = rel && rel.sole_dominator ?
    "only by " + rel.sole_dominator + ": without it this entry would be on the front" :
    (data.dominated_count ? data.dominated_by.join(", ") + (data.dominated_count > data.dominated_by.length ? " \u2026" : "") : "no entry");
  cards.appendChild(card("Dominated by", String(data.dominated_count), dominated));
  if (rel && rel.tied_with.length) cards.appendChild(card("Tied with", String(rel.tied_with.length), rel.tied_with.join(", ")));

  /* metrics table */
  var table = byId("metrics-table");
  table.appendChild(el("caption", null, "Point estimate with its 95% interval; provenance says how each number was obtained."));
  table.appendChild(el("thead", null, null, [el("tr", null, null,
    ["Metric", "Value [95% interval]", "Direction", "Estimator", "n", "Run spread", "Provenance"].map(function (h) {
      return el("th", { scope: "col" }, h);
    }))]));
  var body = el("tbody");
  data.metrics.forEach(function (m) {
    var provenance = m.provenance.length ? el("dl", { "class": "prov" }, null, [].concat.apply([], m.provenance.map(function (p) {
      return [el("dt", null, p[0]), el("dd", null, p[1])];
    }))) : document.createTextNode("\u2014");
    var spread = el("td", { "data-sort": m.run_spread === null ? "" : m.run_spread }, pct(m.run_spread));
    if (m.run_values.length) {
      spread.appendChild(el("div", { "class": "sub" }, "runs: " + m.run_values.map(function (v) { return FB.format(v, m.unit); }).join(", ")));
    }
    var valueCell = el("td", { "data-sort": m.value === null ? "" : m.value }, FB.format(m.value, m.unit, m.low, m.high));
    if (m.interval_note) {
      valueCell.appendChild(el("div", { "class": "sub interval-note" }, m.interval_note));
    } else if (m.replicates && m.replicates > 1) {
      valueCell.appendChild(el("div", { "class": "sub" }, "between " + m.replicates + " processes"));
    }
    body.appendChild(el("tr", { "data-metric": m.metric }, null, [
      el("td", null, null, [el("code", null, m.metric)]),
      valueCell,
      el("td", null, m.higher_is_better ? "higher is better" : "lower is better"),
      el("td", null, m.estimator + (m.interval !== "none" ? ", " + m.interval + " interval" : "")),
      el("td", { "class": "num", "data-sort": m.n }, m.n + (m.kind ? " " + m.kind : "")),
      spread,
      el("td", null, null, [provenance])
    ]));
  });
  table.appendChild(body);
  FB.makeSortable(table);

  /* sample histograms */
  var holder = byId("sample-plots");
  var plots = data.metrics.filter(function (m) { return m.hist && m.hist.x.length; });
  if (!plots.length) holder.appendChild(el("p", { "class": "muted" }, "No samples were kept for this entry."));
  plots.forEach(function (p, index) {
    var div = el("div", { "class": "sample-plot", id: "samples-" + index, "data-metric": p.metric });
    holder.appendChild(el("figure", { "class": "sample-card" }, null, [div,
      el("figcaption", null, p.metric + ": " + FB.format(p.value, p.unit, p.low, p.high) + " \u00b7 " + p.n + " " + (p.kind || "samples"))]));
    var s = FB.scale(p.value === null ? p.hist.x[p.hist.x.length - 1] : p.value, p.unit);
    var f = s[0];
    var shapes = [];
    if (p.low !== null && p.high !== null) {
      shapes.push({ type: "rect", xref: "x", yref: "paper", x0: p.low / f, x1: p.high / f, y0: 0, y1: 1,
                    fillcolor: "rgba(228,87,46,0.12)", line: { width: 0 } });
    }
    if (p.value !== null) {
      shapes.push({ type: "line", xref: "x", yref: "paper", x0: p.value / f, x1: p.value / f, y0: 0, y1: 1,
                    line: { color: "#e4572e", width: 2 } });
    }
    window.Plotly.newPlot(div, [{
      type: "bar", x: p.hist.x.map(function (x) { return x / f; }),
      width: p.hist.width.map(function (w) { return w / f; }), y: p.hist.count,
      marker: { color: "#1b6ac9" }, hovertemplate: "%{x}: %{y}<extra></extra>"
    }], {
      margin: { l: 45, r: 10, t: 10, b: 45 }, height: 220, bargap: 0.05, shapes: shapes,
      xaxis: { title: { text: FB.plotlyText(p.metric + (s[1] ? " (" + s[1] + ")" : "")) }, zeroline: false },
      yaxis: { title: { text: "count" }, rangemode: "tozero" },
      font: { family: "system-ui, sans-serif", size: 12 }
    }, { displaylogo: false, responsive: true, displayModeBar: false });
  });

  /* history: one chart per objective (points per run, linked to commits; level bands between
     changes; change markers), then the table */
  var history = byId("history");
  var h = data.history;
  if (!h.rows.length) {
    history.appendChild(el("p", { "class": "muted" }, "No runs."));
  } else {
    var charts = el("div", { "class": "history-charts" });
    history.appendChild(el("p", { "class": "muted" }, "Each point is one run's own estimate, in commit-time order; click it to open its commit. " +
      "The band is the level between detected changes with its 95% interval; a triangle marks the first run after a change (" +
      "ratio after/before, 95% interval)."));
    history.appendChild(charts);
    h.charts.forEach(function (c, index) {
      var div = el("div", { "class": "history-plot", id: "history-chart-" + index, "data-metric": c.metric });
      var caption = c.metric + ": " + c.y.length + " run" + (c.y.length === 1 ? "" : "s") +
        (c.changes.length ? " \u00b7 " + c.changes.length + " change" + (c.changes.length === 1 ? "" : "s") : " \u00b7 no change detected");
      charts.appendChild(el("figure", { "class": "history-card" }, null, [div, el("figcaption", null, caption)]));
      var s = FB.scale(c.y[c.y.length - 1], c.unit);
      var f = s[0];
      var shapes = [];
      c.levels.forEach(function (lv) {
        shapes.push({ type: "rect", xref: "x", yref: "y", x0: lv.x0, x1: lv.x1, y0: lv.low / f, y1: lv.high / f,
                      fillcolor: "rgba(27,106,201,0.15)", line: { width: 0 }, layer: "below" });
        shapes.push({ type: "line", xref: "x", yref: "y", x0: lv.x0, x1: lv.x1, y0: lv.value / f, y1: lv.value / f,
                      line: { color: "rgba(27,106,201,0.6)", width: 1, dash: "dot" } });
      });
      c.changes.forEach(function (ch) {
        shapes.push({ type: "line", xref: "x", yref: "paper", x0: ch.started_at, x1: ch.started_at, y0: 0, y1: 1,
                      line: { color: ch.worse ? "#c0392b" : "#2e8540", width: 1, dash: "dash" } });
      });
      var rows = h.rows;
      var runs = {
        type: "scatter", mode: "lines+markers", name: "runs", x: c.x, y: c.y.map(function (v) { return v / f; }),
        customdata: c.row.map(function (r) { return [FB.plotlyText(rows[r][1]), rows[r][2], rows[r][5]]; }),
        marker: { color: "#1b6ac9", size: 7 }, line: { color: "rgba(27,106,201,0.4)", width: 1 },
        hovertemplate: "%{x}<br>%{y:.4g}" + FB.plotlyText(s[1] ? " " + s[1] : "") + "<br>run %{customdata[0]}<br>commit %{customdata[1]}<extra></extra>"
      };
      var marks = {
        type: "scatter", mode: "markers", name: "changes",
        x: c.changes.map(function (ch) { return ch.started_at; }),
        y: c.changes.map(function (ch) { return ch.value / f; }),
        customdata: c.changes.map(function (ch) { return [FB.plotlyText(ch.run_id), ch.commit, rows[ch.row][5], ch.ratio.toFixed(3), ch.low.toFixed(3), ch.high.toFixed(3)]; }),
        marker: { size: 14, symbol: c.changes.map(function (ch) { return ch.ratio > 1 ? "triangle-up" : "triangle-down"; }),
                  color: c.changes.map(function (ch) { return ch.worse ? "#c0392b" : "#2e8540"; }), line: { color: "#fff", width: 1 } },
        hovertemplate: "change at run %{customdata[0]}<br>\u00d7%{customdata[3]} [%{customdata[4]}, %{customdata[5]}]<extra></extra>"
      };
      window.Plotly.newPlot(div, [runs, marks], {
        margin: { l: 55, r: 10, t: 10, b: 45 }, height: 240, shapes: shapes, showlegend: false,
        xaxis: { title: { text: "run started" }, type: "date" },
        yaxis: { title: { text: FB.plotlyText(c.metric + (s[1] ? " (" + s[1] + ")" : "")) } },
        font: { family: "system-ui, sans-serif", size: 12 }
      }, { displaylogo: false, responsive: true, displayModeBar: false });
      div.on("plotly_click", function (event) {
        var point = event.points && event.points[0];
        if (point && point.customdata) window.location.href = point.customdata[2];
      });
    });
    var htable = el("table", { "class": "history", id: "history-table" }, null, [
      el("caption", null, "Across runs and board versions (this hardware class)"),
      el("thead", null, null, [el("tr", null, null, ["Started", "Run", "Commit", "Board version"].concat(h.metrics).map(function (c) {
        return el("th", { scope: "col" }, c);
      }))]),
      el("tbody", null, null, h.rows.map(function (r, i) {
        var commit = r[2] ? el("a", { href: r[5] }, null, [el("code", null, r[2])]) : el("code", null, "");
        return el("tr", { id: "history-run-" + i }, null, [el("td", null, r[0]), el("td", null, null, [el("code", null, r[1])]),
          el("td", null, null, [commit]), el("td", null, r[3])].concat(r[4].map(function (v, k) {
            return el("td", { "data-sort": v === null ? "" : v }, FB.format(v, h.units[k]));
          })));
      }))
    ]);
    history.appendChild(htable);
    FB.makeSortable(htable);
  }

  /* parameters, provenance, environment */
  var params = byId("params");
  if (data.params.length) params.appendChild(kvTable(data.params, "Parameters"));
  params.appendChild(kvTable([
    ["pytest node ids", data.nodeids.join(", ") || "\u2014"],
    ["runs", data.runs.join(", ") || "\u2014"]
  ], "Where the numbers come from"));
  var environment = byId("environment");
  if (data.environment.length) environment.appendChild(kvTable(data.environment, "Newest run of this hardware class", "kv env"));
  else environment.appendChild(el("p", { "class": "muted" }, "Not recorded."));
})();
