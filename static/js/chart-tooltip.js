// Chart tooltips built as elements.  ECharts' own tooltip HTML carries style attributes (the series'
// colour dots, spacing), which the site's CSP (style-src 'self') refuses: the dots vanished and the
// values ran into their names.  Here the layout is classes (static/css/fanpin.css) and a dot's
// colour is set through the element's style object, which the CSP allows.
(function () {
  "use strict";
  function span(className, text) {
    var el = document.createElement("span");
    el.className = className;
    if (text !== undefined) { el.textContent = text; }
    return el;
  }
  function shown(value) {
    if (value && typeof value === "object" && !Array.isArray(value) && "value" in value) { value = value.value; }
    if (typeof value === "number") { return value.toLocaleString("zh-CN"); }  // 8,600.5 as ECharts showed it
    return value === null || value === undefined || value === "" ? "—" : String(value);
  }
  // trigger "axis": params is a list (one per series), headed by the category;
  // trigger "item": one data item (a pie's slice: its share too)
  window.fanpinChartTooltip = function (params) {
    var axis = Array.isArray(params);
    var list = axis ? params : [params];
    var box = document.createElement("div");
    box.className = "chart-tooltip";
    var head = axis ? (list[0] || {}).axisValueLabel : list[0].seriesName;
    if (head) { box.appendChild(span("chart-tooltip-head", head)); }
    list.forEach(function (p) {
      var row = document.createElement("div");
      row.className = "chart-tooltip-row";
      var dot = span("chart-tooltip-dot");
      if (typeof p.color === "string") { dot.style.backgroundColor = p.color; }
      var value = shown(p.value) + (p.percent !== undefined ? "（" + p.percent + "%）" : "");
      row.appendChild(dot);
      row.appendChild(span("chart-tooltip-name", axis ? p.seriesName : p.name));
      row.appendChild(span("chart-tooltip-value", value));
      box.appendChild(row);
    });
    return box;
  };
})();
