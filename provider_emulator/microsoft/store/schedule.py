"""calendar/getSchedule: free/busy of mailboxes (availabilityView and scheduleItems)."""

from __future__ import annotations

import datetime as dt

from ...state import Account
from ..timeutil import fmt_local
from .core import StoreCore, _overlaps

# availabilityView codes: working elsewhere is 0, not 4, "for backward compatibility" (Graph docs).
AVAILABILITY_CODE = {
    "free": "0",
    "workingElsewhere": "0",
    "tentative": "1",
    "busy": "2",
    "oof": "3",
}


class ScheduleMixin(StoreCore):
    def schedule(
        self,
        address: str,
        ws: dt.datetime,
        we: dt.datetime,
        interval: int,
        tz: str,
        requester: Account | None = None,
    ) -> dict:
        """getSchedule for one address: the default calendar only (other calendars never count).

        A private (or confidential) item shows its time and status to others, never its subject
        or location; its owner sees everything.
        """
        acc = self._account(address)
        if acc is None:
            return {
                "scheduleId": address,
                "availabilityView": "",
                "scheduleItems": [],
                "workingHours": {},
                "error": {
                    "message": "Failed to get free/busy data for the user. The user couldn't be found.",
                    "responseCode": "ErrorMailRecipientNotFound",
                },
            }
        items = []
        for ev in self.view(acc, ws, we):
            if ev.get("is_cancelled") or ev["response"] == "declined":
                continue
            status = ev["show_as"]
            if ev["response"] == "tentativelyAccepted" and status == "busy":
                status = "tentative"
            if status == "free":
                continue
            items.append((ev, status))
        view = []
        slot = ws
        step = dt.timedelta(minutes=interval)
        rank = {"0": 0, "1": 1, "2": 2, "3": 3}
        while slot < we:
            code = "0"
            for ev, status in items:
                if _overlaps(ev["start"], ev["end"], slot, slot + step):
                    c = AVAILABILITY_CODE.get(status, "2")
                    if rank[c] > rank[code]:
                        code = c
            view.append(code)
            slot += step
        return {
            "scheduleId": address,
            "availabilityView": "".join(view),
            "scheduleItems": [
                _schedule_item(
                    ev, status, tz, owner=requester is None or requester.email == acc.email
                )
                for ev, status in items
            ],
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "UTC" if not acc else "W. Europe Standard Time"},
            },
        }


def _schedule_item(ev: dict, status: str, tz: str, *, owner: bool) -> dict:
    private = ev.get("sensitivity") in ("private", "confidential")
    item = {
        "isPrivate": private,
        "status": status,
        "subject": ev["subject"],
        "location": (ev.get("location") or {}).get("displayName", ""),
        "isMeeting": bool(ev.get("attendees")),
        "isRecurring": ev["type"] in ("occurrence", "exception"),
        "isException": ev["type"] == "exception",
        "isReminderSet": bool(ev.get("is_reminder_on", True)),
        "start": fmt_local(ev["start"], tz),
        "end": fmt_local(ev["end"], tz),
    }
    if private and not owner:
        del item["subject"], item["location"]
    return item
