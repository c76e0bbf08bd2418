/* The service worker: keeps the offline pages and their files, and answers a page the network
   cannot give with the offline page for it. It caches no page with data: a school's pages and the
   API always go to the network (the data a phone keeps lives in IndexedDB, see offline.js). */
"use strict";
var VERSION = "{{ version }}";
var SHELL = "lbc-shell-" + VERSION;
var PRECACHE = {{ precache|safe }};
var STATIC_PREFIX = {{ static_prefix|safe }};
var FALLBACK = {{ fallbacks|safe }};

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    return cache.addAll(PRECACHE.map(function (url) { return new Request(url, { cache: "reload" }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== SHELL; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function fallbackFor(path) {
  if (/^\/schools\/\d+\/tracker\/$/.test(path)) { return FALLBACK.tracker; }
  if (/^\/schools\/\d+\/activities\/(new\/)?$/.test(path)) { return FALLBACK.activities; }
  if (path === "/") { return FALLBACK.home; }
  if (path === FALLBACK.tracker || path === FALLBACK.home || path === FALLBACK.activities) { return path; }
  return FALLBACK.other;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(function () {
      return caches.open(SHELL).then(function (cache) {
        return cache.match(fallbackFor(url.pathname), { ignoreVary: true, ignoreSearch: true });
      }).then(function (page) { return page || Response.error(); });
    }));
    return;
  }
  if (url.pathname.indexOf(STATIC_PREFIX) === 0) {
    event.respondWith(caches.match(request, { ignoreVary: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});
