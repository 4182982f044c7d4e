/* The sign-in page, where a logout and an expired session land: forget the village cadre pages the
 * service worker (cadre-sw.js) kept for offline use, which show the last user's households.
 * Unsent visits (IndexedDB, cadre-offline.js) are kept: they are sent by the account that saved them
 * once it signs in again (docs/decisions/2026-12-03-logout-and-offline-copies.md). */
(function () {
  "use strict";
  if (!window.caches) return;
  // the worker too, so that a page it is still fetching for the last user is not kept afterwards
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.getRegistrations().then(function (registrations) {
      registrations.forEach(function (r) { if (r.active) r.active.postMessage({ type: "forget" }); });
    }).catch(function () {});
  }
  caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("fanpin-cadre") === 0; })
      .map(function (k) { return caches.delete(k); }));
  }).catch(function () {});
})();
