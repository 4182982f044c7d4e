// 统计看板: one chart per table; the data comes from json_script (CSP: no inline script).
// Clicking a region (a bar of the overview, of the 超期 tables or of the scale check) drills down to it.
(function () {
  "use strict";
  var dataNode = document.getElementById("dashboard-data");
  if (!dataNode || typeof echarts === "undefined") { return; }
  var d = JSON.parse(dataNode.textContent);
  var FONT = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif';
  var charts = [];

  function column(t, i) { return t.rows.map(function (r) { return r[i]; }); }
  function labels(t) { return column(t, 0); }
  function drill(code) {
    if (!code) { return; }
    window.location.search = "?region=" + encodeURIComponent(code) + "&year=" + d.year;
  }
  function base(extra) {
    var o = {
      animation: false,
      textStyle: { fontFamily: FONT, fontSize: 13 },
      tooltip: { trigger: "axis", formatter: window.fanpinChartTooltip },
      grid: { left: 8, right: 48, top: 36, bottom: 8, containLabel: true }
    };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { o[k] = extra[k]; } }
    return o;
  }
  function bars(t, cols, opts) {
    opts = opts || {};
    var series = cols.map(function (i) {
      return { name: t.columns[i], type: "bar", data: column(t, i), label: { show: t.rows.length <= 12, position: opts.horizontal ? "right" : "top" } };
    });
    var cat = { type: "category", data: labels(t), axisLabel: { interval: 0, rotate: t.rows.length > 8 ? 30 : 0 } };
    return base({
      legend: { top: 0 },
      xAxis: opts.horizontal ? { type: "value" } : cat,
      yAxis: opts.horizontal ? { type: "category", data: labels(t), inverse: true } : { type: "value" },
      series: series
    });
  }

  // the per-region tables that end with a 合计 row: the chart shows the regions only
  function withoutTotal(t) {
    var n = t.rows.length;
    if (n && String(t.rows[n - 1][0]).indexOf("合计") === 0) {
      return { columns: t.columns, rows: t.rows.slice(0, -1), codes: t.codes };
    }
    return t;
  }
  // tables whose bars are regions: a click drills down to the region (not below a village)
  var DRILL = { regions: true, overdue_leads: true, overdue_procedures: true };

  var builders = {
    regions: function (t) { return bars(t, [4, 5, 7]); },
    categories: function (t) {
      return base({
        tooltip: { trigger: "item", formatter: window.fanpinChartTooltip },
        legend: { top: 0 },
        series: [{ name: "监测中", type: "pie", radius: ["35%", "65%"], top: 24,
          label: { formatter: "{b}\n{c} 户 ({d}%)" },
          data: t.rows.map(function (r) { return { name: r[0], value: r[1] }; }) }]
      });
    },
    risks: function (t) { return bars(t, [1], { horizontal: true }); },
    lead_sources: function (t) { return bars(t, [1]); },
    lead_states: function (t) { return bars(t, [1]); },
    scale: function (t) {
      // columns: 县, 深度贫困地区, 监测对象（户）, 监测对象人数, 建档立卡人口, 监测比例, 上限, 下限, 结果
      var RATIO = t.columns.indexOf("监测比例（%）"), CAP = RATIO + 1, VERDICT = t.columns.length - 1;
      var cap = t.rows.length ? t.rows[0][CAP] : 5;
      var o = bars(t, [RATIO]);
      o.series[0].data = t.rows.map(function (r) {
        var flagged = r[VERDICT] === "超过上限" || r[VERDICT] === "低于下限";
        // colour is not the only signal: flagged bars also carry a "⚠" label
        return { value: r[RATIO], itemStyle: { color: flagged ? "#c0392b" : "#2e86c1", decal: flagged ? { symbol: "rect" } : null },
                 label: { show: true, position: "top", formatter: (flagged ? "⚠ " : "") + (r[RATIO] === null ? "—" : r[RATIO] + "%") } };
      });
      o.series[0].markLine = { symbol: "none", data: [{ yAxis: cap, name: "上限" }], label: { formatter: "上限 {c}%" } };
      o.yAxis.name = "%";
      return o;
    },
    coverage: function (t) { return bars(t, [2], { horizontal: true }); },
    labor: function (t) { return bars(t, [1, 2, 3]); },
    // columns: 区划, 对象, 低收入户, the four categories, 两者重叠, 重叠占比
    low_income: function (t) { return bars(t, [1, 2, t.columns.length - 2]); },
    low_income_categories: function (t) { return bars(t.rows.length ? { columns: t.columns, rows: t.rows.slice(0, -1) } : t, [1, 2]); },
    // columns: 区划, 办理中的线索, 超期线索, 超期占比
    overdue_leads: function (t) {
      var o = bars(withoutTotal(t), [1, 2]);
      o.series[1].itemStyle = { color: "#c0392b" };  // 超期: the scale check's red
      return o;
    },
    // columns: 区划, 办理中的风险消除, 超期, 未办结的补办, 超期: the two 超期, named apart in the legend
    overdue_procedures: function (t) {
      var o = bars(withoutTotal(t), [2, 4]);
      o.series[0].name = "风险消除超期";
      o.series[1].name = "补办超期";
      return o;
    },
    trend: function (t) {
      var series = [1, 2, 3].map(function (i) { return { name: t.columns[i], type: "line", data: column(t, i), symbolSize: 8 }; });
      return base({ legend: { top: 0 }, xAxis: { type: "category", data: labels(t) }, yAxis: { type: "value" }, series: series });
    }
  };

  Object.keys(builders).forEach(function (key) {
    var node = document.getElementById("chart-" + key);
    var t = d.tables[key];
    if (!node || !t) { return; }
    var chart = echarts.init(node, null, { renderer: "canvas" });
    chart.setOption(builders[key](t));
    if ((DRILL[key] && d.drill) || key === "scale") {
      chart.on("click", function (p) { drill(t.codes[p.dataIndex]); });
      chart.getZr().setCursorStyle("pointer");
    }
    node.setAttribute("data-ready", "1");
    charts.push(chart);
  });
  function resizeAll() { charts.forEach(function (c) { c.resize(); }); }
  window.addEventListener("resize", resizeAll);
  // printing: every data table opens (and closes again after), the charts are redrawn at the A4
  // width the print stylesheet gives them, and back
  var opened = [];
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll(".dashboard details:not([open])"), function (el) {
      el.open = true;
      opened.push(el);
    });
    resizeAll();
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (el) { el.open = false; });
    opened = [];
    resizeAll();
  });
  if (window.matchMedia) {
    var printMedia = window.matchMedia("print");
    if (printMedia.addEventListener) { printMedia.addEventListener("change", resizeAll); }
  }
  var printButton = document.getElementById("dashboard-print");
  if (printButton) { printButton.addEventListener("click", function () { window.print(); }); }
})();
