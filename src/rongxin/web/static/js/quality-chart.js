/*
 * Quality trend charts (S4) on /quality, drawn with the vendored Apache ECharts.
 *
 * The page carries its data in <script type="application/json" id="quality-trend-data">
 * (not executed, so allowed by the Content-Security-Policy) and one empty
 * <div class="chart" id="…"> per provider/item; a data table beside each chart holds the same
 * figures for screen readers and for browsers without JavaScript.
 */
(function () {
  "use strict";

  function draw(echarts, spec, labels) {
    var el = document.getElementById(spec.id);
    if (!el) {
      return null;
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var at = spec.points.map(function (p) { return p.at; });
    var series = function (key, name, axis, color) {
      return {
        name: name,
        type: "line",
        yAxisIndex: axis,
        symbolSize: 7,
        connectNulls: true,
        itemStyle: { color: color },
        data: spec.points.map(function (p) { return p[key]; })
      };
    };
    chart.setOption({
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif" },
      tooltip: { trigger: "axis", renderMode: "richText" },
      legend: { top: 0 },
      grid: { left: 48, right: 48, top: 40, bottom: 36 },
      xAxis: { type: "category", data: at, axisLabel: { hideOverlap: true } },
      yAxis: [
        { type: "value", name: labels.percent_axis, min: 0, max: 100 },
        { type: "value", name: labels.days_axis, min: 0, splitLine: { show: false } }
      ],
      series: [
        series("completeness", labels.completeness, 0, "#0b3d74"),
        series("validity", labels.validity, 0, "#1d7a46"),
        series("timeliness", labels.timeliness, 1, "#c8a24a")
      ]
    });
    el.classList.add("is-ready");
    return chart;
  }

  function start() {
    var source = document.getElementById("quality-trend-data");
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent || "{}");
    var charts = (data.charts || []).map(function (spec) {
      return draw(window.echarts, spec, data.labels || {});
    }).filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
