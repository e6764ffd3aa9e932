// The latency-against-throughput plot of a generation board (data: #generation-data).
(function () {
  "use strict";
  var holder = document.getElementById("latency-plot");
  var source = document.getElementById("generation-data");
  if (!holder || !source || !window.Plotly) { return; }
  var data = JSON.parse(source.textContent);
  var points = data.points;
  function column(key, i) { return points.map(function (p) { return p[key][i]; }); }
  function errors(key) {
    return {
      type: "data", symmetric: false, visible: true,
      array: points.map(function (p) { return p[key][2] === null ? 0 : p[key][2] - p[key][0]; }),
      arrayminus: points.map(function (p) { return p[key][1] === null ? 0 : p[key][0] - p[key][1]; })
    };
  }
  var trace = {
    x: column("latency", 0), y: column("throughput", 0), text: points.map(function (p) { return p.name; }),
    mode: "markers+text", type: "scatter", textposition: "top center",
    error_x: errors("latency"), error_y: errors("throughput"),
    hovertemplate: "%{text}<br>latency %{x:.4g} s<br>%{y:.4g} tokens/s<extra></extra>"
  };
  var layout = {
    margin: { l: 60, r: 20, t: 10, b: 50 }, height: 360,
    xaxis: { title: "median request latency (s, measured)", type: "log" },
    yaxis: { title: "output tokens / s (measured)", type: "log" }
  };
  window.Plotly.newPlot(holder, [trace], layout, { displayModeBar: false, responsive: true });
}());
