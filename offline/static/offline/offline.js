/* The installable app's core, on every page: the service worker, the IndexedDB store of what the
   phone keeps for offline work, the outbox and its sync, and the sync bar.

   What is kept (database "lbc-offline"): `meta` (the user, the snapshot of GET /api/v1/offline/
   and when it was taken), `outbox` (records made offline, each named by the client id it was
   created with) and `photos` (their photos, one row each, named by their own client id).
   Sync sends each record to the ordinary create endpoint with its client id as Idempotency-Key,
   so a sync cut off after the server wrote a record but before the phone heard the answer gets
   the first record back when it is sent again, never a second one. Photos go one by one, each
   removed from the phone only after the server answered 201 for it; a record leaves the outbox
   when it and all its photos are confirmed. A record the server refuses stays, with the server's
   message, until the user fixes or discards it; an edit whose contact changed on the server
   meanwhile (409) stays as a conflict with both versions until the user chooses.

   The snapshot is replaced by each sync (a child transferred away leaves the phone), deleted with
   everything else on logout, when the server refuses the user (401/403, a revoked role) and after
   <body data-offline-days> days without a sync. */
(function () {
  "use strict";
  if (!window.indexedDB || !window.fetch || !window.Promise) { return; }

  var DB_NAME = "lbc-offline";
  var body = document.body;
  var who = body.getAttribute("data-user") || "";        // a user id, "" anonymous, "shell" an offline page
  var maxDays = parseInt(body.getAttribute("data-offline-days") || "14", 10);
  var listeners = [];
  var dbPromise = null;
  var syncing = null;
  var lastError = "";

  // ------------------------------------------------------------------ IndexedDB
  function openDb() {
    if (dbPromise) { return dbPromise; }
    dbPromise = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore("meta");
        db.createObjectStore("outbox", { keyPath: "id" });
        db.createObjectStore("photos", { keyPath: "id" }).createIndex("record", "record");
      };
      req.onsuccess = function () {
        var db = req.result;
        db.onversionchange = function () { db.close(); dbPromise = null; };
        resolve(db);
      };
      req.onerror = function () { reject(req.error); };
    });
    return dbPromise;
  }

  function tx(stores, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(stores, mode);
        var result;
        t.oncomplete = function () { resolve(result); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
        result = work(t);
      }).then(function (r) { return r && r.__req ? r.__req.result : r; });
    });
  }

  function req(r) { return { __req: r }; }

  function get(store, key) { return tx([store], "readonly", function (t) { return req(t.objectStore(store).get(key)); }); }
  function put(store, value, key) {
    return tx([store], "readwrite", function (t) { t.objectStore(store).put(value, key); });
  }
  function del(store, key) { return tx([store], "readwrite", function (t) { t.objectStore(store).delete(key); }); }
  function all(store) { return tx([store], "readonly", function (t) { return req(t.objectStore(store).getAll()); }); }
  function photosOf(recordId) {
    return tx(["photos"], "readonly", function (t) {
      return req(t.objectStore("photos").index("record").getAll(recordId));
    }).then(function (rows) { return rows.sort(function (a, b) { return a.n - b.n; }); });
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* Everything about children on this phone goes: the database and the service worker's caches
     (which hold only the empty offline pages, but a logout leaves nothing of the app). */
  function wipe() {
    var closing = dbPromise ? dbPromise.then(function (db) { db.close(); }) : Promise.resolve();
    dbPromise = null;
    return closing.then(function () {
      return new Promise(function (resolve) {
        var r = indexedDB.deleteDatabase(DB_NAME);
        r.onsuccess = r.onerror = r.onblocked = function () { resolve(); };
      });
    }).then(function () {
      return window.caches ? caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) { return caches.delete(k); }));
      }) : null;
    }).then(notify, notify);
  }

  // ------------------------------------------------------------------ the outbox
  /* Queue a record made offline. `record`: {type, payload, ...}; `files`: Blobs/Files (photos). */
  function queue(record, files) {
    record.id = record.id || uuid();
    record.status = "pending";
    record.created = Date.now();
    record.serverId = null;
    return tx(["outbox", "photos"], "readwrite", function (t) {
      t.objectStore("outbox").put(record);
      Array.prototype.forEach.call(files || [], function (file, n) {
        t.objectStore("photos").put({ id: uuid(), record: record.id, n: n, blob: file,
                                      name: file.name || ("photo-" + (n + 1) + ".jpg") });
      });
    }).then(function () { notify(); if (navigator.onLine) { sync(); } return record; });
  }

  function discard(id) {
    return photosOf(id).then(function (photos) {
      return tx(["outbox", "photos"], "readwrite", function (t) {
        t.objectStore("outbox").delete(id);
        photos.forEach(function (p) { t.objectStore("photos").delete(p.id); });
      });
    }).then(notify);
  }

  /* Send a refused record again (after the user changed it) or settle a conflict. */
  function retry(record) {
    record.status = "pending";
    record.error = "";
    return put("outbox", record).then(function () { notify(); return sync(); });
  }

  // ------------------------------------------------------------------ talking to the server
  function csrf() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return m ? decodeURIComponent(m[1]) : "";
  }

  function AuthLost(status) { this.status = status; }
  function Offline() {}

  function call(method, url, data, key) {
    var headers = { "Accept": "application/json", "X-CSRFToken": csrf(), "X-Requested-With": "fetch" };
    var payload = data;
    if (key) { headers["Idempotency-Key"] = key; }
    if (data && !(data instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(data);
    }
    return fetch(url, { method: method, body: payload, headers: headers, credentials: "same-origin" })
      .catch(function () { throw new Offline(); })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (json) {
          return { status: response.status, body: json };
        });
      });
  }

  /* The server's message in one line: DRF's {"field": ["..."]} or {"detail": "..."}. */
  function message(answer) {
    var b = answer.body || {};
    if (typeof b.detail === "string") { return b.detail; }
    var parts = [];
    Object.keys(b).forEach(function (k) {
      var v = b[k];
      parts.push(Array.isArray(v) ? v.join(" ") : (typeof v === "string" ? v : JSON.stringify(v)));
    });
    return parts.join(" ") || (body.getAttribute("data-t-refused") + " (" + answer.status + ")");
  }

  var CREATE = {
    contact: { url: "/api/v1/care-contacts/", attach: "care_contact" },
    activity: { url: "/api/v1/activities/", attach: "activity" }
  };

  function refuse(record, answer) {
    if (answer.status === 401) { throw new AuthLost(401); }
    // The server could not take it now (overloaded, file store down): stop and try again later;
    // only a refusal of the record itself (4xx) is put before the user.
    if (answer.status >= 500 || answer.status === 429 || answer.status === 408) { throw new Error(message(answer)); }
    record.status = "refused";
    record.error = message(answer);
    return put("outbox", record);
  }

  function pushPhotos(record) {
    return photosOf(record.id).then(function (photos) {
      var chain = Promise.resolve(true);
      photos.forEach(function (photo) {
        chain = chain.then(function (ok) {
          if (!ok) { return false; }
          var form = new FormData();
          form.append("school", String(record.school));
          form.append(CREATE[record.type].attach, String(record.serverId));
          form.append("file", photo.blob, photo.name);
          return call("POST", "/api/v1/evidence/", form, photo.id).then(function (answer) {
            if (answer.status === 201 || answer.status === 200) { return del("photos", photo.id).then(function () { notify(); return true; }); }
            return refuse(record, answer).then(function () { return false; });
          });
        });
      });
      return chain;
    });
  }

  function pushRecord(record) {
    if (record.type === "contact_edit") {
      return call("PATCH", "/api/v1/care-contacts/" + record.contact + "/",
                  { notes: record.payload.notes, version: record.baseVersion }).then(function (answer) {
        if (answer.status === 200) { return del("outbox", record.id).then(function () { return updateContact(answer.body); }); }
        if (answer.status === 409) {
          record.status = "conflict";
          record.server = answer.body.current;
          record.error = answer.body.detail || "";
          return put("outbox", record);
        }
        return refuse(record, answer);
      });
    }
    var create = record.serverId ? Promise.resolve(true) :
      call("POST", CREATE[record.type].url, record.payload, record.id).then(function (answer) {
        if (answer.status === 201) {
          record.serverId = answer.body.id;
          record.school = answer.body.school;
          return put("outbox", record).then(function () { return true; });
        }
        return refuse(record, answer).then(function () { return false; });
      });
    return create.then(function (ok) { return ok && pushPhotos(record); }).then(function (ok) {
      if (ok) { return del("outbox", record.id); }
    });
  }

  function updateContact(contact) {
    return get("meta", "snapshot").then(function (snap) {
      if (!snap) { return; }
      snap.contacts.forEach(function (c) {
        if (c.id === contact.id) { c.notes = contact.notes; c.version = contact.version; }
      });
      return put("meta", snap, "snapshot");
    });
  }

  function pushOutbox() {
    return all("outbox").then(function (records) {
      var pending = records.filter(function (r) { return r.status === "pending"; })
        .sort(function (a, b) { return a.created - b.created; });
      var chain = Promise.resolve();
      pending.forEach(function (r) { chain = chain.then(function () { return pushRecord(r).then(notify); }); });
      return chain;
    });
  }

  function pullSnapshot() {
    return call("GET", "/api/v1/offline/").then(function (answer) {
      if (answer.status === 401 || answer.status === 403) { throw new AuthLost(answer.status); }
      if (answer.status !== 200) { throw new Error(message(answer)); }
      var snap = answer.body;
      if (!snap.schools.length) { throw new AuthLost(403); }  // no role left: nothing may stay
      snap.received = Date.now();
      return put("meta", snap, "snapshot").then(function () { return put("meta", snap.user, "user"); });
    });
  }

  /* One sync at a time. A call while one runs (a record retried or resolved meanwhile) runs one more
     sync right after it, and waits for that. `lazy`: a page that merely opened sends what waits but
     fetches the snapshot only when it is older than a few minutes. */
  var FRESH_MS = 5 * 60000;
  var again = false;
  function sync(lazy) {
    if (syncing) { again = true; return syncing; }
    if (who === "") { return Promise.resolve(); }
    lastError = "";
    body.setAttribute("data-syncing", "true");
    notify();
    syncing = pushOutbox().then(function () {
      if (lazy !== true) { return pullSnapshot(); }
      return get("meta", "snapshot").then(function (snap) {
        if (!snap || Date.now() - snap.received > FRESH_MS) { return pullSnapshot(); }
      });
    }).then(function () {
      body.setAttribute("data-synced", String(Date.now()));
    }, function (error) {
      if (error instanceof AuthLost) {
        // A lost session with records waiting keeps them for the next sign-in; a refusal of the
        // user themself (or no role left) takes everything off the phone.
        if (error.status === 401) {
          return all("outbox").then(function (rows) {
            if (rows.length) { lastError = body.getAttribute("data-t-login"); return; }
            return wipe();
          });
        }
        return wipe();
      }
      lastError = error instanceof Offline ? "" : String(error && error.message || error);
    }).then(function () {
      syncing = null;
      body.removeAttribute("data-syncing");
      notify();
      if (again) { again = false; return sync(); }
    });
    return syncing;
  }

  // ------------------------------------------------------------------ state for pages and the bar
  /* The photos waiting, without their bytes: a key cursor reads only (record, photo id). */
  function photoKeys() {
    return tx(["photos"], "readonly", function (t) {
      var rows = [];
      var cursor = t.objectStore("photos").index("record").openKeyCursor();
      cursor.onsuccess = function () {
        var c = cursor.result;
        if (c) { rows.push({ id: c.primaryKey, record: c.key }); c.continue(); }
      };
      return rows;
    });
  }

  function state() {
    return Promise.all([all("outbox"), photoKeys(), get("meta", "snapshot")]).then(function (r) {
      return { outbox: r[0], photos: r[1], snapshot: r[2] || null };
    });
  }

  function notify() {
    return state().then(function (s) {
      renderBar(s);
      listeners.forEach(function (fn) { try { fn(s); } catch (e) { if (window.console) { console.error(e); } } });
    }, function () { /* the database is being deleted */ });
  }

  function ago(ms) {
    var minutes = Math.max(0, Math.round((Date.now() - ms) / 60000));
    var t = function (n) { return body.getAttribute("data-t-" + n) || ""; };
    if (minutes < 1) { return t("now"); }
    if (minutes < 60) { return t("minutes").replace("{n}", minutes); }
    if (minutes < 60 * 24) { return t("hours").replace("{n}", Math.round(minutes / 60)); }
    return t("days").replace("{n}", Math.round(minutes / 1440));
  }

  function renderBar(s) {
    var bar = document.querySelector("[data-syncbar]");
    if (!bar) { return; }
    var waiting = s.outbox.length;
    var problems = s.outbox.filter(function (r) { return r.status !== "pending"; }).length;
    bar.querySelector("[data-sync-count]").textContent = String(waiting);
    bar.setAttribute("data-waiting", String(waiting));
    var stateText = bar.querySelector("[data-sync-state]");
    var text;
    if (!navigator.onLine) { text = body.getAttribute("data-t-offline"); }
    else if (body.hasAttribute("data-syncing")) { text = body.getAttribute("data-t-syncing"); }
    else if (lastError) { text = lastError; }
    else if (s.snapshot) { text = ago(s.snapshot.received); }
    else { text = ""; }
    stateText.textContent = text;
    var problemLink = bar.querySelector("[data-sync-problems]");
    problemLink.hidden = !problems;
    problemLink.textContent = body.getAttribute("data-t-problems").replace("{n}", problems);
    bar.classList.toggle("offline", !navigator.onLine);
    var show = waiting > 0 || !navigator.onLine || who === "shell" || body.hasAttribute("data-offline-page");
    bar.hidden = !show;
  }

  // ------------------------------------------------------------------ start
  function start() {
    var bar = document.querySelector("[data-syncbar]");
    if (bar) {
      bar.querySelector("[data-sync-now]").addEventListener("click", function () { sync(); });
    }
    // Logging out takes the phone's data with it (the server also sends Clear-Site-Data).
    Array.prototype.forEach.call(document.querySelectorAll("form.logout-form, form[data-logout]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.wiped) { return; }
        event.preventDefault();
        wipe().then(function () { form.dataset.wiped = "1"; form.submit(); });
      });
    });
    window.addEventListener("online", function () { notify(); sync(); });
    window.addEventListener("offline", function () { notify(); });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && navigator.onLine) { sync(true); }
    });
    installPrompt();

    var ready = Promise.all([get("meta", "user"), get("meta", "snapshot")]).then(function (r) {
      var user = r[0], snap = r[1];
      // Another person signed in on this phone: nothing of the previous one stays.
      if (who && who !== "shell" && user && String(user) !== who) { return wipe(); }
      // Too long without a sync: what the phone keeps expires.
      var days = (snap && snap.max_age_days) || maxDays;
      if (snap && Date.now() - snap.received > days * 86400000) { return wipe(); }
    });
    ready.then(function () {
      if (who && who !== "shell" && "serviceWorker" in navigator) {
        navigator.serviceWorker.register(body.getAttribute("data-sw"), { scope: "/" }).catch(function () {});
      }
      notify();
      // The pages that show the snapshot always refresh it; any other page only when it is stale.
      if (who !== "" && navigator.onLine) { sync(!body.hasAttribute("data-offline-page")); }
    });
  }

  function installPrompt() {
    var button = document.querySelector("[data-install]");
    if (!button) { return; }
    var deferred = null;
    window.addEventListener("beforeinstallprompt", function (event) {
      event.preventDefault();
      deferred = event;
      button.hidden = false;
    });
    button.addEventListener("click", function () {
      if (!deferred) { return; }
      deferred.prompt();
      deferred = null;
      button.hidden = true;
    });
  }

  window.LbcOffline = {
    queue: queue, discard: discard, retry: retry, sync: sync, wipe: wipe, state: state,
    put: put, uuid: uuid, ago: ago, photosOf: photosOf,
    onChange: function (fn) { listeners.push(fn); }
  };
  start();
})();
