/* Four-contact tracker: a tap on a cell records the contact without leaving the page.
   Progressive enhancement: without this file every cell is a submit button of a normal form
   (the server records and redirects back). With it, the same form data goes by fetch() and the
   JSON answer updates the one cell. The CSRF token is the form's own csrfmiddlewaretoken.
   One tap is one contact: taps are ignored while a request is in flight, each request carries the
   form's client_id (the server records a repeated id once), and the cell shows the count the server
   answered, not a local guess. The server hands the id for the next tap with each answer; after a
   lost answer the id stays, so tapping again cannot record the contact twice. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-tracker]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var toast = document.querySelector("[data-toast]");
  var timer = null;
  var inFlight = false;
  var clientId = form.querySelector("input[data-client-id]");

  function say(text, isError) {
    if (!toast) { return; }
    toast.textContent = text;
    toast.classList.toggle("error", !!isError);
    toast.hidden = false;
    clearTimeout(timer);
    timer = setTimeout(function () { toast.hidden = true; }, 3500);
  }

  function shortDate(iso) { return iso ? iso.slice(5) : ""; }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button.tracker-cell");
    if (!button || button.disabled) { return; }
    event.preventDefault();
    if (inFlight) { return; }
    var date = form.querySelector("input[name=happened_on]");
    if (date && !date.checkValidity()) { date.reportValidity(); return; }
    var data = new FormData(form);
    data.set("cell", button.value);
    inFlight = true;
    form.setAttribute("aria-busy", "true");
    button.classList.add("busy");
    button.classList.remove("failed");
    button.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().catch(function () { return { ok: false, error: response.statusText }; });
    }).then(function (answer) {
      if (answer.client_id && clientId) { clientId.value = answer.client_id; }
      if (!answer.ok) { throw new Error(answer.error || "?"); }
      var last = button.querySelector("[data-last]");
      button.classList.toggle("done", answer.count > 0);
      if (answer.count > 0) {
        last.textContent = shortDate(answer.last) + (answer.count > 1 ? " ×" + answer.count : "");
      }
      button.dataset.count = String(answer.count);
      button.dataset.recorded = String(answer.contact);
      // The tap stays one tap; notes and photos are one more tap away on the contact's own page.
      var row = button.closest("li[data-child]");
      var detail = row && row.querySelector("a[data-detail]");
      if (detail && answer.detail_url) {
        detail.href = answer.detail_url;
        detail.hidden = false;
      }
      say(answer.message, false);
    }).catch(function (error) {
      button.classList.add("failed");
      say(error.message, true);
    }).then(function () {
      inFlight = false;
      form.removeAttribute("aria-busy");
      button.classList.remove("busy");
      button.removeAttribute("aria-busy");
    });
  });
})();
