"""Series and calendarView: computed occurrences and exceptions of a seriesMaster in a window."""

from __future__ import annotations

import datetime as dt

from ...state import Account
from .. import recurrence as rec_mod
from ..timeutil import zone
from .core import StoreCore, _from_stamp, _occurrence_ical_uid, _overlaps, _stamp, occurrence_id


class OccurrencesMixin(StoreCore):
    def _occurrence(self, master: dict, stamp: str) -> dict | None:
        if stamp in master.get("cancelled_occurrences", []):
            return None
        orig = _from_stamp(stamp)
        duration = master["end"] - master["start"]
        override = master.get("exceptions", {}).get(stamp)
        view = dict(master)
        view.update(
            id=occurrence_id(master["id"], stamp),
            type="occurrence",
            series_master_id=master["id"],
            recurrence=None,
            start=orig,
            end=orig + duration,
            orig_start=orig,
            ical_uid=_occurrence_ical_uid(
                master["ical_uid"], orig.astimezone(zone(master["start_tz"])).date()
            ),
            series_ical_uid=master["ical_uid"],
            stamp=stamp,
        )
        if override:
            view.update(override)
            view["type"] = "exception"
            view["seq"] = max(master["seq"], override.get("seq", 0))
        return view

    def _instances(self, master: dict, ws: dt.datetime, we: dt.datetime) -> list[dict]:
        tz = zone(master["start_tz"])
        local_start = master["start"].astimezone(tz)
        until = (we.astimezone(tz) + dt.timedelta(days=1)).date()
        out = []
        for day in rec_mod.occurrence_dates(master["recurrence"], until):
            start = dt.datetime.combine(day, local_start.timetz().replace(tzinfo=None), tz)
            view = self._occurrence(master, _stamp(start))
            if view is not None and _overlaps(view["start"], view["end"], ws, we):
                out.append(view)
        # exceptions moved into the window from outside the scanned dates
        seen = {v["id"] for v in out}
        for stamp in master.get("exceptions", {}):
            view = self._occurrence(master, stamp)
            if view and view["id"] not in seen and _overlaps(view["start"], view["end"], ws, we):
                out.append(view)
        return out

    def view(
        self, account: Account, ws: dt.datetime, we: dt.datetime, calendar_id: str | None = None
    ) -> list[dict]:
        """calendarView: single instances, occurrences and exceptions overlapping [ws, we)."""
        cal = self.calendar(account, calendar_id)
        out = []
        for ev in self._live(account.email, cal["id"]):
            if ev["type"] == "seriesMaster":
                out.extend(self._instances(ev, ws, we))
            elif _overlaps(ev["start"], ev["end"], ws, we):
                out.append(ev)
        out.sort(key=lambda e: (e["start"], e["id"]))
        return out

    def instances(
        self, account: Account, event_id: str, ws: dt.datetime, we: dt.datetime
    ) -> list[dict]:
        master = self.get_record(account, event_id)
        if master["type"] != "seriesMaster":
            return []
        out = self._instances(master, ws, we)
        out.sort(key=lambda e: e["start"])
        return out
