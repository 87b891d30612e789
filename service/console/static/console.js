// Live progress bars: each [data-events] element follows its operation's server-sent events (the API's
// stream, served under /console with the session cookie). When the operation ends the page reloads, so
// status, outputs and actions show what it left behind. No framework: the console works without this file
// too (the bars then show the state at page load).
"use strict";

(function () {
  var TYPES = ["operation_started", "step_started", "step_done", "step_failed", "summary", "diagnostic",
    "policy_violation", "operation_requeued", "operation_finished", "message"];

  function follow(el) {
    var bar = el.querySelector("progress");
    var label = el.querySelector(".progress-label");
    var source = new EventSource(el.dataset.events);
    var finished = false;
    function onEvent(ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      if (data.progress && data.progress.planned > 0) {
        bar.max = data.progress.planned;
        bar.value = data.progress.done;
        el.dataset.done = data.progress.done;
        el.dataset.planned = data.progress.planned;
        label.textContent = "running · " + data.progress.done + "/" + data.progress.planned + " steps";
      }
      if (data.type === "operation_finished") {
        finished = true;
        source.close();
        if (data.state === "succeeded" && bar.max > 0) { bar.value = bar.max; }
        el.dataset.state = data.state;
        label.textContent = data.state;
        window.setTimeout(function () { window.location.reload(); }, 800);
      }
    }
    TYPES.forEach(function (type) { source.addEventListener(type, onEvent); });
    source.onerror = function () {
      // The stream ends when the operation has ended (or the session did): read the page again.
      if (!finished) { source.close(); window.setTimeout(function () { window.location.reload(); }, 2000); }
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-events]").forEach(follow);
  });
})();
