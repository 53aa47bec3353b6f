"""Checking and normalising an event body before it is stored (times, status, properties, attendees)."""

from __future__ import annotations

from .. import recurrence as rec
from .core import RESPONSES, ApiError, StoreCore

VISIBILITIES = ("default", "public", "private", "confidential")
ATTENDEE_KEYS = {
    "email",
    "displayName",
    "optional",
    "responseStatus",
    "comment",
    "additionalGuests",
    "resource",
    "id",
}


class ValidationMixin(StoreCore):
    def _normalize(self, ev: dict, cal: dict) -> dict:
        tz = cal["timeZone"]
        if not ev.get("start"):
            raise ApiError(400, "required", "Missing start time.")
        if not ev.get("end"):
            raise ApiError(400, "required", "Missing end time.")
        try:
            ev["start"] = rec.normalize_event_time(ev["start"], tz, "start")
            ev["end"] = rec.normalize_event_time(ev["end"], tz, "end")
            start, end, all_day = rec.event_bounds(ev, tz)
        except rec.TimeError as exc:
            raise ApiError(400, "invalid", str(exc)) from exc
        if ("date" in ev["start"]) != ("date" in ev["end"]):
            raise ApiError(
                400, "invalid", "Start and end times must either both be date or both be dateTime."
            )
        if end < start:
            raise ApiError(
                400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar"
            )
        if ev.get("recurrence"):
            if not isinstance(ev["recurrence"], list):
                raise ApiError(400, "invalid", "Invalid recurrence rule.")
            if not all_day and not ev["start"].get("timeZone"):
                raise ApiError(400, "invalid", "Missing time zone definition for start time.")
            try:
                rec.occurrences(ev, tz, None, None, limit=1)
            except (rec.TimeError, ValueError) as exc:
                raise ApiError(400, "invalid", "Invalid recurrence rule.") from exc
        status = ev.get("status", "confirmed")
        if status not in ("confirmed", "tentative", "cancelled"):
            raise ApiError(400, "invalid", "Invalid value for: status")
        ev["status"] = status
        if ev.get("transparency") not in (None, "opaque", "transparent"):
            raise ApiError(400, "invalid", "Invalid value for: transparency")
        if ev.get("visibility") not in (None, *VISIBILITIES):
            raise ApiError(400, "invalid", "Invalid value for: visibility")
        props = ev.get("extendedProperties")
        if props is not None:
            clean = {}
            for scope in ("private", "shared"):
                values = {
                    str(k): str(v)
                    for k, v in (props.get(scope) or {}).items()
                    if len(str(k)) <= 44 and v is not None
                }
                if values:
                    clean[scope] = values
            if clean:
                ev["extendedProperties"] = clean
            else:
                ev.pop("extendedProperties", None)
        attendees = []
        seen = set()
        organizer_email = ev["organizer"]["email"].lower()
        for raw in ev.get("attendees") or []:
            if not isinstance(raw, dict) or not raw.get("email"):
                raise ApiError(400, "required", "Missing attendee email.")
            addr = str(raw["email"]).strip()
            if "@" not in addr or " " in addr:
                raise ApiError(400, "invalid", "Invalid attendee email.")
            if addr.lower() in seen:
                continue
            seen.add(addr.lower())
            att = {k: v for k, v in raw.items() if k in ATTENDEE_KEYS}
            att["email"] = addr
            att.setdefault("responseStatus", "needsAction")
            if att["responseStatus"] not in RESPONSES:
                raise ApiError(400, "invalid", "Invalid attendee response status.")
            acc = self._account(addr)
            if acc is not None and acc.is_room:
                att["resource"] = True
                att.setdefault("displayName", acc.name)
            else:
                att.pop("resource", None)
            if addr.lower() == organizer_email or (
                acc is not None
                and acc.email == self.calendars.get(organizer_email, {}).get("owner")
            ):
                att["organizer"] = True
            attendees.append(att)
        if attendees:
            ev["attendees"] = attendees
        else:
            ev.pop("attendees", None)
        return ev
