// The integrations hub's only script: busy buttons, confirmations, Sync now with live progress, copy
// buttons and toasts. Everything works without it (plain forms and links); it only makes it nicer.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var toasts = document.getElementById("toasts");

  function toast(text, isError) {
    if (!toasts) { return; }
    var box = document.createElement("div");
    box.className = "toast" + (isError ? " toast-error" : "");
    var span = document.createElement("span");
    span.textContent = text;
    var close = document.createElement("button");
    close.type = "button"; close.className = "toast-close"; close.setAttribute("aria-label", "Dismiss notification");
    close.textContent = "\u00d7";
    box.appendChild(span); box.appendChild(close);
    toasts.appendChild(box);
    later(box);
  }

  function later(box) {  // out of the way after a while; hovering or focusing keeps it
    var timer = setTimeout(function () { box.remove(); }, 8000);
    box.addEventListener("mouseenter", function () { clearTimeout(timer); });
    box.addEventListener("focusin", function () { clearTimeout(timer); });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest && target.closest(".toast-close")) { target.closest(".toast").remove(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toasts) { toasts.querySelectorAll(".toast").forEach(function (t) { t.remove(); }); }
  });
  if (toasts) { toasts.querySelectorAll(".toast").forEach(later); }

  function busy(button, label) {
    if (!button) { return; }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = "";
    var spin = document.createElement("span");
    spin.className = "spinner"; spin.setAttribute("aria-hidden", "true");
    button.appendChild(spin);
    button.appendChild(document.createTextNode(" " + label));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); return; }
    if (form.hasAttribute("data-sync")) { event.preventDefault(); startSync(form); return; }
    if (form.dataset.busy) { busy(form.querySelector('button[type="submit"]'), form.dataset.busy); }
  });

  function progressOf(card) {
    return {
      box: card.querySelector("[data-progress]"),
      bar: card.querySelector("[data-progress] progress"),
      text: card.querySelector("[data-progress-text]")
    };
  }

  function watch(card, url, button) {
    var p = progressOf(card);
    p.box.hidden = false;
    p.bar.removeAttribute("value");
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (res) {
          var body = res.body;
          p.text.textContent = body.message;
          if (!res.ok || body.done) {
            p.bar.value = 100;
            if (button) { button.disabled = false; button.removeAttribute("aria-busy"); button.textContent = "Sync now"; }
            var last = card.querySelector("[data-last-sync]");
            if (last && res.ok) { last.textContent = "Just now · " + (body.status === "completed" && !body.failed ? "Succeeded" : "Failed"); }
            toast(body.message, !res.ok || body.status === "failed" || body.failed > 0);
            return;
          }
          setTimeout(poll, 1000);
        })
        .catch(function () { setTimeout(poll, 3000); });
    }
    poll();
  }

  function startSync(form) {
    var card = form.closest("[data-provider]");
    var button = form.querySelector('button[type="submit"]');
    busy(button, "Syncing…");
    var p = progressOf(card);
    p.box.hidden = false;
    p.text.textContent = "Starting the sync…";
    fetch(form.action, {
      method: "POST",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: "csrf_token=" + encodeURIComponent(csrf),
      credentials: "same-origin"
    })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          p.text.textContent = res.body.message || "The sync could not start.";
          button.disabled = false; button.removeAttribute("aria-busy"); button.textContent = "Sync now";
          return;
        }
        watch(card, res.body.progress_url, button);
      })
      .catch(function () {
        p.text.textContent = "The sync could not start: the server did not answer. Try again.";
        button.disabled = false; button.removeAttribute("aria-busy"); button.textContent = "Sync now";
      });
  }

  // Without the script, Sync now redirects here with ?run=…&provider=…: pick the run up.
  var params = new URLSearchParams(window.location.search);
  if (params.get("run") && params.get("provider")) {
    var card = document.getElementById("card-" + params.get("provider"));
    if (card) { watch(card, "/hub/integrations/" + params.get("provider") + "/runs/" + params.get("run"), null); }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.getElementById(button.dataset.copy);
    if (!field) { return; }
    function done() { toast("Copied to the clipboard."); }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, function () { field.select(); toast("Press Ctrl+C (or ⌘C) to copy.", true); });
    } else {
      field.select();
      try { document.execCommand("copy"); done(); } catch (e) { toast("Press Ctrl+C (or ⌘C) to copy.", true); }
    }
  });
})();
