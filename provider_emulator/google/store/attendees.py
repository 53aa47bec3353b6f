"""Several accounts: attendee copies of an event, room auto-answers, invitations to the outbox."""

from __future__ import annotations

import copy

from ...state import Account
from .. import recurrence as rec
from .core import COPY_PRIVATE, StoreCore


class AttendeesMixin(StoreCore):
    @staticmethod
    def _emails(ev: dict) -> list[str]:
        return [a["email"].lower() for a in ev.get("attendees", []) if not a.get("organizer")]

    def _propagate(self, org_cal: str, event_id: str, old_emails: set[str]) -> None:
        """Push the organizer's copy to every attendee who is an emulated Google account."""
        ev = self.events[org_cal][event_id]
        org_owner = self.calendars[org_cal]["owner"]
        targets: dict[str, Account] = {}
        for email_addr in self._emails(ev):
            acc = self._account(email_addr)
            if acc is not None and acc.email != org_owner:
                self._ensure_calendars(acc)
                targets[acc.email] = acc
        for acc_email in targets:
            existing = self.events.get(acc_email, {}).get(event_id)
            if existing is not None and existing.get("iCalUID") != ev.get("iCalUID"):
                continue  # someone else's event that happens to share the id
            attendee_copy = {
                k: copy.deepcopy(v)
                for k, v in ev.items()
                if k not in COPY_PRIVATE and k not in ("extendedProperties", "_conf_pending")
            }
            attendee_copy["htmlLink"] = self._html_link(event_id, acc_email)
            shared = (ev.get("extendedProperties") or {}).get("shared")
            private = ((existing or {}).get("extendedProperties") or {}).get("private")
            ext = {k: v for k, v in (("shared", shared), ("private", private)) if v}
            if ext:
                attendee_copy["extendedProperties"] = ext
            for key in COPY_PRIVATE:
                if existing is not None and key in existing:
                    attendee_copy[key] = existing[key]
            attendee_copy.setdefault("reminders", {"useDefault": True})
            attendee_copy["_org_cal"] = org_cal
            self._save(acc_email, attendee_copy)
        for email_addr in old_emails:
            acc = self._account(email_addr)
            if acc is None or acc.email in targets or acc.email == org_owner:
                continue
            existing = self.events.get(acc.email, {}).get(event_id)
            if existing is not None and existing.get("status") != "cancelled":
                gone = copy.deepcopy(existing)
                gone["status"] = "cancelled"
                self._save(acc.email, gone)

    def _auto_rooms(self, ev: dict, cal: dict, keep: set[str]) -> None:
        """Room attendees accept when free and decline when busy (rooms in ``keep`` keep theirs)."""
        if ev.get("status") == "cancelled":
            return
        for att in ev.get("attendees", []):
            if not att.get("resource") or att["email"].lower() in keep:
                continue
            room = self._account(att["email"])
            if room is None:
                continue
            self._ensure_calendars(room)
            att["responseStatus"] = (
                "declined" if self._room_busy(room.email, ev, cal) else "accepted"
            )

    def _room_busy(self, room_cal: str, ev: dict, cal: dict) -> bool:
        tz = cal["timeZone"]
        if ev.get("recurrence"):
            windows = rec.occurrences(ev, tz, None, None, limit=100)
        else:
            start, end, _ = rec.event_bounds(ev, tz)
            windows = [(start, end)]
        for start, end in windows:
            for block_start, block_end in self._busy(room_cal, start, end, exclude=ev["id"]):
                if block_start < end and block_end > start:
                    return True
        return False

    def _mail(
        self,
        ev: dict,
        organizer: Account,
        send_updates: str,
        *,
        new: set[str],
        old: set[str],
        cancel: bool = False,
    ) -> None:
        """Outbox e-mails for attendees who are not emulated Google accounts."""
        if send_updates not in ("all", "externalOnly"):
            return
        summary = ev.get("summary", "(No title)")
        start = ev.get("start", {})
        when = start.get("dateTime") or start.get("date", "")
        common = {
            "ical_uid": ev.get("iCalUID"),
            "sequence": ev.get("sequence", 0),
            "summary": summary,
            "start": ev.get("start"),
            "end": ev.get("end"),
            "location": ev.get("location", ""),
            "description": ev.get("description", ""),
            "organizer": ev.get("organizer", {}).get("email"),
            "attendees": [
                {"email": a["email"], "responseStatus": a.get("responseStatus")}
                for a in ev.get("attendees", [])
            ],
            "hangout_link": ev.get("hangoutLink", ""),
            "recurrence": ev.get("recurrence", []),
        }
        batches = (
            [(old, "cancellation", "CANCEL", f"Canceled event: {summary} @ {when}")]
            if cancel
            else [
                (new, "invitation", "REQUEST", f"Invitation: {summary} @ {when}"),
                (old, "update", "REQUEST", f"Updated invitation: {summary} @ {when}"),
            ]
        )
        for recipients, kind, method, subject in batches:
            for addr in sorted(recipients):
                if self._account(addr) is not None:
                    continue
                self.state.outbox_add(
                    provider="google",
                    sender=organizer.email,
                    recipient=addr,
                    kind=kind,
                    subject=subject,
                    event_id=ev["id"],
                    body=ev.get("description", ""),
                    extra={**common, "method": method, "send_updates": send_updates},
                )
