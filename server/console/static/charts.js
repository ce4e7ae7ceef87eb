/* Draws the console's charts with the vendored Apache ECharts: each element with data-chart fetches its JSON
   (data-src: labels, series, kind, stacked) and becomes a chart. No inline script: pages only carry attributes. */
(function () {
  "use strict";

  function option(data) {
    var series;
    if (data.kind === "pie") {
      var values = (data.series[0] || { data: [] }).data;
      series = [{
        type: "pie",
        name: (data.series[0] || {}).name || data.title,
        radius: ["35%", "65%"],
        data: data.labels.map(function (label, i) { return { name: label, value: values[i] }; })
      }];
      return {
        tooltip: { trigger: "item" },
        legend: { type: "scroll", bottom: 0 },
        series: series
      };
    }
    series = data.series.map(function (s) {
      var one = { type: data.kind, name: s.name, data: s.data };
      if (data.stacked) { one.stack = "total"; }
      return one;
    });
    return {
      tooltip: { trigger: "axis" },
      legend: { type: "scroll", bottom: 0 },
      grid: { left: 40, right: 16, top: 16, bottom: 56, containLabel: true },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: series
    };
  }

  function draw(el) {
    if (!window.echarts) { return; }
    fetch(el.getAttribute("data-src"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) {
        var chart = window.echarts.init(el, null, { renderer: "canvas" });
        chart.setOption(option(data));
        el.setAttribute("data-drawn", "1");
        window.addEventListener("resize", function () { chart.resize(); });
      })
      .catch(function () {
        el.setAttribute("data-drawn", "failed");
        el.textContent = el.getAttribute("aria-label") + ": —";
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
