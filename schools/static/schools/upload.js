/* Multi-file evidence upload with per-file progress.
   Without JavaScript the form posts all files at once and the page lists per-file errors.
   With it, each file goes in its own request (XMLHttpRequest: fetch has no upload progress),
   so a slow phone connection shows progress and one bad photo does not hold up the others. */
(function () {
  "use strict";

  function csrf(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function row(list, name) {
    var li = document.createElement("li");
    var label = document.createElement("div");
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    li.appendChild(label);
    li.appendChild(bar);
    list.appendChild(li);
    return { li: li, label: label, bar: bar };
  }

  function addThumb(result) {
    var gallery = document.querySelector("[data-gallery]");
    if (!gallery || !result.thumb) return;
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = result.url;
    var img = document.createElement("img");
    img.src = result.thumb;
    img.alt = result.name;
    a.appendChild(img);
    li.appendChild(a);
    gallery.appendChild(li);
    var empty = document.querySelector("[data-gallery-empty]");
    if (empty) empty.remove();
  }

  function send(form, field, file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrf(form));
      data.append(field, file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action || window.location.href);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) ui.bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener("load", function () {
        var result = null;
        try { result = JSON.parse(xhr.responseText).results[0]; } catch (err) { result = null; }
        ui.bar.remove();
        if (result && result.ok) {
          ui.li.className = "ok";
          ui.label.textContent = file.name + " — " + form.dataset.msgDone;
          addThumb(result);
        } else {
          ui.li.className = "err";
          ui.label.textContent = file.name + " — " + form.dataset.msgFailed + ": " +
            (result && result.error ? result.error : xhr.status);
        }
        resolve(result && result.ok);
      });
      xhr.addEventListener("error", function () {
        ui.bar.remove();
        ui.li.className = "err";
        ui.label.textContent = file.name + " — " + form.dataset.msgNetwork;
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function upgrade(form) {
    var input = form.querySelector("input[type=file]");
    var list = form.querySelector("[data-progress]");
    if (!input || !list || !window.FormData || !window.Promise) return;
    form.addEventListener("submit", function (event) {
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) return; // let the server say "choose a file"
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      list.textContent = "";
      var uis = files.map(function (f) { return row(list, f.name); });
      // One at a time: a phone's uplink is the bottleneck, parallel requests only slow each other.
      var chain = Promise.resolve();
      files.forEach(function (file, i) {
        chain = chain.then(function () { return send(form, input.name, file, uis[i]); });
      });
      chain.then(function () {
        input.value = "";
        if (button) button.disabled = false;
        form.dispatchEvent(new CustomEvent("uploads-finished", { bubbles: true }));
        document.body.dataset.uploadsFinished = String(Date.now());
      });
    });
  }

  document.querySelectorAll("form[data-upload]").forEach(upgrade);
})();
