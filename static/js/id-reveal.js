// 身份证号 显示/隐藏 on household pages: 显示 asks the server (logged, htmx); 隐藏 puts the masked
// number and the 显示 button back from the <template> the answer carried, without a request.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-id-hide]");
  if (!button) return;
  var cell = button.closest("[data-id-revealed]");
  var template = cell && cell.querySelector("template[data-id-masked]");
  if (!template) return;
  var masked = template.content.firstElementChild.cloneNode(true);
  cell.replaceWith(masked);
  if (window.htmx) window.htmx.process(masked);
  var again = masked.querySelector("button");
  if (again) again.focus();
});
