/*
 * What the pages' charts share, drawn with the vendored Apache ECharts (loaded before this file;
 * each page's chart script after it, all deferred — the Content-Security-Policy allows no
 * inline script).
 *
 * A page carries its data in <script type="application/json" id="…"> (not executed) holding
 * {"charts": [{"id": …, …}, …], …} and one empty <div class="chart" id="…"> per chart; a table
 * on the page holds the same figures for screen readers and for browsers without JavaScript.
 *
 *   rongxinCharts.start(dataId, optionOf)  draws every chart of the data block `dataId` with the
 *                                           option optionOf(spec, data) returns, once the page
 *                                           has loaded, and resizes them with the window
 *   rongxinCharts.base()                   the options every chart shares
 */
(function () {
  "use strict";

  function base() {
    return {
      animation: false,
      aria: { enabled: true },
      textStyle: { fontFamily: "PingFang SC, Microsoft YaHei, Noto Sans CJK SC, sans-serif" }
    };
  }

  function draw(echarts, spec, data, optionOf) {
    var el = document.getElementById(spec.id);
    if (!el) {
      return null;
    }
    var chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(optionOf(spec, data));
    el.classList.add("is-ready");
    return chart;
  }

  function drawAll(dataId, optionOf) {
    var source = document.getElementById(dataId);
    if (!source || typeof window.echarts === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent || "{}");
    var charts = (data.charts || []).map(function (spec) {
      return draw(window.echarts, spec, data, optionOf);
    }).filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }

  function start(dataId, optionOf) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { drawAll(dataId, optionOf); });
    } else {
      drawAll(dataId, optionOf);
    }
  }

  window.rongxinCharts = { start: start, base: base };
})();
