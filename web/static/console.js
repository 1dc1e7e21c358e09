// Canopy console: draws every chart of a page from its data-option
// attribute (an ECharts option built by the server), and again after htmx
// swaps content in. Marks each drawn chart data-ready="1".
(function () {
  "use strict";
  var charts = [];

  function draw(root) {
    if (typeof echarts === "undefined") return;
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.ready === "1") return;
      var option;
      try {
        option = JSON.parse(el.dataset.chart);
      } catch (e) {
        el.textContent = "chart data is not valid JSON";
        return;
      }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(option);
      charts.push(chart);
      el.dataset.ready = "1";
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function (ev) { draw(ev.target); });
  window.addEventListener("resize", function () {
    charts.forEach(function (c) { if (!c.isDisposed()) c.resize(); });
  });
})();
