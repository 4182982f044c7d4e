// Per-capita income by year against the monitoring line (lead page).  Data from json_script.
(function () {
  "use strict";
  var node = document.getElementById("income-chart");
  var data = document.getElementById("income-chart-data");
  if (!node || !data || typeof echarts === "undefined") { return; }
  var d = JSON.parse(data.textContent);
  var chart = echarts.init(node);
  chart.setOption({
    animation: false,
    tooltip: { trigger: "axis", formatter: window.fanpinChartTooltip },
    legend: { data: ["人均可支配收入", "监测标准"] },
    grid: { left: 60, right: 20, top: 40, bottom: 30 },
    xAxis: { type: "category", data: d.years.map(String) },
    yAxis: { type: "value", name: "元" },
    series: [
      { name: "人均可支配收入", type: "bar", data: d.per_capita },
      { name: "监测标准", type: "line", data: d.line, lineStyle: { type: "dashed" }, symbol: "triangle", connectNulls: true }
    ]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
