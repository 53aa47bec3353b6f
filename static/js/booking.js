// The appointment form's booking helpers (plain JS, no build step); the form works without them.
// - the invitation preview, live: who gets it (each address once) and what they read (the
//   agenda; the description is internal), or why nothing is sent (e.g. a back-dated start);
// - availability ("Tillgänglighet"): busy blocks from the calendar for the chosen day and week,
//   and the next free times, from GET /api/v1/availability/;
// - rooms: which are free for the chosen time, from GET /api/v1/rooms/.
(() => {
  const form = document.getElementById("appointment-form");
  if (!form || !form.dataset.booking) return;
  const t = document.getElementById("booking-i18n").dataset;
  const tz = form.dataset.tz || "Europe/Stockholm";
  const lang = document.documentElement.lang || "en";
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, text = "") => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text) node.textContent = text;
    return node;
  };

  // --- time zone arithmetic (the CRM's zone, whatever the browser's) -------------------------
  const partsFmt = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  function parts(date) {
    const p = Object.fromEntries(partsFmt.formatToParts(date).map((x) => [x.type, x.value]));
    return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
  }
  function offset(dateStr, timeStr) {
    const guess = new Date(`${dateStr}T${timeStr}:00Z`);
    const local = parts(guess);
    const asUtc = new Date(`${local.date}T${local.time}:00Z`);
    const minutes = Math.round((asUtc - guess) / 60000);
    const sign = minutes >= 0 ? "+" : "-";
    const abs = Math.abs(minutes);
    return `${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  }
  const iso = (dateStr, timeStr) => `${dateStr}T${timeStr}:00${offset(dateStr, timeStr)}`;
  const addDays = (dateStr, n) => {
    const d = new Date(`${dateStr}T12:00:00Z`);
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };
  const weekday = (dateStr) => (new Date(`${dateStr}T12:00:00Z`).getUTCDay() + 6) % 7; // Mon=0
  const minutesOf = (timeStr) => Number(timeStr.slice(0, 2)) * 60 + Number(timeStr.slice(3, 5));
  const dayLabel = (dateStr) =>
    new Date(`${dateStr}T12:00:00Z`).toLocaleDateString(lang, {
      weekday: "short", day: "numeric", month: "short", timeZone: "UTC",
    });

  function chosen() {
    const date = $("id_date")?.value;
    const start = ($("id_start_time")?.value || "").slice(0, 5); // "10:00:00" → "10:00"
    const end = ($("id_end_time")?.value || "").slice(0, 5);
    if (!date || !start || !end || $("id_all_day")?.checked || end === start) return null;
    const endDate = end < start ? addDays(date, 1) : date; // it crosses midnight
    return { date, start, end, from: iso(date, start), to: iso(endDate, end) };
  }

  async function getJson(url) {
    const resp = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    const body = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(body.detail || Object.values(body).flat().join(" ") || resp.statusText);
    return body;
  }

  // --- invitations ---------------------------------------------------------------------------
  function selectedPeople(id) {
    const select = $(id);
    return select ? [...select.selectedOptions].map((o) => ({ email: o.dataset.email || "", name: o.dataset.name || o.text, calendar: o.dataset.calendar === "1" })) : [];
  }
  function externalEmails() {
    return ($("id_external_emails")?.value || "").split(/[\s,;]+/).map((e) => e.trim().toLowerCase()).filter((e) => e.includes("@"));
  }
  function renderInvitations() {
    const invitees = $("invitees");
    const noEmail = $("no-email");
    if (!invitees) return;
    // Each address once, in the order picked; never the organizer (the event is theirs).
    const seen = new Set([(form.dataset.organizerEmail || "").toLowerCase()]);
    const invited = [];
    const people = [...selectedPeople("id_contacts"), ...selectedPeople("id_users")];
    for (const p of [...people.filter((p) => p.email), ...externalEmails().map((e) => ({ email: e, name: "" }))]) {
      const address = p.email.toLowerCase();
      if (seen.has(address)) continue;
      seen.add(address);
      invited.push(p.name ? `${p.name} <${address}>` : address);
    }
    const missing = people.filter((p) => !p.email).map((p) => p.name);
    invitees.replaceChildren(el("li", { class: "muted" }, invited.length ? t.invited : t.nobody),
      ...invited.map((text) => el("li", { class: "invitee" }, text)));
    noEmail.replaceChildren(...(missing.length ? [el("li", { class: "warning" }, `${t.noEmail} ${missing.join(", ")}`)] : []));
    const agenda = ($("id_agenda")?.value || "").trim();
    const text = $("invitation-text");
    if (text) {
      text.textContent = agenda || t.noAgenda;
      text.classList.toggle("muted", !agenda);
    }
    renderBackDated();
  }
  function renderBackDated() {
    // A back-dated appointment is never sent to the calendar: say so instead of the preview.
    const preview = $("invitation-preview");
    const note = $("no-invitation");
    if (!preview || !note || preview.dataset.blocked) return;
    const date = $("id_date")?.value;
    const allDay = $("id_all_day")?.checked;
    const start = allDay ? "00:00" : ($("id_start_time")?.value || "").slice(0, 5);
    const past = Boolean(date && start) && new Date(iso(date, start)) < new Date();
    preview.hidden = past;
    note.hidden = !past;
    note.textContent = past ? t.backDated : "";
  }

  // --- availability --------------------------------------------------------------------------
  let shown = null; // {email, data}
  function renderPeople() {
    const box = $("availability-people");
    const organizer = box.querySelector("[data-organizer]") || box.firstElementChild;
    organizer.dataset.organizer = "1";
    for (const b of [...box.querySelectorAll("button:not([data-organizer])")]) b.remove();
    for (const p of selectedPeople("id_users").filter((p) => p.calendar)) {
      box.append(el("button", { type: "button", class: "btn small person", "data-email": p.email }, p.name));
    }
  }
  async function openAvailability(email) {
    const pick = chosen() || { date: $("id_date")?.value };
    if (!pick.date) return;
    const panel = $("availability-panel");
    panel.hidden = false;
    panel.replaceChildren(el("p", { class: "muted" }, t.loading));
    const monday = addDays(pick.date, -weekday(pick.date));
    const duration = pick.start ? (minutesOf(pick.end) - minutesOf(pick.start) + 1440) % 1440 : 60;
    const params = new URLSearchParams({
      users: email, start: iso(monday, "00:00"), end: iso(addDays(monday, 5), "00:00"),
      duration: String(duration > 0 ? duration : 60), after: iso(pick.date, "00:00"),
    });
    try {
      const data = await getJson(`${form.dataset.availabilityUrl}?${params}`);
      shown = { email, data, monday };
      renderAvailability();
    } catch (err) {
      shown = null;
      panel.replaceChildren(el("p", { class: "error", role: "alert" }, `${t.error} (${err.message})`));
    }
  }
  function blockRect(startIso, endIso) {
    // [top%, height%] of a block on its day between 08:00 and 18:00; null outside.
    const s = parts(new Date(startIso));
    const e = parts(new Date(endIso));
    const from = Math.max(minutesOf(s.time), 8 * 60);
    const to = e.date > s.date ? 18 * 60 : Math.min(minutesOf(e.time), 18 * 60);
    if (to <= from) return null;
    return { date: s.date, top: ((from - 480) / 600) * 100, height: ((to - from) / 600) * 100, label: `${s.time}–${e.time}` };
  }
  function renderAvailability() {
    if (!shown) return;
    const panel = $("availability-panel");
    const pick = chosen();
    const person = shown.data.people[0] || { busy: [], error: "" };
    const head = el("div", { class: "availability-head" });
    head.append(el("strong", {}, person.name || shown.email));
    const close = el("button", { type: "button", class: "btn small", "data-close": "1" }, t.close);
    head.append(close);
    const nodes = [head];
    if (person.error) nodes.push(el("p", { class: "error", role: "alert" }, person.error));
    const week = el("div", { class: "week", role: "group", "aria-label": t.week });
    for (let i = 0; i < 5; i++) {
      const date = addDays(shown.monday, i);
      const col = el("div", { class: `daycol${pick && pick.date === date ? " chosen-day" : ""}`, "data-date": date });
      col.append(el("div", { class: "dayname" }, dayLabel(date)));
      const track = el("div", { class: "track" });
      for (const b of person.busy) {
        const r = blockRect(b.start, b.end);
        if (r && r.date === date) {
          const block = el("div", { class: "busy-block", title: `${t.busy} ${r.label}` }, r.label);
          block.style.top = `${r.top}%`;
          block.style.height = `${r.height}%`;
          track.append(block);
        }
      }
      if (pick && pick.date === date) {
        const r = blockRect(pick.from, pick.to);
        if (r) {
          const mine = el("div", { class: "chosen-block" });
          mine.style.top = `${r.top}%`;
          mine.style.height = `${r.height}%`;
          track.append(mine);
        }
      }
      col.append(track);
      week.append(col);
    }
    nodes.push(week);
    nodes.push(el("h3", { class: "small" }, t.suggestions));
    const list = el("ul", { class: "slots" });
    for (const s of shown.data.suggestions) {
      const a = parts(new Date(s.start));
      const b = parts(new Date(s.end));
      const btn = el("button", { type: "button", class: "btn small slot", "data-date": a.date, "data-start": a.time, "data-end": b.time, title: t.pick }, `${dayLabel(a.date)} ${a.time}–${b.time}`);
      const item = el("li");
      item.append(btn);
      list.append(item);
    }
    if (!shown.data.suggestions.length) list.append(el("li", { class: "muted" }, t.noSuggestions));
    nodes.push(list);
    panel.replaceChildren(...nodes);
    checkOverlap();
  }
  function checkOverlap() {
    const pick = chosen();
    const box = $("book-anyway");
    if (!box || !shown || !pick) return;
    if (shown.email.toLowerCase() !== (form.dataset.organizerEmail || "").toLowerCase()) return;
    const from = new Date(pick.from);
    const to = new Date(pick.to);
    const busy = (shown.data.people[0]?.busy || []).some((b) => new Date(b.start) < to && from < new Date(b.end));
    if (busy) box.hidden = false;
    const note = $("overlap-note") || el("p", { id: "overlap-note", class: "warning small", role: "status" });
    note.textContent = busy ? t.overlap : "";
    if (!note.isConnected) box.before(note);
  }
  function pickSlot(btn) {
    $("id_date").value = btn.dataset.date;
    $("id_start_time").value = btn.dataset.start;
    $("id_end_time").value = btn.dataset.end;
    const anyway = $("id_book_anyway");
    if (anyway) anyway.checked = false;
    refreshRooms();
    renderAvailability();
  }

  // --- rooms ---------------------------------------------------------------------------------
  let roomsRequest = 0;
  async function refreshRooms() {
    const select = $("id_room");
    const status = $("room-status");
    if (!select) return;
    for (const o of select.options) {
      if (!o.dataset.label) o.dataset.label = o.text;
      o.text = o.dataset.label;
      delete o.dataset.free;
    }
    const pick = chosen();
    if (!pick || select.options.length <= 1) return;
    const mine = ++roomsRequest;
    try {
      const data = await getJson(`${form.dataset.roomsUrl}?${new URLSearchParams({ start: pick.from, end: pick.to })}`);
      if (mine !== roomsRequest) return;
      const free = Object.fromEntries(data.rooms.map((r) => [r.email, r.free]));
      for (const o of select.options) {
        if (!o.value || free[o.value] === undefined || free[o.value] === null) continue;
        o.dataset.free = free[o.value] ? "1" : "0";
        o.text = `${o.dataset.label} — ${free[o.value] ? t.free : t.roomBusy}`;
      }
      status.textContent = data.error || t.roomsFree;
    } catch (err) {
      status.textContent = `${t.error} (${err.message})`;
    }
  }

  // --- wiring --------------------------------------------------------------------------------
  form.addEventListener("click", (event) => {
    const person = event.target.closest("#availability-people button");
    if (person) openAvailability(person.dataset.email);
    const slot = event.target.closest("button.slot");
    if (slot) pickSlot(slot);
    if (event.target.closest("[data-close]")) {
      $("availability-panel").hidden = true;
      shown = null;
    }
  });
  form.addEventListener("change", (event) => {
    const id = event.target.id;
    if (["id_contacts", "id_users", "id_external_emails", "id_agenda"].includes(id)) renderInvitations();
    if (id === "id_users") renderPeople();
    if (["id_date", "id_start_time", "id_end_time", "id_all_day"].includes(id)) {
      renderBackDated();
      refreshRooms();
      if (shown && id === "id_date") openAvailability(shown.email);
      else renderAvailability();
    }
  });
  $("id_external_emails")?.addEventListener("input", renderInvitations);
  $("id_agenda")?.addEventListener("input", renderInvitations);
  renderInvitations();
  renderPeople();
  refreshRooms();
})();
