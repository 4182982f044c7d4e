/* Offline visits for village cadres: the visit form saves into IndexedDB when there is no network;
 * queued visits are sent to /api/v1/visits/ when the connection returns, each with its own
 * client-made UUID (a resend never duplicates a visit).  Shows "N 条待上传".
 * Each queued visit carries the account that saved it (data-user) and is sent only by that account:
 * the queue outlives a logout (docs/decisions.md), another cadre signing in on the phone neither
 * sends nor sees it. */
(function () {
  "use strict";
  var DB_NAME = "fanpin-cadre";
  var STORE = "visits";
  var box = document.getElementById("offline-queue");
  if (!box || !window.indexedDB) return;
  var api = box.dataset.api;
  var me = box.dataset.user || "";
  var countEl = document.getElementById("queue-count");
  var messageEl = document.getElementById("queue-message");
  var stateEl = document.getElementById("network-state");
  var sendBtn = document.getElementById("queue-send");
  var form = document.getElementById("visit-form");
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

  function render() {
    stateEl.textContent = navigator.onLine ? "在线" : "离线";
    stateEl.className = "badge border " + (navigator.onLine ? "text-bg-light" : "text-bg-warning");
    return allQueued().then(function (all) {
      var items = all.filter(mine);
      var others = all.length - items.length;
      var failed = items.filter(function (i) { return i.error; }).length;
      countEl.textContent = items.length + " 条待上传";
      box.className = box.className.replace(/alert-(secondary|warning)/, items.length ? "alert-warning" : "alert-secondary");
      sendBtn.hidden = !items.length;
      if (failed) say(failed + " 条未通过检查，请联系乡镇或重新录入：" + items.filter(function (i) { return i.error; })[0].error);
      else if (others) say("本机另有 " + others + " 条其他账号保存的走访记录，须由该账号登录后上传。");
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
    return fetch(api, {
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
      var sent = 0;
      var chain = Promise.resolve();
      pending.forEach(function (item) {
        chain = chain.then(function () { return sendOne(item); }).then(function (r) { if (r === "sent") sent += 1; });
      });
      return chain.then(function () {
        if (sent) say("已上传 " + sent + " 条走访记录。");
      }).catch(function () {
        say("暂时无法上传（网络不稳定或登录已过期），稍后会自动重试。");
      });
    }).then(function () { syncing = false; return render(); }, function () { syncing = false; return render(); });
  }

  function resetForm() {
    var keep = { visited_on: form.elements.visited_on.value, visitors: form.elements.visitors.value };
    form.reset();
    form.elements.visited_on.value = keep.visited_on;
    form.elements.visitors.value = keep.visitors;
    form.elements.client_uuid.value = newUuid();
  }

  if (form) {
    if (!form.elements.client_uuid.value) form.elements.client_uuid.value = newUuid();
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) return;  // online: the ordinary form post (errors shown by the server)
      event.preventDefault();
      var missing = ["household", "visited_on", "visitors"].filter(function (n) { return !form.elements[n].value.trim(); });
      if (missing.length) {
        say("请先填写农户、走访日期和走访人。");
        form.elements[missing[0]].focus();
        return;
      }
      var entries = [];
      new FormData(form).forEach(function (value, name) {
        if (value instanceof File && !value.size) return;  // empty file input
        entries.push([name, value]);
      });
      var item = { client_uuid: form.elements.client_uuid.value || newUuid(), entries: entries, owner: me, saved_at: new Date().toISOString() };
      enqueue(item).then(function () {
        resetForm();
        say("已保存在本机，联网后自动上传。");
        return render();
      }).catch(function () { say("保存到本机失败，请检查浏览器存储空间。"); });
    });
  }

  sendBtn.addEventListener("click", function () { sync(); });
  window.addEventListener("online", function () { sync(); });
  window.addEventListener("offline", function () { render(); });
  if ("serviceWorker" in navigator && box.dataset.sw) {
    navigator.serviceWorker.register(box.dataset.sw, { scope: box.dataset.scope }).catch(function () {});
  }
  sync();
})();
