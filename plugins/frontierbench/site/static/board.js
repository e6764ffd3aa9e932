/* Board page: the Pareto plot of any two objectives and the sortable entries table. */
(function () {
  "use strict";
  var FB = window.FB;
  var data = FB.readData("board-data");
  if (!data) return;
  var cols = data.entries;
  var n = cols.name.length;
  var objectives = {};
  data.objectives.forEach(function (o) { objectives[o.metric] = o; });

  var plot = document.getElementById("pareto-plot");
  var xSelect = document.getElementById("x-axis");
  var ySelect = document.getElementById("y-axis");

  /* Axis title in the display unit chosen for the plotted values (e.g. "Latency (ms)"). */
  function axisTitle(o, unit) {
    return FB.plotlyText(o.label + (unit ? " (" + unit + ")" : "") +
      (o.direction === "min" ? " \u2190 better" : " \u2192 better"));
  }

  /* Log-axis ticks at 1, 2 and 5 of each decade, labelled in full ("0.2", not plotly's bare "2"). */
  function logTicks(values) {
    var positive = values.filter(function (v) { return v > 0; });
    if (!positive.length) return {};
    var lo = Math.min.apply(null, positive), hi = Math.max.apply(null, positive);
    var vals = [], text = [];
    for (var e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)) + 1; e++) {
      [1, 2, 5].forEach(function (m) {
        var v = m * Math.pow(10, e);
        if (v >= lo / 1.5 && v <= hi * 1.5) { vals.push(v); text.push(String(Number(v.toPrecision(1)))); }
      });
    }
    return vals.length >= 2 ? { tickmode: "array", tickvals: vals, ticktext: text } : {};
  }

  /* The display scale chosen with the page (site/axes.py), so the selectors name the axis unit. */
  function shownScale(metric) {
    var shown = data.display && data.display[metric];
    return shown ? [shown.factor, shown.unit] : [1, data.units[metric]];
  }

  /* Plotly stretches a constant axis to [0, 2v]: keep it close around the one value instead. */
  function tightRange(values, log) {
    if (!values.length || log) return {};
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    if (hi - lo > 1e-12 * Math.max(Math.abs(hi), 1)) return {};
    var pad = Math.max(Math.abs(hi) * 0.02, 1e-9);
    return { range: [lo - pad, hi + pad] };
  }

  /* A one-objective board: a ranking, one row per entry, best at the top, with its interval. */
  function drawRanking() {
    var m = xSelect.value, o = objectives[m], s = shownScale(m);
    var rows = [];
    for (var i = 0; i < n; i++) {
      var v = data.values[m][i];
      if (v) rows.push({ i: i, v: v });
    }
    rows.sort(function (a, b) { return o.direction === "min" ? b.v[0] - a.v[0] : a.v[0] - b.v[0]; });
    var xs = rows.map(function (r) { return r.v[0] / s[0]; });
    var trace = {
      type: "scatter", mode: "markers", name: "entries", x: xs,
      y: rows.map(function (r) { return FB.plotlyText(cols.name[r.i]); }),
      customdata: rows.map(function (r) { return [FB.plotlyText(FB.format(r.v[0], data.units[m], r.v[1], r.v[2])), r.i]; }),
      error_x: { type: "data", symmetric: false, thickness: 1.5, width: 4, color: "rgba(60,70,90,0.6)",
                 array: rows.map(function (r) { return r.v[2] !== null ? Math.max(0, r.v[2] - r.v[0]) / s[0] : 0; }),
                 arrayminus: rows.map(function (r) { return r.v[1] !== null ? Math.max(0, r.v[0] - r.v[1]) / s[0] : 0; }) },
      marker: { size: 10, color: "#3b5bdb" },
      hovertemplate: "<b>%{y}</b><br>" + FB.plotlyText(o.label) + ": %{customdata[0]}<extra></extra>"
    };
    var xLog = o.log && xs.every(function (v) { return v > 0; });
    var layout = {
      margin: { l: 200, r: 20, t: 20, b: 60 }, height: Math.max(260, 60 + 28 * rows.length),
      xaxis: Object.assign({ type: xLog ? "log" : "linear", title: { text: axisTitle(o, s[1]) }, zeroline: false,
               gridcolor: "#e5e7eb" }, xLog ? logTicks(xs) : tightRange(xs, false)),
      yaxis: { type: "category", automargin: true },
      hovermode: "closest", showlegend: false,
      plot_bgcolor: "#ffffff", paper_bgcolor: "#ffffff", font: { family: "system-ui, sans-serif", size: 13 }
    };
    plot.style.height = layout.height + "px";  /* one row per entry, not the 2-D plot's fixed height */
    plot.setAttribute("data-x", m);
    plot.setAttribute("data-y", "");
    plot.setAttribute("data-points", String(xs.length));
    window.Plotly.react(plot, [trace], layout, { displaylogo: false, responsive: true });
  }

  function colour(i) {
    if (cols.p_front[i] !== null) return cols.p_front[i];
    return cols.on_front[i] ? 1 : 0;
  }

  /* Indices of the points that no other shown point dominates on the two shown objectives. */
  function front2d(points, xo, yo) {
    var sx = xo.direction === "min" ? 1 : -1, sy = yo.direction === "min" ? 1 : -1;
    return points.filter(function (p) {
      return !points.some(function (q) {
        var a = sx * q.x, b = sx * p.x, c = sy * q.y, d = sy * p.y;
        return a <= b && c <= d && (a < b || c < d);
      });
    }).sort(function (p, q) { return p.x - q.x || p.y - q.y; });
  }

  function draw() {
    if (!ySelect) { drawRanking(); return; }
    var xm = xSelect.value, ym = ySelect.value;
    var xo = objectives[xm], yo = objectives[ym];
    var xs = [], ys = [], exPlus = [], exMinus = [], eyPlus = [], eyMinus = [];
    var colours = [], labels = [], custom = [], rings = [], points = [];
    for (var i = 0; i < n; i++) {
      var vx = data.values[xm][i], vy = data.values[ym][i];
      if (!vx || !vy) continue;
      xs.push(vx[0]); ys.push(vy[0]);
      exPlus.push(vx[2] !== null ? Math.max(0, vx[2] - vx[0]) : 0);
      exMinus.push(vx[1] !== null ? Math.max(0, vx[0] - vx[1]) : 0);
      eyPlus.push(vy[2] !== null ? Math.max(0, vy[2] - vy[0]) : 0);
      eyMinus.push(vy[1] !== null ? Math.max(0, vy[0] - vy[1]) : 0);
      colours.push(colour(i));
      rings.push(cols.on_front[i] ? 2.5 : 0.5);
      labels.push(FB.plotlyText(cols.name[i]));
      custom.push([
        FB.plotlyText(FB.format(vx[0], data.units[xm], vx[1], vx[2])),
        FB.plotlyText(FB.format(vy[0], data.units[ym], vy[1], vy[2])),
        cols.p_front[i] === null ? "n/a" : cols.p_front[i].toFixed(2),
        i
      ]);
      points.push({ x: vx[0], y: vy[0] });
    }
    var front = front2d(points, xo, yo);
    /* A log axis cannot show zero or negative values: then that axis stays linear, so that every
       entry keeps its point. */
    var xLog = xo.log && xs.every(function (v) { return v > 0; });
    var yLog = yo.log && ys.every(function (v) { return v > 0; });
    /* Plot in a readable unit (ms rather than 0.001 s); hover labels keep the formatted values. */
    var sx = shownScale(xm), sy = shownScale(ym);
    function byX(v) { return v / sx[0]; }
    function byY(v) { return v / sy[0]; }
    xs = xs.map(byX); exPlus = exPlus.map(byX); exMinus = exMinus.map(byX);
    ys = ys.map(byY); eyPlus = eyPlus.map(byY); eyMinus = eyMinus.map(byY);
    var bar = { type: "data", symmetric: false, thickness: 1, width: 0, color: "rgba(60,70,90,0.45)" };
    var traces = [
      {
        type: "scatter", mode: "markers", name: "entries", x: xs, y: ys, text: labels, customdata: custom,
        error_x: Object.assign({ array: exPlus, arrayminus: exMinus }, bar),
        error_y: Object.assign({ array: eyPlus, arrayminus: eyMinus }, bar),
        marker: {
          size: 11, color: colours, cmin: 0, cmax: 1, colorscale: "Viridis", reversescale: false,
          line: { color: "#111827", width: rings },
          colorbar: { title: { text: data.reliable_report ? "P(front)" : "on front<br>(no report)" },
                      thickness: 12, len: 0.8 }
        },
        hovertemplate: "<b>%{text}</b><br>" + FB.plotlyText(xo.label) + ": %{customdata[0]}<br>" +
          FB.plotlyText(yo.label) + ": %{customdata[1]}<br>P(front): %{customdata[2]}<extra></extra>"
      },
      {
        type: "scatter", mode: "lines", name: "front (shown axes)", x: front.map(function (p) { return byX(p.x); }),
        y: front.map(function (p) { return byY(p.y); }), hoverinfo: "skip",
        line: { color: "#e4572e", width: 2, dash: "solid" }
      }
    ];
    var layout = {
      margin: { l: 70, r: 20, t: 20, b: 60 },
      xaxis: Object.assign({ type: xLog ? "log" : "linear", title: { text: axisTitle(xo, sx[1]) }, zeroline: false,
               gridcolor: "#e5e7eb" }, xLog ? logTicks(xs) : tightRange(xs, xLog)),
      yaxis: Object.assign({ type: yLog ? "log" : "linear", title: { text: axisTitle(yo, sy[1]) }, zeroline: false,
               gridcolor: "#e5e7eb" }, yLog ? logTicks(ys) : tightRange(ys, yLog)),
      hovermode: "closest", showlegend: true,
      legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
      plot_bgcolor: "#ffffff", paper_bgcolor: "#ffffff", font: { family: "system-ui, sans-serif", size: 13 }
    };
    var config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
    plot.setAttribute("data-x", xm);
    plot.setAttribute("data-y", ym);
    plot.setAttribute("data-points", String(xs.length));
    window.Plotly.react(plot, traces, layout, config);
  }

  function buildTable() {
    var table = document.getElementById("entries-table");
    var metrics = data.objectives.map(function (o) { return o.metric; });
    var head = FB.el("thead", null, null, [FB.el("tr", null, null, [
      FB.el("th", { scope: "col" }, "Entry"),
      FB.el("th", { scope: "col", "class": "num" }, "Rank [95%]"),
      FB.el("th", { scope: "col", "class": "num" }, ySelect ? "P(front)" : "P(best)")
    ].concat(metrics.map(function (m) {
      var o = objectives[m];
      return FB.el("th", { scope: "col", title: o.direction === "min" ? "lower is better" : "higher is better" },
        o.label + (o.direction === "min" ? " \u2193" : " \u2191"));
    })).concat([
      FB.el("th", { scope: "col" }, "Badges"),
      FB.el("th", { scope: "col" }, "Family"),
      FB.el("th", { scope: "col" }, "Energy")
    ]))]);
    var body = FB.el("tbody");
    for (var i = 0; i < n; i++) {
      var link = FB.el("a", { href: cols.href[i], "class": "entry-link" }, cols.name[i]);
      var rankText = cols.rank[i] === null ? "\u2014" : String(cols.rank[i]) +
        (cols.rank_lo[i] !== null ? " [" + cols.rank_lo[i] + "\u2013" + cols.rank_hi[i] + "]" : "");
      var cells = [
        FB.el("td", { "data-sort": cols.name[i], "class": "name" }, null, [link]),
        FB.el("td", { "class": "num", "data-sort": cols.rank[i] === null ? "" : cols.rank[i] }, rankText)
      ];
      if (!ySelect) {  /* a ranking: the share of draws in which the entry is the best */
        cells.push(FB.el("td", { "class": "num", "data-sort": cols.p_top1[i] === null ? "" : cols.p_top1[i] },
          cols.p_top1[i] === null ? "\u2014" : cols.p_top1[i].toFixed(2)));
      } else cells.push(
        FB.el("td", { "class": "num", "data-sort": cols.p_front[i] === null ? (cols.on_front[i] ? 1 : 0) : cols.p_front[i] },
          cols.p_front[i] === null ? (cols.on_front[i] ? "front" : "\u2014") : cols.p_front[i].toFixed(2)));
      metrics.forEach(function (m) {
        var v = data.values[m][i];
        var cell = FB.el("td", { "class": "num value", "data-sort": v ? v[0] : "" }, v ? FB.format(v[0], data.units[m]) : "\u2014");
        if (v && v[1] !== null && v[2] !== null) {
          /* "412 ms" with "[405, 431]" beneath, on the value's scale */
          var full = FB.format(v[0], data.units[m], v[1], v[2]);
          cell.appendChild(FB.el("span", { "class": "ci" }, full.slice(full.lastIndexOf(" ["))));
          cell.setAttribute("title", "95% interval: " + full);
        }
        cells.push(cell);
      });
      var badgeCell = FB.el("td", { "class": "badges", "data-sort": cols.badges[i].join(" ") });
      cols.badges[i].forEach(function (code) {
        var meaning = data.badges[code] ? data.badges[code][1] : code;
        if (code === "tie" && cols.tied_with[i].length) meaning = "Tied on " + data.primary + " with " + cols.tied_with[i].join(", ");
        if (code === "shadowed" && cols.shadowed_by[i]) meaning = "Only " + cols.shadowed_by[i] + " dominates it; without it this entry would be on the front.";
        badgeCell.appendChild(FB.el("span", { "class": "badge badge-" + code, title: meaning },
          data.badges[code] ? data.badges[code][0] : code));
        badgeCell.appendChild(document.createTextNode(" "));
      });
      cells.push(badgeCell);
      cells.push(FB.el("td", null, cols.family[i] === null ? "\u2014" : cols.family[i]));
      cells.push(FB.el("td", null, cols.energy_method[i]));
      body.appendChild(FB.el("tr", { "class": cols.on_front[i] ? "on-front" : null, "data-index": i }, null, cells));
    }
    table.appendChild(FB.el("caption", null,
      n + " entries. Values are point estimates with their 95% intervals; ranks are on " + data.primary + "."));
    table.appendChild(head);
    table.appendChild(body);
    FB.makeSortable(table);
  }

  xSelect.addEventListener("change", draw);
  if (ySelect) ySelect.addEventListener("change", draw);
  draw();
  plot.on("plotly_click", function (event) {
    var point = event.points && event.points[0];
    if (!point || point.curveNumber !== 0) return;
    var index = point.customdata[point.customdata.length - 1];
    window.location.href = cols.href[index];
  });
  buildTable();
})();
