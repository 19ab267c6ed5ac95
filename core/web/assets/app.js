// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // Move focus to the error summary, so that screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
  // A live countdown of the hold, announced politely at whole minutes.
  var notice = document.querySelector(".hold-notice[data-expires]");
  if (!notice) { return; }
  var expires = Date.parse(notice.getAttribute("data-expires"));
  if (isNaN(expires)) { return; }
  var counter = document.createElement("p");
  counter.setAttribute("role", "status");
  counter.className = "hold-countdown";
  notice.after(counter);
  function tick() {
    var left = Math.max(0, Math.round((expires - Date.now()) / 60000));
    // The words come from the page, in its language.
    counter.textContent = left > 0
      ? notice.getAttribute("data-minutes-left") + " " + left
      : notice.getAttribute("data-time-up");
    if (left > 0) { setTimeout(tick, 15000); }
  }
  tick();
})();
