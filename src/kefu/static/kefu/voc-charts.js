// Voice-of-customer charts (dashboard, insights) drawn with the vendored ECharts. No inline scripts
// (CSP): a chart is <div data-kf-chart="ID"> where ID is a json_script element holding its data; a
// sparkline is <span data-kf-spark="[1,2,3]">. Points, bars and cells carry the drill-down `url`
// they link to; clicking one navigates there.
(function () {
  "use strict";

  function readJson(id) {
    const el = document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  const grid = { left: 48, right: 48, top: 36, bottom: 48, containLabel: true };

  function rateOption(d) {
    return {
      tooltip: {
        trigger: "item",
        formatter: (p) =>
          `${p.seriesName}<br>${p.name}: ${p.value == null ? "–" : p.value + "%"} (${p.data.bad}/${p.data.total})`,
      },
      legend: { type: "scroll", top: 0 },
      grid: grid,
      xAxis: { type: "category", data: d.weeks },
      yAxis: { type: "value", name: d.y_label, axisLabel: { formatter: "{value}%" } },
      series: d.series.map((s) => ({
        name: s.name,
        type: "line",
        connectNulls: true,
        symbolSize: 8,
        data: s.data,
      })),
    };
  }

  function paretoOption(d) {
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: grid,
      xAxis: { type: "category", data: d.labels, axisLabel: { interval: 0, rotate: d.labels.length > 6 ? 30 : 0 } },
      yAxis: [
        { type: "value", name: d.count_label },
        { type: "value", name: d.cumulative_label, min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
      ],
      series: [
        { name: d.count_label, type: "bar", data: d.counts },
        { name: d.cumulative_label, type: "line", yAxisIndex: 1, data: d.cumulative, symbolSize: 6 },
      ],
    };
  }

  function heatmapOption(d) {
    return {
      tooltip: {
        position: "top",
        formatter: (p) => `${d.rows[p.value[1]]}<br>${d.weeks[p.value[0]]}: ${p.value[2]}`,
      },
      grid: { left: 8, right: 16, top: 16, bottom: 72, containLabel: true },
      xAxis: { type: "category", data: d.weeks, splitArea: { show: true } },
      yAxis: { type: "category", data: d.rows, splitArea: { show: true } },
      visualMap: {
        min: 0,
        max: Math.max(1, d.max),
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        inRange: { color: ["#f8f9fa", "#f4a261", "#c0392b"] },
      },
      series: [{ type: "heatmap", data: d.cells, label: { show: true }, emphasis: { itemStyle: { borderColor: "#333" } } }],
    };
  }

  function trendOption(d) {
    const last = d.counts.length - 1;
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: grid,
      xAxis: { type: "category", data: d.weeks },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        {
          name: d.count_label,
          type: "bar",
          data: d.counts.map((v, i) => (i === last ? { value: v, itemStyle: { color: "#c0392b" } } : v)),
        },
        {
          name: d.baseline_label,
          type: "line",
          symbol: "none",
          lineStyle: { type: "dashed" },
          data: d.counts.map(() => d.baseline),
        },
      ],
    };
  }

  const builders = { rate: rateOption, pareto: paretoOption, heatmap: heatmapOption, trend: trendOption };

  function draw(el) {
    if (typeof echarts === "undefined" || el.dataset.kfDrawn) return;
    const data = readJson(el.dataset.kfChart);
    const build = data && builders[data.type];
    if (!build) return;
    el.dataset.kfDrawn = "1";
    const chart = echarts.init(el);
    chart.setOption(build(data));
    chart.on("click", (p) => {
      const url = p.data && p.data.url;
      if (url) window.location.assign(url);
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function spark(el) {
    if (typeof echarts === "undefined" || el.dataset.kfDrawn) return;
    let values;
    try {
      values = JSON.parse(el.dataset.kfSpark);
    } catch (e) {
      return;
    }
    el.dataset.kfDrawn = "1";
    const chart = echarts.init(el, null, { width: 120, height: 28 });
    const last = values.length - 1;
    chart.setOption({
      animation: false,
      grid: { left: 1, right: 1, top: 2, bottom: 2 },
      xAxis: { type: "category", show: false, data: values.map((_, i) => i) },
      yAxis: { type: "value", show: false, min: 0 },
      series: [
        {
          type: "bar",
          barWidth: "70%",
          data: values.map((v, i) => ({ value: v, itemStyle: { color: i === last ? "#c0392b" : "#8fa8c8" } })),
        },
      ],
    });
  }

  function init(root) {
    root.querySelectorAll("[data-kf-chart]").forEach(draw);
    root.querySelectorAll("[data-kf-spark]").forEach(spark);
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (e) => init(e.target));
})();
