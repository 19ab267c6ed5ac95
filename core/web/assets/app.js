// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // Move focus to the error summary, so that screen readers announce it.
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // A live countdown of the hold, announced politely at whole minutes.
  function countdown(notice) {
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
  }

  // The service's rule checks a field when the citizen leaves it: what it found (a notice's
  // amount, a date of birth) or what is wrong shows below the field. Fields the rule compares
  // with (the fiscal code a notice must be addressed to) go along, and a change to them checks
  // again. The server checks again on submit, so a failed request simply shows nothing.
  function lookups(form) {
    var url = form.getAttribute("data-lookup");
    var shared = (form.getAttribute("data-lookup-citizen") || "").split(" ").filter(Boolean);
    var checks = [];
    form.querySelectorAll("input[data-lookup-field]").forEach(function (input) {
      var result = document.createElement("div");
      result.className = "lookup-result";
      result.setAttribute("role", "status");
      result.id = input.id + "-lookup";
      input.after(result);
      input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + result.id).trim());
      function check() {
        result.textContent = "";
        if (!input.value.trim()) { return; }
        var citizen = {};
        shared.forEach(function (name) {
          var field = form.elements[name];
          if (name !== input.name && field && field.value.trim()) { citizen[name] = field.value.trim(); }
        });
        var body = { field: input.getAttribute("data-lookup-field"), value: input.value, citizen: citizen, locale: document.documentElement.lang };
        fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
          .then(function (response) { return response.json().then(function (json) { return [response.status, json]; }); })
          .then(function (answer) { show(result, answer[0], answer[1]); })
          .catch(function () { result.textContent = ""; });
      }
      checks.push({ input: input, check: check });
      input.addEventListener("change", check);
    });
    shared.forEach(function (name) {
      var field = form.elements[name];
      if (!field || !field.addEventListener) { return; }
      field.addEventListener("change", function () {
        checks.forEach(function (c) { if (c.input !== field) { c.check(); } });
      });
    });
  }

  function show(result, status, body) {
    if (status === 200) {
      (body.summary || []).forEach(function (line) {
        var p = document.createElement("p");
        var label = document.createElement("strong");
        label.textContent = line.label + ": ";
        p.append(label, line.value);
        result.append(p);
      });
    } else if (status === 422) {
      // Errors about `field` mean the rule does not check this one: nothing to say.
      (body.errors || []).filter(function (e) { return e.field === "value"; }).forEach(function (error) {
        var p = document.createElement("p");
        p.className = "field-error";
        p.textContent = error.message;
        result.append(p);
      });
    }
  }

  // A live count of a long text's characters (line breaks count one, as on the server, which
  // refuses a text that is too long instead of cutting it).
  function characters(area) {
    var max = parseInt(area.getAttribute("data-max-chars"), 10);
    var count = document.createElement("p");
    count.className = "help char-count";
    count.id = area.id + "-count";
    count.setAttribute("aria-live", "polite");
    area.after(count);
    area.setAttribute("aria-describedby", ((area.getAttribute("aria-describedby") || "") + " " + count.id).trim());
    function update() {
      var used = Array.from(area.value.trim()).length;
      var over = used > max;
      count.textContent = area.getAttribute(over ? "data-counter-over" : "data-counter")
        .replace("{used}", used).replace("{max}", max);
      count.classList.toggle("field-error", over);
    }
    area.addEventListener("input", update);
    update();
  }

  // A field needed only when its tick is off (the WhatsApp number when it is not the phone).
  function unlessTicked(group) {
    var tick = document.getElementById(group.getAttribute("data-unless-ticked"));
    if (!tick) { return; }
    function update() { group.hidden = tick.checked; }
    tick.addEventListener("change", update);
    update();
  }

  // A day's times in place: a day of the month grid fetches that day's page and takes its times
  // (and the grid, which marks the chosen day), then moves the focus to them. The address follows,
  // so Back, reload and a shared link give what the page gives without the script.
  function daysInPlace(region) {
    function show(url, push) {
      return fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.text();
        })
        .then(function (html) {
          var next = new DOMParser().parseFromString(html, "text/html");
          var times = next.getElementById("day-times"), grid = next.querySelector("table.month");
          var shownGrid = document.querySelector("table.month");
          if (!times || !grid || !shownGrid) { throw new Error("another page"); }
          region.replaceChildren.apply(region, Array.from(times.childNodes));
          shownGrid.replaceWith(grid);
          // The month's first free time is offered only until a day is chosen.
          var banner = document.querySelector(".first-free");
          if (banner) { banner.hidden = !next.querySelector(".first-free"); }
          if (push) { history.pushState({ day: true }, "", url); }
          var form = document.getElementById("times");
          if (form) { form.scrollIntoView({ block: "start", behavior: "instant" }); form.focus({ preventScroll: true }); }
        });
    }
    document.addEventListener("click", function (event) {
      var link = event.target.closest && event.target.closest("table.month a.day");
      if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) { return; }
      event.preventDefault();
      pushed = true;
      show(link.href, true).catch(function () { location.href = link.href; });
    });
    // Back and Forward between days of this page: the same swap, without a new entry.
    var pushed = false;
    window.addEventListener("popstate", function () {
      if (pushed) { show(location.href, false).catch(function () { location.reload(); }); }
    });
  }

  // Printing needs the script: the button shows only where it works.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  document.querySelectorAll("textarea[data-max-chars]").forEach(characters);
  document.querySelectorAll("[data-unless-ticked]").forEach(unlessTicked);
  var notice = document.querySelector(".hold-notice[data-expires]");
  if (notice) { countdown(notice); }
  var dayTimes = document.getElementById("day-times");
  if (dayTimes && document.querySelector("table.month a.day")) { daysInPlace(dayTimes); }
  var form = document.querySelector("form[data-lookup]");
  if (form) { lookups(form); }
  var board = document.querySelector("[data-board-events]");
  if (board && window.EventSource) { liveBoard(board); }
  var ticket = document.querySelector("[data-ticket-events]");
  if (ticket && window.EventSource) { liveTicket(ticket); }

  // A citizen's ticket follows the queue; the phone vibrates when their turn comes.
  function liveTicket(page) {
    var state = page.querySelector(".ticket-state");
    new EventSource(page.getAttribute("data-ticket-events")).addEventListener("ticket", function (event) {
      var data = JSON.parse(event.data);
      var called = data.state === "called" && !state.classList.contains("state-called");
      state.className = "ticket-state state-" + data.state;
      state.textContent = data.text;
      if (called && navigator.vibrate) { navigator.vibrate([300, 150, 300]); }
    });
  }

  // The display board follows the calls as the server pushes them; a chime (off until someone
  // turns it on: browsers play sound only after a tap) marks each new call.
  function liveBoard(board) {
    var now = board.querySelector(".board-now");
    var label = now.querySelector(".board-label");
    var body = board.querySelector(".board-earlier tbody");
    var nowText = board.getAttribute("data-now");
    var chime = null;
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-secondary";
    button.textContent = board.getAttribute("data-chime-on");
    button.addEventListener("click", function () {
      chime = chime ? null : new (window.AudioContext || window.webkitAudioContext)();
      button.textContent = board.getAttribute(chime ? "data-chime-off" : "data-chime-on");
    });
    board.appendChild(button);
    var shown = null;
    function cell(tag, text) { var c = document.createElement(tag); c.textContent = text || ""; return c; }
    function ring() {
      if (!chime) { return; }
      [880, 660].forEach(function (pitch, i) {
        var tone = chime.createOscillator();
        tone.frequency.value = pitch;
        tone.connect(chime.destination);
        tone.start(chime.currentTime + i * 0.35);
        tone.stop(chime.currentTime + i * 0.35 + 0.3);
      });
    }
    new EventSource(board.getAttribute("data-board-events")).addEventListener("calls", function (event) {
      var calls = JSON.parse(event.data).calls;
      var latest = calls[0];
      var key = latest ? latest.ticket + " " + latest.desk + " " + latest.time : "";
      if (shown !== null && key !== shown && latest) { ring(); }
      shown = key;
      if (latest) {
        var call = cell("p", "");
        call.className = "board-call";
        var ticket = cell("span", latest.ticket);
        ticket.className = "board-ticket";
        call.appendChild(ticket);
        if (latest.desk) {
          call.appendChild(document.createTextNode(" → "));
          var desk = cell("span", latest.desk);
          desk.className = "board-desk";
          call.appendChild(desk);
        }
        label.textContent = nowText;
        now.replaceChildren(label, call);
      }
      body.replaceChildren.apply(body, calls.slice(1).map(function (c) {
        var row = document.createElement("tr");
        row.append(cell("th", c.ticket), cell("td", c.desk), cell("td", c.time));
        row.firstChild.scope = "row";
        return row;
      }));
    });
  }
})();
