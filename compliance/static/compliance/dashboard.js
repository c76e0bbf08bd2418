/* District dashboard charts (Apache ECharts, served from our static files). The data comes from
   the page's json_script block; every chart also exists as a table, so the page works without JS. */
(function () {
  "use strict";
  var holder = document.getElementById("compliance-dashboard-data");
  if (!holder || !window.echarts) { return; }
  var data = JSON.parse(holder.textContent);
  document.documentElement.classList.add("has-charts");
  var charts = [];

  function init(id) {
    var el = document.getElementById(id);
    if (!el) { return null; }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    charts.push(chart);
    return chart;
  }

  function go(url) { if (url) { window.location.href = url; } }

  // Tooltips are HTML: names and titles come from users (a school may be named "<img onerror=…>"),
  // so every value goes through ECharts' own escaper before it joins the markup.
  var esc = window.echarts.format.encodeHTML;

  // Ranking: horizontal bars, best school on top.
  var ranking = data.ranking || [];
  var bar = init("chart-ranking");
  if (bar) {
    var rows = ranking.slice().reverse();
    document.getElementById("chart-ranking").style.height = Math.max(200, 28 * rows.length + 60) + "px";
    bar.resize();
    bar.setOption({
      grid: { left: 8, right: 40, top: 10, bottom: 20, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value" },
      yAxis: { type: "category", data: rows.map(function (r) { return (r.rank || "–") + ". " + r.name; }),
               axisLabel: { width: 120, overflow: "truncate" } },
      series: [{ type: "bar", data: rows.map(function (r) { return r.score; }),
                 itemStyle: { color: "#1e6b52" }, label: { show: true, position: "right" } }]
    });
    bar.on("click", function (p) { go(rows[p.dataIndex] && rows[p.dataIndex].url); });
  }

  // Heatmap: schools x items, share of points earned (0..100), grey for not applicable / pending.
  var heat = data.heatmap;
  var hm = init("chart-heatmap");
  if (hm && heat) {
    document.getElementById("chart-heatmap").style.height = Math.max(240, 26 * heat.schools.length + 120) + "px";
    hm.resize();
    var cells = heat.cells.map(function (c) { return [c[0], c[1], c[2] === null ? "-" : c[2], c[3]]; });
    hm.setOption({
      tooltip: {
        formatter: function (p) {
          var v = p.data[2] === "-" ? (p.data[3] === "pending" ? data.labels.pending : data.labels.not_applicable)
            : p.data[2] + "% " + data.labels.points_earned;
          return esc(heat.schools[p.data[1]]) + "<br>" + esc(heat.items[p.data[0]] + " " + heat.item_titles[p.data[0]]) +
            "<br>" + esc(v);
        }
      },
      grid: { left: 8, right: 8, top: 10, bottom: 60, containLabel: true },
      // Columns are named by the item's title (cut short; the tooltip has it whole).
      xAxis: { type: "category", data: heat.item_titles, splitArea: { show: true },
               axisLabel: { rotate: 60, width: 70, overflow: "truncate", fontSize: 12 } },
      yAxis: { type: "category", data: heat.schools, splitArea: { show: true }, inverse: true,
               axisLabel: { width: 110, overflow: "truncate" } },
      // One piece per band of the table's legend, each labelled with its range of values.
      visualMap: { type: "piecewise", dimension: 2, orient: "horizontal", left: "center", bottom: 0,
                   itemGap: 6, itemWidth: 14, textStyle: { fontSize: 12 },
                   pieces: (heat.bands || []).map(function (b) {
                     return { gte: b.min, lte: b.max, label: b.label, color: b.colour };
                   }) },
      series: [{ type: "heatmap", data: cells, label: { show: heat.items.length <= 12 },
                 emphasis: { itemStyle: { borderColor: "#333", borderWidth: 1 } } }]
    });
    hm.on("click", function (p) {
      var base = heat.school_urls[p.data[1]];
      go(base && base + "items/" + encodeURIComponent(heat.items[p.data[0]]) + "/");
    });
  }

  // Trend: one line per school across snapshots. The legend is HTML under the chart (names wrap
  // and stay readable on a phone); ECharts' own legend is kept hidden for its show/hide action.
  var PALETTE = ["#1e6b52", "#c0392b", "#2e6fbd", "#d98e04", "#7b4fa0", "#16a3a3", "#8a5a2b", "#d6457f",
                 "#5b6b1f", "#455a64"];
  var line = init("chart-trend");
  if (line) {
    var trend = data.trend || [];
    line.setOption({
      color: PALETTE,
      tooltip: { trigger: "axis", confine: true },
      legend: { show: false },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      xAxis: { type: "time" },
      yAxis: { type: "value", name: data.labels.score },
      series: trend.map(function (t) {
        return { type: "line", name: t.name, data: t.points, showSymbol: true, connectNulls: true };
      })
    });
    var legend = document.getElementById("trend-legend");
    if (legend) {
      trend.forEach(function (t, i) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        var swatch = document.createElement("span");
        button.type = "button";
        button.setAttribute("aria-pressed", "true");
        swatch.className = "swatch";
        swatch.style.background = PALETTE[i % PALETTE.length];
        button.appendChild(swatch);
        button.appendChild(document.createTextNode(t.name));  // text, never markup
        button.addEventListener("click", function () {
          line.dispatchAction({ type: "legendToggleSelect", name: t.name });
          button.setAttribute("aria-pressed", button.getAttribute("aria-pressed") === "true" ? "false" : "true");
        });
        item.appendChild(button);
        legend.appendChild(item);
      });
    }
  }

  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
