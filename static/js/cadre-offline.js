/* Offline work of village cadres: the visit form and the application form (代录农户申报) save into
 * IndexedDB when there is no network; queued records are sent to /api/v1/visits/ or
 * /api/v1/applications/ when the connection returns, each with its own client-made UUID (a resend
 * never duplicates a record).  Shows "N 条待上传" and the list of what waits.
 * Each queued record carries the account that saved it (data-user) and is sent only by that account:
 * the queue outlives a logout (docs/decisions/2026-12-03-logout-and-offline-copies.md), another cadre signing in
 * on the phone neither
 * sends nor sees it.
 * A page the service worker served from its copy (data-served="cache") or shown while offline says
 * 「离线：数据截至 HH:MM」, the time the server made it. */
(function () {
  "use strict";
  var DB_NAME = "fanpin-cadre";
  var STORE = "visits";  // every queued record (its "kind": visit or application; none: a visit)
  var box = document.getElementById("offline-queue");
  if (!box || !window.indexedDB) return;
  var KINDS = {
    visit: { api: box.dataset.api, name: "走访记录", form: "visit-form", required: ["household", "visited_on", "visitors"],
             missing: "请先填写农户、走访日期和走访人。", keep: ["visited_on", "visitors"] },
    application: { api: box.dataset.apiApplications, name: "农户申报", form: "application-form",
                   required: ["household", "reason", "description"], missing: "请先选择农户、申报事由并填写情况说明。", keep: [] }
  };
  var me = box.dataset.user || "";
  var fromCopy = box.dataset.served === "cache";
  var countEl = document.getElementById("queue-count");
  var messageEl = document.getElementById("queue-message");
  var stateEl = document.getElementById("network-state");
  var sendBtn = document.getElementById("queue-send");
  var noteEl = document.getElementById("offline-note");
  var itemsEl = document.getElementById("queue-items");
  var form = document.getElementById("visit-form") || document.getElementById("application-form");
  var formKind = form && form.id === "application-form" ? "application" : "visit";
  var syncing = false;

  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_uuid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var req = work(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
        tx.onabort = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function mine(item) { return !item.owner || item.owner === me; }  // no owner: saved before owners were kept
  function kindOf(item) { return KINDS[item.kind] ? item.kind : "visit"; }

  /* "1 条走访记录、2 条农户申报" (kinds in a fixed order, only those present) */
  function tally(items) {
    return ["visit", "application"].map(function (kind) {
      var n = items.filter(function (i) { return kindOf(i) === kind; }).length;
      return n ? n + " 条" + KINDS[kind].name : "";
    }).filter(Boolean).join("、");
  }
  function allQueued() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function queued() { return allQueued().then(function (items) { return items.filter(mine); }); }
  function enqueue(item) { return withStore("readwrite", function (s) { return s.put(item); }); }
  function dequeue(uuid) { return withStore("readwrite", function (s) { return s.delete(uuid); }); }

  function newUuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function say(text) { messageEl.textContent = text; }

  /* When the page's data is from: 「离线：数据截至 14:05」 (with the date when not today). */
  function renderNote() {
    if (!noteEl) return;
    var d = new Date();
    var today = d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
    var asOf = box.dataset.asOfDay === today ? box.dataset.asOf : box.dataset.asOfLabel;
    if (!navigator.onLine) noteEl.textContent = "离线：数据截至 " + asOf + "，以下为本机保存的内容。";
    else if (fromCopy) noteEl.textContent = "本机保存的页面：数据截至 " + asOf + "，刷新可查看最新情况。";
    noteEl.hidden = navigator.onLine && !fromCopy;
  }

  function savedAt(item) {
    var d = new Date(item.saved_at);
    return isNaN(d) ? "" : (d.getMonth() + 1) + "月" + d.getDate() + "日 " + ("0" + d.getHours()).slice(-2) + ":" + ("0" + d.getMinutes()).slice(-2);
  }

  function renderItems(items) {
    if (!itemsEl) return;
    itemsEl.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = [KINDS[kindOf(item)].name, item.label || "", savedAt(item) ? "保存于 " + savedAt(item) : ""]
        .filter(Boolean).join(" · ") + (item.error ? "（未通过检查）" : "");
      itemsEl.appendChild(li);
    });
    itemsEl.hidden = !items.length;
  }

  function render() {
    stateEl.textContent = navigator.onLine ? "在线" : "离线";
    stateEl.className = "badge border " + (navigator.onLine ? "text-bg-light" : "text-bg-warning");
    renderNote();
    return allQueued().then(function (all) {
      var items = all.filter(mine);
      var others = all.filter(function (i) { return !mine(i); });
      var failed = items.filter(function (i) { return i.error; }).length;
      countEl.textContent = items.length + " 条待上传";
      box.className = box.className.replace(/alert-(secondary|warning)/, items.length ? "alert-warning" : "alert-secondary");
      sendBtn.hidden = !items.length;
      renderItems(items);
      if (failed) say(failed + " 条未通过检查，请联系乡镇或重新录入：" + items.filter(function (i) { return i.error; })[0].error);
      else if (others.length) say("本机另有 " + tally(others).replace(/^(\d+) 条/, "$1 条其他账号保存的") + "，须由该账号登录后上传。");
      return items;
    });
  }

  function payload(item) {
    var data = new FormData();
    item.entries.forEach(function (pair) {
      if (pair[0] === "csrfmiddlewaretoken") return;
      data.append(pair[0], pair[1]);
    });
    data.set("client_uuid", item.client_uuid);
    return data;
  }

  function sendOne(item) {
    return fetch(KINDS[kindOf(item)].api, {
      method: "POST",
      body: payload(item),
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 200 || response.status === 201) return dequeue(item.client_uuid).then(function () { return "sent"; });
      if (response.status === 400 || response.status === 404) {
        return response.text().then(function (text) {
          item.error = "服务器拒绝（" + response.status + "）" + text.slice(0, 200);
          return enqueue(item).then(function () { return "rejected"; });
        });
      }
      throw new Error("status " + response.status);  // 401/403 (login expired), 5xx: try again later
    });
  }

  function sync() {
    if (syncing || !navigator.onLine) return render();
    syncing = true;
    return queued().then(function (items) {
      var pending = items.filter(function (i) { return !i.error; });
      var sent = [];
      var chain = Promise.resolve();
      pending.forEach(function (item) {
        chain = chain.then(function () { return sendOne(item); }).then(function (r) { if (r === "sent") sent.push(item); });
      });
      return chain.then(function () {
        if (sent.length) say("已上传 " + tally(sent) + "。");
      }).catch(function () {
        say("暂时无法上传（网络不稳定或登录已过期），稍后会自动重试。");
      });
    }).then(function () { syncing = false; return render(); }, function () { syncing = false; return render(); });
  }

  function resetForm() {
    var keep = {};
    KINDS[formKind].keep.forEach(function (n) { keep[n] = form.elements[n].value; });
    form.reset();
    Object.keys(keep).forEach(function (n) { form.elements[n].value = keep[n]; });
    form.elements.client_uuid.value = newUuid();
  }

  /* The household's number (the picker shows "number name"; the name stays off the queue) */
  function householdLabel() {
    var select = form.elements.household;
    var option = select && select.options[select.selectedIndex];
    return option && option.value ? option.text.split(" ")[0] : "";
  }

  if (form) {
    // a page copy carries the UUID of the day it was kept: every page shown gets a fresh one
    if (!form.elements.client_uuid.value || fromCopy) form.elements.client_uuid.value = newUuid();
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) return;  // online: the ordinary form post (errors shown by the server)
      event.preventDefault();
      var kind = KINDS[formKind];
      var missing = kind.required.filter(function (n) { return !form.elements[n].value.trim(); });
      if (missing.length) {
        say(kind.missing);
        form.elements[missing[0]].focus();
        return;
      }
      var entries = [];
      new FormData(form).forEach(function (value, name) {
        if (value instanceof File && !value.size) return;  // empty file input
        if (formKind === "application" && value === "") return;  // 涉及金额 left empty
        entries.push([name, value]);
      });
      var item = { client_uuid: form.elements.client_uuid.value || newUuid(), kind: formKind, entries: entries, owner: me,
                   label: householdLabel(), saved_at: new Date().toISOString() };
      enqueue(item).then(function () {
        resetForm();
        say("已保存在本机，联网后自动上传。");
        return render();
      }).catch(function () { say("保存到本机失败，请检查浏览器存储空间。"); });
    });
  }

  /* A township's or county's form lists only what its search found (the search needs the server):
   * offline the search is not sent (the page kept for another search would come back), and the
   * households found when online stay to choose from. */
  var search = document.querySelector("[data-testid=household-picker-search]");
  if (search) {
    search.addEventListener("submit", function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      say("离线时无法查找农户：「农户」中是联网时查到的农户，联网后再查找其他农户。");
    });
  }

  sendBtn.addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { render(); });
  if ("serviceWorker" in navigator && box.dataset.sw) {
    navigator.serviceWorker.register(box.dataset.sw, { scope: box.dataset.scope }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // keep the other cadre pages for offline use (the worker fetches only those it has no copy of)
      if (navigator.onLine && !fromCopy && registration.active && box.dataset.pages) {
        registration.active.postMessage({ type: "keep-pages", pages: box.dataset.pages.split(" ") });
      }
    }).catch(function () {});
  }
  sync();
})();
