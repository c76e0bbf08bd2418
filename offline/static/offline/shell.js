/* The offline pages, filled from what offline.js keeps on the phone: the four-contacts tracker of
   the user's own children (record a contact with notes and photos, edit a contact's notes), the
   to-do list as last synced, a new activity with photos, and the records waiting with what the
   server said about them (refused: fix or discard; changed elsewhere: both versions, choose). */
(function () {
  "use strict";
  var off = window.LbcOffline;
  if (!off) { return; }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "class") { node.className = attrs[k]; }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  function today() {
    var d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 10);
  }

  var toastTimer = null;
  function say(text) {
    var toast = document.querySelector("[data-toast]");
    if (!toast) { return; }
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 3500);
  }

  // ------------------------------------------------------------------ the tracker
  var tracker = document.querySelector("[data-offline-tracker]");
  var kinds = tracker ? JSON.parse(tracker.getAttribute("data-kinds")) : [];
  var kindLabel = {};
  kinds.forEach(function (k) { kindLabel[k[0]] = k[1]; });
  var openPanel = null;  // {child, kind|contact}: kept across re-renders
  function t(name, node) { return (node || tracker).getAttribute("data-t-" + name) || ""; }

  function renderTracker(s) {
    var rows = tracker.querySelector("[data-rows]");
    var date = tracker.querySelector("[data-date]");
    if (!date.value) { date.value = today(); }
    date.max = today();
    var children = s.snapshot ? s.snapshot.children : [];
    tracker.querySelector("[data-empty]").hidden = children.length > 0;
    if (openPanel && rows.querySelector("[data-panel]")) { return; }  // do not wipe what is being typed
    rows.textContent = "";
    children.forEach(function (child) {
      var queued = s.outbox.filter(function (r) { return r.type === "contact" && r.payload.child === child.id; });
      var cells = kinds.map(function (k) {
        var cell = child.cells[k[0]] || { count: 0, last: null };
        var waiting = queued.filter(function (r) { return r.payload.kind === k[0]; }).length;
        var shown = cell.count ? cell.last.slice(5) + (cell.count > 1 ? " ×" + cell.count : "") : t("not-yet");
        if (waiting) { shown += " +" + waiting + " " + t("queued"); }
        var button = el("button", { type: "button", "class": "tracker-cell" + (cell.count ? " done" : "") + (waiting ? " queued" : ""),
                                    "data-cell": child.id + ":" + k[0] },
                        [el("span", { "class": "k", text: k[1] }), el("span", { "class": "d", text: shown })]);
        button.addEventListener("click", function () { openPanel = { child: child, kind: k[0] }; renderPanel(li); });
        return button;
      });
      var mine = s.snapshot.contacts.filter(function (c) { return c.child === child.id; });
      var li = el("li", { "data-child": String(child.id) }, [
        el("div", { "class": "who" }, [el("strong", { text: child.name }), el("span", { "class": "muted", text: child.class_name })]),
        el("div", { "class": "tracker-cells" }, cells),
        mine.length ? el("ul", { "class": "offline-contacts", "aria-label": t("mine") }, mine.map(function (c) {
          var edit = el("button", { type: "button", "data-edit-contact": String(c.id), text: t("edit") });
          edit.addEventListener("click", function () { openPanel = { child: child, contact: c }; renderPanel(li); });
          return el("li", {}, [el("span", { text: (kindLabel[c.kind] || c.kind) + " " + c.happened_on.slice(5) +
                                                    (c.notes ? " · " + c.notes : "") }), edit]);
        })) : null
      ]);
      rows.appendChild(li);
    });
  }

  function renderPanel(li) {
    Array.prototype.forEach.call(document.querySelectorAll("[data-panel]"), function (p) { p.remove(); });
    var p = openPanel;
    var editing = !!p.contact;
    var notes = el("textarea", { "data-notes": "", "aria-label": t("notes"), maxlength: "2000" });
    if (editing) { notes.value = p.contact.notes || ""; }
    var photos = editing ? null : el("input", { type: "file", accept: "image/*", multiple: "", "data-photos": "",
                                                "aria-label": t("photos") });
    var save = el("button", { type: "submit", "class": "btn btn-primary", "data-save": "", text: t("save") });
    var cancel = el("button", { type: "button", "class": "btn", text: t("cancel") });
    var title = editing ? t("edit") + " · " + (kindLabel[p.contact.kind] || "") + " " + p.contact.happened_on
                        : p.child.name + " · " + kindLabel[p.kind];
    var panel = el("form", { "class": "card offline-panel", "data-panel": "" }, [
      el("strong", { text: title }),
      el("label", { text: t("notes") }), notes,
      photos ? el("label", { text: t("photos") }) : null, photos,
      el("div", { "class": "actions" }, [save, cancel])
    ]);
    cancel.addEventListener("click", function () { openPanel = null; panel.remove(); off.state().then(renderTracker); });
    panel.addEventListener("submit", function (event) {
      event.preventDefault();
      if (save.disabled) { return; }
      save.disabled = true;  // one tap, one record
      var done;
      if (editing) {
        done = off.queue({ type: "contact_edit", contact: p.contact.id, baseVersion: p.contact.version,
                           school: p.contact.school, payload: { notes: notes.value },
                           before: p.contact.notes, label: p.child.name + " · " + (kindLabel[p.contact.kind] || "") +
                           " " + p.contact.happened_on });
      } else {
        var date = tracker.querySelector("[data-date]");
        if (!date.checkValidity()) { date.reportValidity(); save.disabled = false; return; }
        done = off.queue({ type: "contact", school: p.child.school,
                           payload: { child: p.child.id, kind: p.kind, happened_on: date.value, notes: notes.value },
                           label: p.child.name + " · " + kindLabel[p.kind] + " " + date.value },
                         Array.prototype.slice.call(photos.files || []));
      }
      done.then(function () {
        openPanel = null;
        panel.remove();
        say(t("saved"));
        return off.state().then(renderTracker);
      });
    });
    li.appendChild(panel);
    notes.focus();
  }

  // ------------------------------------------------------------------ today's work
  var home = document.querySelector("[data-offline-home]");
  function renderHome(s) {
    var snap = s.snapshot;
    home.querySelector("[data-empty]").hidden = !!snap;
    home.querySelector("[data-age]").textContent = snap ? off.ago(snap.received) : "";
    var box = home.querySelector("[data-sections]");
    box.textContent = "";
    if (!snap) { return; }
    snap.todo.sections.forEach(function (section) {
      box.appendChild(el("section", { "class": "card" }, [
        el("h2", { text: section.title + " · " + section.place }),
        el("ul", { "class": "todo-offline" }, section.items.map(function (item) {
          return el("li", {}, [el("a", { href: item.url }, [el("span", { text: item.label }),
                                                             el("b", { text: String(item.count) })])]);
        }))
      ]));
    });
  }

  // ------------------------------------------------------------------ a new activity
  var activity = document.querySelector("[data-offline-activity]");
  function renderActivity(s) {
    var schools = s.snapshot ? s.snapshot.schools.filter(function (x) { return x.activities; }) : [];
    document.querySelector("[data-empty]").hidden = schools.length > 0;
    activity.hidden = !schools.length;
    var select = activity.querySelector("select[name=school]");
    if (select.options.length !== schools.length) {
      select.textContent = "";
      schools.forEach(function (x) { select.appendChild(el("option", { value: String(x.id), text: x.name })); });
    }
    var date = activity.querySelector("input[name=date]");
    if (!date.value) { date.value = today(); }
    date.max = today();
  }
  if (activity) {
    activity.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = activity.querySelector("button[type=submit]");
      if (button.disabled) { return; }
      button.disabled = true;
      var f = activity.elements;
      var payload = { school: parseInt(f.school.value, 10), date: f.date.value, kind: f.kind.value,
                      title: f.title.value, text_record: f.text_record.value };
      off.queue({ type: "activity", school: payload.school, payload: payload, label: payload.title + " " + payload.date },
                Array.prototype.slice.call(f.photos.files || [])).then(function () {
        activity.reset();
        button.disabled = false;
        say(activity.getAttribute("data-t-saved"));
      });
    });
  }

  // ------------------------------------------------------------------ the records waiting
  var outbox = document.querySelector("[data-outbox-section]");
  function ot(name) { return outbox.getAttribute("data-t-" + name) || ""; }

  /* Redrawn only when what it shows changed: every sync ends with a redraw request, and rebuilding
     an unchanged list under the user's finger would swallow a tap on a button being replaced. */
  var outboxShown = null;
  function renderOutbox(s) {
    var list = outbox.querySelector("[data-outbox]");
    if (list.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON") { return; }
    var photosLeft = {};
    s.photos.forEach(function (p) { photosLeft[p.record] = (photosLeft[p.record] || 0) + 1; });
    var shown = JSON.stringify([s.outbox, photosLeft]);
    if (shown === outboxShown) { return; }
    outboxShown = shown;
    outbox.querySelector("[data-outbox-empty]").hidden = s.outbox.length > 0;
    list.textContent = "";
    s.outbox.sort(function (a, b) { return a.created - b.created; }).forEach(function (r) {
      var discard = el("button", { type: "button", "data-discard": r.id, text: ot("discard") });
      discard.addEventListener("click", function () {
        if (window.confirm(ot("confirm"))) { off.discard(r.id); }
      });
      var parts = [el("strong", { text: r.label || r.type })];
      if (r.status === "pending") {
        parts.push(el("div", { "class": "muted", text: ot("pending") + (photosLeft[r.id] ? " · " + ot("photos").replace("{n}", photosLeft[r.id]) : "") }));
      } else if (r.status === "refused") {
        parts.push(el("div", { "class": "error", "data-error": "", text: r.error }));
        parts.push(fixForm(r));
        parts.push(discard);
      } else if (r.status === "conflict") {
        parts.push(conflictView(r));
      }
      list.appendChild(el("li", { "class": "outbox-item " + r.status, "data-outbox-item": r.id, "data-status": r.status }, parts));
    });
  }

  /* A refused record can be corrected (its date and notes) and sent again under the same client
     id: a refused create wrote nothing, so the id is still free on the server. */
  function fixForm(r) {
    if (r.type === "contact_edit") {
      var resendEdit = el("button", { type: "button", "data-resend": r.id, text: ot("resend") });
      resendEdit.addEventListener("click", function () { off.retry(r); });
      return resendEdit;
    }
    var dateKey = r.type === "contact" ? "happened_on" : "date";
    var notesKey = r.type === "contact" ? "notes" : "text_record";
    var date = el("input", { type: "date", value: r.payload[dateKey], "aria-label": ot("date"), max: today() });
    var notes = el("textarea", { "aria-label": ot("notes") });
    notes.value = r.payload[notesKey] || "";
    var resend = el("button", { type: "button", "data-resend": r.id, text: ot("resend") });
    resend.addEventListener("click", function () {
      r.payload[dateKey] = date.value;
      r.payload[notesKey] = notes.value;
      off.retry(r);
    });
    return el("div", { "class": "offline-panel-fix" }, [date, notes, resend]);
  }

  function conflictView(r) {
    var server = r.server || {};
    var mine = el("button", { type: "button", "data-keep-mine": r.id, text: ot("keep-mine") });
    var theirs = el("button", { type: "button", "data-keep-theirs": r.id, text: ot("keep-theirs") });
    mine.addEventListener("click", function () {
      // Mine wins, as a new edit on top of the version now stored (which the user has seen).
      r.baseVersion = server.version;
      off.retry(r);
    });
    theirs.addEventListener("click", function () {
      off.state().then(function (s) {
        if (s.snapshot) {
          s.snapshot.contacts.forEach(function (c) {
            if (c.id === server.id) { c.notes = server.notes; c.version = server.version; }
          });
          return off.put("meta", s.snapshot, "snapshot");
        }
      }).then(function () { return off.discard(r.id); });
    });
    return el("div", {}, [
      el("p", { "class": "error", text: ot("conflict") }),
      el("div", { "class": "conflict-sides" }, [
        el("div", { "data-side": "mine" }, [el("h3", { text: ot("mine") }), el("p", { text: r.payload.notes })]),
        el("div", { "data-side": "theirs" }, [el("h3", { text: ot("theirs") }), el("p", { text: server.notes || "" })])
      ]),
      el("div", { "class": "actions" }, [mine, theirs])
    ]);
  }

  function render(s) {
    if (tracker) { renderTracker(s); }
    if (home) { renderHome(s); }
    if (activity) { renderActivity(s); }
    if (outbox) { renderOutbox(s); }
  }
  off.onChange(render);
  off.state().then(render);
})();
