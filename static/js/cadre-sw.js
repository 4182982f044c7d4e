/* Service worker of the village cadre pages (served at /monitoring/cadre/sw.js, scope /monitoring/cadre/).
 * Pages: network first, the last good copy when offline.  Static files: cache first.
 * Never touches POSTs or the API: visits saved offline wait in IndexedDB (cadre-offline.js).
 * The page copies are deleted when a cadre page answers "signed out" and on the sign-in page. */
"use strict";
var CACHE = "fanpin-cadre-v1";

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
  var url = new URL(request.url);
  return url.origin + url.pathname;  // one copy per page, whatever the query string
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0) return;
  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request).then(function (response) {
        var cadrePage = url.pathname.indexOf("/monitoring/cadre/") === 0;
        if (cadrePage && response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(pageKey(request), copy); });
        } else if (cadrePage && (response.type === "opaqueredirect" || response.redirected ||
                                 response.status === 401 || response.status === 403)) {
          // signed out or another account: the copies show the last user's households (the sign-in
          // page deletes them too, static/js/session-end.js)
          caches.delete(CACHE);
        }
        return response;
      }).catch(function () {
        return caches.open(CACHE).then(function (cache) {
          return cache.match(pageKey(request)).then(function (hit) {
            return hit || new Response("<!doctype html><meta charset=utf-8><title>离线</title><p>当前没有网络，此页面尚未缓存。请联网后打开一次“录入走访记录”。</p>",
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
