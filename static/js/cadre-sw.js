/* Service worker of the village cadre pages (served at /monitoring/cadre/sw.js, scope /monitoring/cadre/).
 * Pages: network first, the last good copy when offline (marked data-served="cache", so the page says
 * 「离线：数据截至 HH:MM」).  Static files: cache first.  A cadre page asks for the other cadre pages
 * (村级工作台, 走访 and 申报 forms) to be kept too, so they open offline even if never visited before.
 * Never touches POSTs or the API: visits and applications saved offline wait in IndexedDB
 * (cadre-offline.js).
 * The page copies are deleted when a cadre page answers "signed out" and on the sign-in page. */
"use strict";
var CACHE = "fanpin-cadre-v2";
var forgotten = 0;  // times the sign-in page said "forget" (session-end.js) while this worker ran

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function pageKey(request) {
  var url = new URL(request.url || request, self.location.origin);
  return url.origin + url.pathname;  // one copy per page, whatever the query string
}

function isCadrePage(url) {
  return url.origin === self.location.origin && url.pathname.indexOf("/monitoring/cadre/") === 0 &&
    url.pathname !== "/monitoring/cadre/sw.js";
}

/* Keep a good copy of a cadre page; a redirect, 401 or 403 (signed out, or another account) deletes
 * every copy: they show the last user's households (the sign-in page deletes them too,
 * static/js/session-end.js). */
function keep(key, response) {
  if (response.ok && !response.redirected && response.type !== "opaqueredirect") {
    var copy = response.clone();
    return caches.open(CACHE).then(function (cache) { return cache.put(key, copy); });
  }
  if (response.type === "opaqueredirect" || response.redirected || response.status === 401 || response.status === 403) {
    return caches.delete(CACHE);
  }
  return Promise.resolve();
}

/* The copy, marked as such for the page (cadre-offline.js shows when its data is from). */
function offlineCopy(hit) {
  return hit.text().then(function (html) {
    var headers = new Headers(hit.headers);
    headers.delete("Content-Length");
    return new Response(html.replace('data-served="network"', 'data-served="cache"'),
      { status: hit.status, statusText: hit.statusText, headers: headers });
  });
}

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "forget") {
    forgotten += 1;
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (data.type !== "keep-pages" || !Array.isArray(data.pages)) return;
  // only the pages not kept yet: a weak signal is not spent on pages the cadre opens anyway
  var asked = forgotten;
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(data.pages.map(function (path) {
      var url = new URL(path, self.location.origin);
      if (!isCadrePage(url)) return null;
      return cache.match(pageKey(url.href)).then(function (hit) {
        if (hit) return null;
        return fetch(url.href, { credentials: "same-origin" }).then(function (response) {
          // signed out while the page was on its way: its copy would outlive the logout
          return caches.has(CACHE).then(function (still) {
            return still && asked === forgotten ? keep(pageKey(url.href), response) : null;
          });
        }).catch(function () {});
      });
    }));
  }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then(function (response) {
        if (isCadrePage(url)) event.waitUntil(keep(pageKey(request), response));
        return response;
      }).catch(function () {
        return caches.open(CACHE).then(function (cache) {
          return cache.match(pageKey(request)).then(function (hit) {
            return hit ? offlineCopy(hit) : new Response("<!doctype html><meta charset=utf-8><title>离线</title><p>当前没有网络，此页面尚未缓存。请联网后打开一次“村级工作台”。</p>",
              { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
          });
        });
      })
    );
    return;
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.open(CACHE).then(function (cache) {
        return cache.match(request).then(function (hit) {
          if (hit) return hit;
          return fetch(request).then(function (response) {
            if (response.ok) cache.put(request, response.clone());
            return response;
          });
        });
      })
    );
  }
});
