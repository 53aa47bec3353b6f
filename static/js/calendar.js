// The calendar page (FullCalendar, vendored in static/vendor/fullcalendar). Day, week, month and
// agenda views; the people whose calendars are shown; click or drag on an empty time to book it;
// drag or resize an appointment to move it (the server applies the same rules as the form and
// says why when it refuses). No inline script: the settings come from data-* attributes.
(() => {
  const el = document.getElementById("calendar");
  if (!el || !window.FullCalendar) return;
  const cfg = el.dataset;
  const t = JSON.parse(document.getElementById("calendar-labels").textContent);
  const tz = cfg.timeZone;
  const status = document.getElementById("calendar-status");
  const narrowQuery = window.matchMedia("(max-width: 640px)");

  // The zone is given to FullCalendar by name without a time-zone plugin, so its dates carry
  // the zone's wall clock in their UTC fields, and the server sends and takes wall-clock times.
  const wall = (date) => date.toISOString().slice(0, 19);
  const wallDate = (date) => date.toISOString().slice(0, 10);
  const nowParts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  function wallNow() {
    const p = Object.fromEntries(nowParts.formatToParts(new Date()).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}`;
  }

  function say(text, kind) {
    status.textContent = text;
    status.className = `calendar-status ${kind || ""}`;
    status.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  function people() {
    return [...document.querySelectorAll("input[data-person]:checked")]
      .filter((box) => !box.disabled).map((box) => box.value).join(",");
  }
  for (const swatch of document.querySelectorAll("[data-colour]")) {
    swatch.style.backgroundColor = swatch.dataset.colour;
  }

  // --- what each appointment shows at a glance ------------------------------------------------
  function chip(cls, text, title) {
    const span = document.createElement("span");
    span.className = `chip ${cls}`;
    span.textContent = text;
    if (title) span.title = title;
    return span;
  }
  function chips(props) {
    const out = [chip("source", props.sourceShort || props.source, props.source)];
    if (props.locked) out.push(chip("locked", t.locked, props.lockReason));
    if (props.cancelled) out.push(chip("cancelled", t.cancelled));
    if (props.declined) out.push(chip("declined", t.declined));
    if (props.video) out.push(chip("video", t.video));
    if (props.room) out.push(chip("room", props.room, t.room));
    if (props.sync) out.push(chip(`sync sync-${props.sync.state}`, props.sync.label, props.sync.detail || ""));
    return out;
  }
  function summary(event) {
    const p = event.extendedProps;
    const lines = [`${t.source}: ${p.source}`];
    if (p.person) lines.push(`${t.calendarOf}: ${p.person}`);
    if (p.company) lines.push(`${t.company}: ${p.company}`);
    if (p.place) lines.push(`${t.place}: ${p.place}`);
    if (p.room) lines.push(`${t.room}: ${p.room}`);
    if (p.locked) lines.push(`${t.locked}${p.lockReason ? ` (${p.lockReason})` : ""}`);
    if (p.cancelled) lines.push(t.cancelled);
    if (p.declined) lines.push(t.declined);
    if (p.sync) lines.push(p.sync.label + (p.sync.detail ? `: ${p.sync.detail}` : ""));
    if (p.moveRefusal) lines.push(`${t.cannotMove}: ${p.moveRefusal}`);
    return lines.join("\n");
  }
  function content(arg) {
    const box = document.createElement("div");
    box.className = "ev";
    if (arg.timeText && !arg.view.type.startsWith("list")) {
      const time = document.createElement("div");
      time.className = "ev-time";
      time.textContent = arg.timeText;
      box.append(time);
    }
    const title = document.createElement("div");
    title.className = "ev-title";
    title.textContent = arg.event.title;
    const badges = document.createElement("div");
    badges.className = "ev-chips";
    badges.append(...chips(arg.event.extendedProps));
    box.append(title, badges);
    return { domNodes: [box] };
  }

  // --- booking and moving ------------------------------------------------------------------------
  function book(info) {
    const params = new URLSearchParams();
    if (info.allDay) {
      params.set("start", wallDate(info.start));
      params.set("all_day", "1");
    } else {
      params.set("start", wall(info.start).slice(0, 16));
      params.set("end", wall(info.end).slice(0, 16));
    }
    window.location.assign(`${cfg.createUrl}?${params}`);
  }
  async function move(info) {
    const event = info.event;
    const body = new URLSearchParams({
      start: event.allDay ? wallDate(event.start) : wall(event.start),
      end: event.end ? (event.allDay ? wallDate(event.end) : wall(event.end)) : "",
      all_day: event.allDay ? "1" : "0",
    });
    say("", "");
    let answer = {};
    let ok = false;
    try {
      const resp = await fetch(cfg.moveUrl.replace("/0/", `/${event.id}/`), {
        method: "POST", body, credentials: "same-origin",
        headers: { "X-CSRFToken": cfg.csrf, Accept: "application/json" },
      });
      answer = await resp.json().catch(() => ({}));
      ok = resp.ok;
    } catch (err) {
      answer = { detail: err.message };
    }
    if (!ok) {
      info.revert();
      say(`${t.moveFailed}: ${answer.detail || ""}`, "error");
      return;
    }
    say(answer.detail || t.moved, "ok");
    calendar.refetchEvents();
  }

  // --- views -----------------------------------------------------------------------------------
  const wide = { left: "prev,next today", center: "title", right: "timeGridDay,timeGridWeek,dayGridMonth,listWeek" };
  const narrow = { left: "prev,next", center: "title", right: "today listWeek,timeGridDay" };
  const views = ["timeGridDay", "timeGridWeek", "dayGridMonth", "listWeek"];
  const initialView = narrowQuery.matches ? "listWeek"
    : (views.includes(cfg.initialView) ? cfg.initialView : "timeGridWeek");

  const calendar = new FullCalendar.Calendar(el, {
    timeZone: tz,
    locale: cfg.locale,
    firstDay: 1,
    initialView,
    initialDate: cfg.initialDate,
    headerToolbar: narrowQuery.matches ? narrow : wide,
    contentHeight: 620,
    expandRows: true,
    nowIndicator: true,
    now: wallNow,
    businessHours: { daysOfWeek: [1, 2, 3, 4, 5], startTime: cfg.workStart, endTime: cfg.workEnd },
    scrollTime: cfg.workStart,
    scrollTimeReset: false,
    slotEventOverlap: false,
    allDayText: t.allDay,
    dayHeaderFormat: { weekday: "short", day: "numeric", month: "short", omitCommas: true },
    eventTimeFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    slotLabelFormat: { hour: "2-digit", minute: "2-digit", hour12: false },
    forceEventDuration: true,
    selectable: true,
    selectMirror: true,
    editable: true,
    events: {
      url: cfg.eventsUrl,
      extraParams: () => ({ people: people() }),
      failure: (err) => say(`${t.loadFailed} ${err.message || ""}`, "error"),
    },
    select: book,
    eventDrop: move,
    eventResize: move,
    eventContent: content,
    eventDidMount: (arg) => {
      arg.el.title = summary(arg.event);
      arg.el.dataset.appointment = arg.event.id;
    },
  });
  calendar.render();
  // The toolbar's arrow icons are decoration; their buttons are named by their title.
  const hideIcons = () => el.querySelectorAll(".fc-icon").forEach((i) => {
    i.setAttribute("aria-hidden", "true");
    i.removeAttribute("role");
  });
  hideIcons();
  calendar.on("datesSet", hideIcons);
  window.crmCalendar = calendar; // for the browser tests and the console

  narrowQuery.addEventListener("change", () => {
    calendar.setOption("headerToolbar", narrowQuery.matches ? narrow : wide);
    calendar.changeView(narrowQuery.matches ? "listWeek" : "timeGridWeek");
  });
  document.addEventListener("change", (event) => {
    if (event.target.matches("input[data-person]")) calendar.refetchEvents();
  });
})();
