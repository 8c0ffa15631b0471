/*
 * Quality trend charts (S4) on /quality, drawn with the vendored Apache ECharts.
 *
 * The page carries its data in <script type="application/json" id="quality-trend-data"> and one
 * empty <div class="chart" id="…"> per provider/item, drawn by charts.js (loaded before); a
 * data table beside each chart holds the same figures.
 */
(function () {
  "use strict";

  function optionOf(spec, data) {
    var labels = data.labels || {};
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
    var option = window.rongxinCharts.base();
    option.tooltip = { trigger: "axis", renderMode: "richText" };
    option.legend = { top: 0 };
    option.grid = { left: 48, right: 48, top: 40, bottom: 36 };
    option.xAxis = { type: "category", data: at, axisLabel: { hideOverlap: true } };
    option.yAxis = [
      { type: "value", name: labels.percent_axis, min: 0, max: 100 },
      { type: "value", name: labels.days_axis, min: 0, splitLine: { show: false } }
    ];
    option.series = [
      series("completeness", labels.completeness, 0, "#0b3d74"),
      series("validity", labels.validity, 0, "#1d7a46"),
      series("timeliness", labels.timeliness, 1, "#c8a24a")
    ];
    return option;
  }

  if (window.rongxinCharts) {
    window.rongxinCharts.start("quality-trend-data", optionOf);
  }
})();
