/*
 * Rating charts (issue 5) on /entities/{uscc}/rating and /ratings/runs[/{id}], drawn with the
 * vendored Apache ECharts.
 *
 * The page carries its data in <script type="application/json" id="rating-chart-data"> and one
 * empty <div class="chart" id="…"> per chart, drawn by charts.js (loaded before). Chart kinds:
 *   line    — a score by rating date, each point labelled with its grade (0 to `max`)
 *   bar     — counts by category (a run's grades)
 *   stacked — one bar per category stacked by series (grades by run)
 */
(function () {
  "use strict";

  var NAVY = "#0b3d74";
  // best grades navy, then blue, gold, orange, the worst red (WCAG-friendly on white)
  var TONES = ["#0b3d74", "#2f6fb3", "#7fa7d6", "#c8a24a", "#d9822b", "#b5472f", "#a4161a"];

  function tone(index, count) {
    if (count <= 1) {
      return TONES[0];
    }
    return TONES[Math.round(index * (TONES.length - 1) / (count - 1))];
  }

  function base(spec) {
    var option = window.rongxinCharts.base();
    option.tooltip = { trigger: "axis", renderMode: "richText", confine: true };
    option.grid = { left: 8, right: 16, top: 36, bottom: 8, containLabel: true };
    option.xAxis = { type: "category", data: spec.categories, axisLabel: { hideOverlap: true } };
    option.yAxis = { type: "value", name: spec.axis || "", min: 0 };
    return option;
  }

  function lineOption(spec) {
    var option = base(spec);
    var first = spec.series[0] || { name: "", data: [], labels: [] };
    option.yAxis.max = spec.max || null;
    option.series = [{
      name: first.name,
      type: "line",
      symbolSize: 8,
      itemStyle: { color: NAVY },
      lineStyle: { width: 2 },
      areaStyle: { color: "rgba(11, 61, 116, 0.08)" },
      label: {
        show: true,
        position: "top",
        formatter: function (p) { return (first.labels || [])[p.dataIndex] || ""; }
      },
      data: first.data
    }];
    return option;
  }

  function barOption(spec, stacked) {
    var option = base(spec);
    var count = spec.series.length;
    if (stacked) {
      option.legend = { top: 0, type: "scroll" };
      option.grid.top = 48;
    }
    option.series = spec.series.map(function (s, index) {
      var item = { name: s.name, type: "bar", data: s.data, barMaxWidth: 48 };
      if (stacked) {
        item.stack = "grades";
        item.itemStyle = { color: tone(index, count) };
      } else {
        item.itemStyle = {
          color: function (p) { return tone(p.dataIndex, spec.categories.length); }
        };
      }
      return item;
    });
    return option;
  }

  function optionOf(spec) {
    return spec.kind === "line" ? lineOption(spec) : barOption(spec, spec.kind === "stacked");
  }

  if (window.rongxinCharts) {
    window.rongxinCharts.start("rating-chart-data", optionOf);
  }
})();
