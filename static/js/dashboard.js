// Survey dashboard charts. Every figure comes from the report embedded by the server (the same
// JSON as the report API); this file only draws it. The tables under each chart stay for
// screen readers and for browsers without JavaScript.
(function () {
  "use strict";
  var node = document.getElementById("report-data");
  if (!node || typeof Chart === "undefined") return;
  var data = JSON.parse(node.textContent);
  var report = data.report;
  var text = data.text;
  var css = getComputedStyle(document.documentElement);
  var brand = css.getPropertyValue("--chart-1").trim() || "#4f54d6";
  var good = css.getPropertyValue("--good-bar").trim() || "#2f9e5b";
  var low = css.getPropertyValue("--low-bar").trim() || "#d9534f";
  var mid = css.getPropertyValue("--mid-bar").trim() || "#e0a23a";
  var muted = "#8a90a6";
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#5b6274";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function ready(canvas) {
    var box = canvas.parentElement;
    if (box.dataset.height) box.style.height = box.dataset.height + "px";
    box.classList.add("chart-ready");
  }

  function percentAxis(extra) {
    return Object.assign(
      { min: 0, max: 100, ticks: { callback: function (v) { return v + " %"; } }, grid: { color: "#eef0f6" } },
      extra || {}
    );
  }

  function pct(v) {
    return v === null || v === undefined ? "–" : v.toFixed(1) + " %";
  }

  function trend() {
    var canvas = document.getElementById("chart-trend");
    if (!canvas) return;
    ready(canvas);
    var series = report.series || [];
    var labels = series.map(function (p) { return p.period; });
    var datasets = [
      {
        label: text.interval,
        data: series.map(function (p) { return p.ci_high; }),
        borderWidth: 0,
        pointRadius: 0,
        backgroundColor: "rgba(79,84,214,.13)",
        fill: "+1",
        spanGaps: false,
      },
      {
        label: "_low",
        data: series.map(function (p) { return p.ci_low; }),
        borderWidth: 0,
        pointRadius: 0,
        fill: false,
      },
      {
        label: text.csat,
        data: series.map(function (p) { return p.csat; }),
        borderColor: brand,
        backgroundColor: brand,
        borderWidth: 2.5,
        pointRadius: series.length > 60 ? 0 : 3,
        pointHoverRadius: 5,
        tension: 0.25,
        spanGaps: true,
      },
    ];
    if (report.target !== null && report.target !== undefined) {
      datasets.push({
        label: text.target,
        data: series.map(function () { return report.target; }),
        borderColor: "#b7791f",
        borderDash: [6, 5],
        borderWidth: 1.5,
        pointRadius: 0,
        fill: false,
      });
    }
    new Chart(canvas, {
      type: "line",
      data: { labels: labels, datasets: datasets },
      options: {
        interaction: { mode: "index", intersect: false },
        scales: { y: percentAxis(), x: { grid: { display: false }, ticks: { maxTicksLimit: 8, maxRotation: 0 } } },
        plugins: {
          legend: { labels: { filter: function (item) { return item.text !== "_low"; }, boxWidth: 14 } },
          tooltip: {
            filter: function (item) { return item.dataset.label !== "_low"; },
            callbacks: {
              label: function (ctx) {
                var p = series[ctx.dataIndex];
                if (ctx.dataset.label === text.csat) return text.csat + ": " + pct(p.csat) + " (n=" + p.n + ")";
                if (ctx.dataset.label === text.interval)
                  return text.interval + ": " + pct(p.ci_low) + " – " + pct(p.ci_high);
                return ctx.dataset.label + ": " + pct(ctx.parsed.y);
              },
            },
          },
        },
      },
    });
  }

  function distribution() {
    var canvas = document.getElementById("chart-distribution");
    if (!canvas) return;
    ready(canvas);
    var rows = report.distribution || [];
    var bands = data.bands || [];
    var colours = { happy: good, neutral: mid, unhappy: low };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (d) { return d.label.length > 18 ? String(d.score) : d.label; }),
        datasets: [
          {
            label: text.answers,
            data: rows.map(function (d) { return d.count; }),
            backgroundColor: rows.map(function (d, i) { return colours[bands[i]] || brand; }),
            borderRadius: 6,
            maxBarThickness: 46,
          },
        ],
      },
      options: {
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { title: function (items) { var d = rows[items[0].dataIndex]; return d.score + " · " + d.label; } } },
        },
        scales: { y: { beginAtZero: true, grid: { color: "#eef0f6" }, ticks: { precision: 0 } }, x: { grid: { display: false } } },
      },
    });
  }

  function breakdown() {
    var canvas = document.getElementById("chart-breakdown");
    if (!canvas) return;
    ready(canvas);
    var rows = report.breakdown || [];
    // On a narrow screen the label takes two lines, so the value is not cut off at the left.
    var narrow = canvas.parentElement.clientWidth < 560;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: rows.map(function (b) {
          var count = "n=" + b.n + (b.small_sample ? ", " + text.small : "");
          return narrow ? [b.value, count] : b.value + "  (" + count + ")";
        }),
        datasets: [
          {
            label: text.csat,
            data: rows.map(function (b) { return b.csat; }),
            backgroundColor: rows.map(function (b) { return b.small_sample ? "rgba(138,144,166,.45)" : brand; }),
            borderColor: rows.map(function (b) { return b.small_sample ? muted : brand; }),
            borderWidth: 1,
            borderRadius: 5,
            maxBarThickness: 26,
          },
        ],
      },
      options: {
        indexAxis: "y",
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var b = rows[ctx.dataIndex];
                return text.csat + ": " + pct(b.csat) + " (" + pct(b.ci_low) + " – " + pct(b.ci_high) + "), n=" + b.n;
              },
            },
          },
        },
        scales: { x: percentAxis(), y: { grid: { display: false } } },
      },
    });
  }

  trend();
  distribution();
  breakdown();
})();
