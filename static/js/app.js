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
