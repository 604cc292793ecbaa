// Closed-loop charts drawn with the vendored ECharts. No inline scripts (CSP).
// - <data value="0.041" data-kf-metric="negative_review_rate"> shows a metric value: rates as
//   percentages ("4.1%"), volumes with one decimal.
// - <div data-kf-loops-chart="ID" data-kf-metric-url="…"> is an action's verification chart: the
//   weekly metric of the baseline weeks and of the verification window, and the goal line. Its data
//   is the json_script element ID (the stored verification), or else fetched from the metric API.
(function () {
  "use strict";

  const RATES = ["negative_review_rate", "repeat_contact_rate"];

  function isRate(kind) {
    return RATES.indexOf(kind) >= 0;
  }

  function display(value, kind) {
    if (value === null || value === undefined || value === "") return "–";
    const n = Number(value);
    if (!isFinite(n)) return "–";
    return isRate(kind) ? (n * 100).toFixed(1) + "%" : n.toFixed(1);
  }

  function readJson(id) {
    const el = id && document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function scaled(v, kind) {
    if (v === null || v === undefined) return null;
    return isRate(kind) ? Math.round(v * 10000) / 100 : Math.round(v * 100) / 100;
  }

  // {baseline: [[week, v]], window: [[week, v]], goal} from a stored verification or the API answer
  function normalize(d) {
    if (!d) return null;
    if (d.weekly) return { baseline: d.weekly.baseline || [], window: d.weekly.window || [], goal: d.goal };
    return { baseline: d.baseline_weekly || [], window: d.window_weekly || [], goal: d.goal_value };
  }

  function option(el, d) {
    const kind = el.dataset.kfKind;
    const ds = el.dataset;
    const weeks = d.baseline.map((w) => w[0]).concat(d.window.map((w) => w[0]));
    const nb = d.baseline.length;
    const base = d.baseline.map((w) => scaled(w[1], kind)).concat(d.window.map(() => null));
    const win = d.baseline.map(() => null).concat(d.window.map((w) => scaled(w[1], kind)));
    const series = [
      { name: ds.labelBaseline, type: "line", connectNulls: true, symbolSize: 7, data: base },
      { name: ds.labelWindow, type: "line", connectNulls: true, symbolSize: 7, data: win },
    ];
    if (d.goal !== null && d.goal !== undefined) {
      const goal = scaled(d.goal, kind);
      series.push({
        name: ds.labelGoal,
        type: "line",
        symbol: "none",
        lineStyle: { type: "dashed", color: "#2a9d8f" },
        itemStyle: { color: "#2a9d8f" },
        data: weeks.map(() => goal),
      });
    }
    if (nb && d.window.length) {
      series[1].markLine = {
        symbol: "none",
        label: { show: false },
        lineStyle: { color: "#999" },
        data: [{ xAxis: weeks[nb] }],
      };
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 48, right: 24, top: 36, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: weeks },
      yAxis: {
        type: "value",
        name: ds.labelUnit,
        min: 0,
        axisLabel: { formatter: isRate(kind) ? "{value}%" : "{value}" },
      },
      series: series,
    };
  }

  function draw(el, data) {
    const d = normalize(data);
    if (!d || (!d.baseline.length && !d.window.length)) return;
    const chart = echarts.init(el);
    chart.setOption(option(el, d));
    window.addEventListener("resize", () => chart.resize());
  }

  function chart(el) {
    if (typeof echarts === "undefined" || el.dataset.kfDrawn) return;
    el.dataset.kfDrawn = "1";
    const stored = readJson(el.dataset.kfLoopsChart);
    if (stored) {
      draw(el, stored);
      return;
    }
    const url = el.dataset.kfMetricUrl;
    if (!url) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null))
      .then((data) => draw(el, data))
      .catch(() => {});
  }

  function init(root) {
    root.querySelectorAll("data[data-kf-metric]").forEach((el) => {
      el.textContent = display(el.value, el.dataset.kfMetric);
    });
    root.querySelectorAll("[data-kf-loops-chart]").forEach(chart);
  }

  document.addEventListener("DOMContentLoaded", () => init(document));
  document.addEventListener("htmx:afterSettle", (e) => init(e.target));
})();
