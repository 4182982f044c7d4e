// Lead queue: select all on the page, and the count/label in the bulk confirmation dialog.
(function () {
  "use strict";
  function selected() { return document.querySelectorAll(".lead-select:checked").length; }
  document.addEventListener("change", function (event) {
    if (event.target && event.target.id === "select-all") {
      document.querySelectorAll(".lead-select").forEach(function (box) { box.checked = event.target.checked; });
    }
  });
  document.addEventListener("show.bs.modal", function (event) {
    if (!event.target || event.target.id !== "bulk-confirm") { return; }
    var decision = document.getElementById("bulk-decision");
    document.getElementById("bulk-count").textContent = String(selected());
    document.getElementById("bulk-label").textContent = decision.options[decision.selectedIndex].text;
  });
})();
