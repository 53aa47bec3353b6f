// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el.matches("[data-autosubmit]") && el.form) el.form.submit();
});
// All-day appointments have no times.
function syncAllDay() {
  const box = document.getElementById("id_all_day");
  if (!box) return;
  for (const id of ["id_start_time", "id_end_time"]) {
    const input = document.getElementById(id);
    if (input && !input.hasAttribute("data-locked")) input.disabled = box.checked;
  }
}
document.addEventListener("DOMContentLoaded", () => {
  for (const id of ["id_start_time", "id_end_time"]) {
    const input = document.getElementById(id);
    if (input && input.disabled) input.setAttribute("data-locked", "");
  }
  syncAllDay();
  document.getElementById("id_all_day")?.addEventListener("change", syncAllDay);
});
// My profile: propose the browser's time zone when it differs from the saved one.
document.addEventListener("DOMContentLoaded", () => {
  const hint = document.getElementById("browser-time-zone");
  const select = document.getElementById("id_time_zone");
  if (!hint || !select) return;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const known = [...select.options].some((o) => o.value === zone);
  if (!zone || !known || select.value === zone) return;
  hint.querySelector("[data-zone]").textContent = zone;
  hint.hidden = false;
  hint.querySelector("[data-use-browser-zone]").addEventListener("click", () => {
    select.value = zone;
    select.form.requestSubmit();
  });
});
// Narrow screens: the header's links and controls fold into a "Menu" button.
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("menu-toggle");
  const menu = document.getElementById("topbar-menu");
  if (!toggle || !menu) return;
  toggle.hidden = false;
  document.documentElement.classList.add("has-menu-toggle");
  toggle.addEventListener("click", () => {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    menu.classList.toggle("open", open);
  });
});
// Typed dates and times (Swedish pages, see appointments/widgets.py): tidy what was typed into
// the form the server and the booking script read (20261207 → 2026-12-07, 930 or 9.30 → 09:30),
// before any other change handler sees it. Anything else is left for the server to explain.
document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("input[data-typed]")) return;
  const v = input.value.trim();
  let m;
  if (input.dataset.typed === "date") {
    if ((m = v.match(/^(\d{4})-?(\d{1,2})-?(\d{1,2})$/)) && (v.includes("-") || v.length === 8)) {
      input.value = `${m[1]}-${m[2].padStart(2, "0")}-${m[3].padStart(2, "0")}`;
    }
  } else if ((m = v.match(/^(\d{1,2})[:.]?(\d{2})$/)) && Number(m[1]) < 24 && Number(m[2]) < 60) {
    input.value = `${m[1].padStart(2, "0")}:${m[2]}`;
  }
}, true);
