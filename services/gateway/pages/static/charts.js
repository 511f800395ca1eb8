// Draws each chart of a page with ECharts' SVG renderer from the figures the page carries
// as JSON (<script type="application/json">, never run: the Content-Security-Policy allows
// no inline script). The same figures are in the table beside each chart.
(function () {
  "use strict";
  function draw(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source || typeof echarts === "undefined") { return; }
    var figures = JSON.parse(source.textContent);
    var chart = echarts.init(element, null, { renderer: figures.renderer || "svg" });
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 8, top: 24, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: figures.categories,
               axisLabel: { interval: 0, rotate: figures.categories.length > 4 ? 30 : 0 } },
      yAxis: { type: "value", max: figures.unit === "%" ? 100 : null },
      series: [{ type: "bar", name: figures.series, data: figures.values,
                 itemStyle: { color: "#b71c1c" },
                 label: { show: true, position: "top", formatter: "{c}" + (figures.unit || "") } }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
    element.setAttribute("data-drawn", "true");
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chart]"), draw);
  });
})();
