"""Calendars and calendarList: every account's primary calendar and its secondary calendars."""

from __future__ import annotations

import hashlib

from ...state import Account
from .core import DEFAULT_TZ, StoreCore, not_found


class CalendarsMixin(StoreCore):
    def _ensure_calendars(self, account: Account) -> None:
        if account.email in self.calendars:
            return
        self.calendars[account.email] = {
            "id": account.email,
            "owner": account.email,
            "summary": account.name if account.is_room else account.email,
            "timeZone": DEFAULT_TZ,
            "primary": True,
            "colorId": "14",
            "etag": self._etag(),
        }
        self.events.setdefault(account.email, {})
        if account.is_room:
            return
        digest = hashlib.sha256(account.email.encode()).hexdigest()[:26]
        cal_id = f"{digest}@group.calendar.google.com"
        self.calendars[cal_id] = {
            "id": cal_id,
            "owner": account.email,
            "summary": "Personal",
            "timeZone": DEFAULT_TZ,
            "primary": False,
            "colorId": "9",
            "etag": self._etag(),
        }
        self.events.setdefault(cal_id, {})

    def calendars_of(self, account: Account) -> list[dict]:
        with self.state.lock:
            self._ensure_calendars(account)
            return [c for c in self.calendars.values() if c["owner"] == account.email]

    def resolve_calendar(self, account: Account, calendar_id: str) -> dict:
        with self.state.lock:
            self._ensure_calendars(account)
            cid = account.email if calendar_id == "primary" else calendar_id.lower()
            if cid in account.addresses():
                cid = account.email
            cal = self.calendars.get(cid)
            if cal is None or cal["owner"] != account.email:
                raise not_found()
            return cal

    def calendar_list_entry(self, cal: dict) -> dict:
        colors = {"14": ("#9fe1e7", "#000000"), "9": ("#7bd148", "#000000")}
        bg, fg = colors.get(cal.get("colorId", "14"), ("#9fe1e7", "#000000"))
        entry = {
            "kind": "calendar#calendarListEntry",
            "etag": cal["etag"],
            "id": cal["id"],
            "summary": cal["summary"],
            "timeZone": cal["timeZone"],
            "colorId": cal.get("colorId", "14"),
            "backgroundColor": bg,
            "foregroundColor": fg,
            "selected": True,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}] if cal["primary"] else [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if cal["primary"]:
            entry["primary"] = True
            entry["notificationSettings"] = {
                "notifications": [
                    {"type": t, "method": "email"}
                    for t in ("eventCreation", "eventChange", "eventCancellation", "eventResponse")
                ]
            }
        return entry

    def calendar_resource(self, cal: dict) -> dict:
        return {
            "kind": "calendar#calendar",
            "etag": cal["etag"],
            "id": cal["id"],
            "summary": cal["summary"],
            "timeZone": cal["timeZone"],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
