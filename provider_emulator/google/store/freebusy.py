"""freeBusy.query: busy blocks of calendars in a window."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...state import Account
from .. import recurrence as rec
from .core import ApiError, StoreCore

FREEBUSY_MAX_ITEMS = 50
FREEBUSY_MAX_RANGE = dt.timedelta(days=90)


class FreeBusyMixin(StoreCore):
    def _busy(
        self,
        cal_id: str,
        tmin: dt.datetime,
        tmax: dt.datetime,
        exclude: str | None = None,
    ) -> list[tuple[dt.datetime, dt.datetime]]:
        cal = self.calendars[cal_id]
        owner = self._owner(cal)
        addresses = owner.addresses() if owner else {cal_id}
        tz = cal["timeZone"]
        blocks = []
        for ev in self._expand(cal_id, tmin, tmax, include_cancelled=False):
            if exclude and (ev["id"] == exclude or ev.get("recurringEventId") == exclude):
                continue
            if ev.get("transparency") == "transparent":
                continue
            mine = next(
                (a for a in ev.get("attendees", []) if a["email"].lower() in addresses), None
            )
            if mine is not None and mine.get("responseStatus") == "declined":
                continue
            start, end, _ = rec.event_bounds(ev, tz)
            start, end = max(start, tmin), min(end, tmax)
            if end > start:
                blocks.append((start, end))
        blocks.sort()
        merged: list[list[dt.datetime]] = []
        for start, end in blocks:
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        return [(s, e) for s, e in merged]

    def free_busy(self, account: Account, body: dict) -> dict:
        with self.state.lock:
            try:
                tmin = rec.parse_rfc3339(str(body.get("timeMin", "")))
                tmax = rec.parse_rfc3339(str(body.get("timeMax", "")))
            except rec.TimeError as exc:
                raise ApiError(400, "badRequest", "Bad Request") from exc
            if tmax <= tmin:
                raise ApiError(
                    400,
                    "timeRangeEmpty",
                    "The specified time range is empty.",
                    domain="calendar",
                    location="timeMax",
                )
            if tmax - tmin > FREEBUSY_MAX_RANGE:
                raise ApiError(
                    400,
                    "timeRangeTooLong",
                    "The requested time range is too long.",
                    domain="calendar",
                    location="timeMax",
                )
            items = body.get("items") or []
            if len(items) > FREEBUSY_MAX_ITEMS:
                raise ApiError(
                    400,
                    "tooManyCalendarsRequested",
                    "Too many calendars requested.",
                    domain="calendar",
                )
            out_tz = rec.zone(body.get("timeZone") or "UTC")
            calendars: dict[str, dict] = {}
            own = {c["id"] for c in self.calendars_of(account)}
            for item in items:
                requested = str((item or {}).get("id", ""))
                cid = account.email if requested == "primary" else requested.lower()
                acc = self._account(cid)
                if acc is not None:
                    self._ensure_calendars(acc)
                    if cid in acc.addresses():
                        cid = acc.email
                cal = self.calendars.get(cid)
                if cal is None or not (cid in own or cal["primary"]):
                    calendars[requested] = {
                        "errors": [{"domain": "global", "reason": "notFound"}],
                        "busy": [],
                    }
                    continue
                calendars[requested] = {
                    "busy": [
                        {"start": _fb_time(s, out_tz), "end": _fb_time(e, out_tz)}
                        for s, e in self._busy(cid, tmin, tmax)
                    ]
                }
            return {
                "kind": "calendar#freeBusy",
                "timeMin": _fb_time(tmin, out_tz),
                "timeMax": _fb_time(tmax, out_tz),
                "calendars": calendars,
            }


def _fb_time(value: dt.datetime, tz: Any) -> str:
    local = value.astimezone(tz)
    if local.utcoffset() == dt.timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat(timespec="seconds")
