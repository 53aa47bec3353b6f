"""Calendars and calendarList: every account's primary calendar and its secondary calendars."""

from __future__ import annotations

import hashlib
import secrets

from ...state import Account
from .. import recurrence as rec
from .core import DEFAULT_TZ, ApiError, StoreCore, not_found


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
            **({"description": cal["description"]} if cal.get("description") else {}),
        }

    def insert_calendar(self, account: Account, body: dict) -> dict:
        """calendars.insert: a new secondary calendar owned by the account (in its calendarList)."""
        with self.state.lock:
            self._ensure_calendars(account)
            summary = str(body.get("summary") or "").strip()
            if not summary:
                raise ApiError(400, "required", "Missing title.", location="summary")
            tz = str(body.get("timeZone") or DEFAULT_TZ)
            try:
                rec.zone(tz)
            except rec.TimeError as exc:
                raise ApiError(400, "invalid", "Invalid time zone definition.") from exc
            cal_id = f"c_{secrets.token_hex(32)}@group.calendar.google.com"
            self.calendars[cal_id] = {
                "id": cal_id,
                "owner": account.email,
                "summary": summary,
                "timeZone": tz,
                "primary": False,
                "colorId": "9",
                "etag": self._etag(),
            }
            if body.get("description"):
                self.calendars[cal_id]["description"] = str(body["description"])
            self.events[cal_id] = {}
            return self.calendar_resource(self.calendars[cal_id])

    def delete_calendar(self, account: Account, cal: dict) -> None:
        """calendars.delete: a secondary calendar and its events go; the primary cannot."""
        with self.state.lock:
            if cal["primary"]:
                raise ApiError(
                    400, "cannotDeletePrimaryCalendar", "Cannot delete primary calendar."
                )
            del self.calendars[cal["id"]]
            self.events.pop(cal["id"], None)
            for token, info in list(self.sync_tokens.items()):
                if info["cal"] == cal["id"]:
                    del self.sync_tokens[token]
            for channel_id, channel in list(self.channels.items()):
                if channel["calendar"] == cal["id"]:
                    del self.channels[channel_id]
