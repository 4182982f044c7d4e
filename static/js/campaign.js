// 回头看/信息采集 pages.  Start form: a township's 全选 ticks its villages, unticking a village unticks
// 全选 (so the post names exactly the villages left), the picker shows only for the selection
// 所选村的全部脱贫户 and 监测标准倍数 only for 人均收入低于监测标准一定倍数.  Campaign page: 结束活动
// opens the confirmation dialog instead of posting.
// Without JavaScript both pages still work: 全选 is itself a field, and an unconfirmed 结束活动
// answers with a page that asks for the confirmation.
(function () {
  "use strict";

  function townshipSync(group) {
    var all = group.querySelector(".township-all");
    var boxes = group.querySelectorAll(".village-pick");
    var ticked = group.querySelectorAll(".village-pick:checked").length;
    if (!all) return;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  function pickerShow() {
    var chosen = document.querySelector("input[name='selection']:checked");
    if (!chosen) return;
    var picker = document.getElementById("village-picker");
    if (picker) picker.classList.toggle("d-none", chosen.value !== "EXITED_IN_VILLAGES");
    // the factor serves the range 人均收入低于监测标准一定倍数 only (kept in sight when it has an error)
    var factor = document.getElementById("line-factor");
    if (factor && !factor.hasAttribute("data-keep-shown")) {
      factor.classList.toggle("d-none", chosen.value !== "NEAR_LINE");
    }
  }

  function sync() {
    document.querySelectorAll("[data-township]").forEach(townshipSync);
    pickerShow();
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target || !target.classList) return;
    if (target.classList.contains("township-all")) {
      var group = target.closest("[data-township]");
      group.querySelectorAll(".village-pick").forEach(function (box) { box.checked = target.checked; });
      target.indeterminate = false;
    } else if (target.classList.contains("village-pick")) {
      townshipSync(target.closest("[data-township]"));
    } else if (target.name === "selection") {
      pickerShow();
    }
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-confirm-first]");
    if (button && window.bootstrap) event.preventDefault(); // Bootstrap opens the dialog (data-bs-toggle)
  });

  document.addEventListener("htmx:afterSettle", sync);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", sync);
  else sync();
  // Back to the form: the browser restores what was ticked after the page was set up (or brings
  // the page back from its cache), so set up again — a picker left hidden would send ticks unseen.
  window.addEventListener("pageshow", sync);
})();
