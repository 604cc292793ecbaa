// The weekly VoC report's 差评率 trend (ECharts, vendored). No inline scripts (CSP): the chart is
// <div data-kf-report-trend="ID"> where ID is a json_script element holding {weeks, series}.
(function () {
  "use strict";

  function draw(el) {
    const source = document.getElementById(el.dataset.kfReportTrend);
    if (!source || !window.echarts) return;
    let d;
    try {
      d = JSON.parse(source.textContent);
    } catch (e) {
      return;
    }
    const chart = window.echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: (v) => (v == null ? "–" : v + "%") },
      legend: { type: "scroll", top: 0 },
      grid: { left: 48, right: 24, top: 36, bottom: 36, containLabel: true },
      xAxis: { type: "category", data: d.weeks },
      yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: d.series.map((s) => ({ name: s.name, type: "line", connectNulls: true, data: s.data })),
    });
    window.addEventListener("resize", () => chart.resize());
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-kf-report-trend]").forEach(draw);
  });
})();
