"""Recurring events: instance ids, virtual (not stored) instances, expanding a calendar in a window."""

from __future__ import annotations

import copy
import datetime as dt

from .. import recurrence as rec
from .core import StoreCore


class InstancesMixin(StoreCore):
    def _split_instance(self, cal_id: str, event_id: str) -> tuple[dict, dt.datetime] | None:
        """(master, original start) when event_id names a not-yet-stored recurring instance."""
        if "_" not in event_id:
            return None
        master_id, stamp = event_id.rsplit("_", 1)
        master = self.events.get(cal_id, {}).get(master_id)
        if master is None or not master.get("recurrence"):
            return None
        tz = self._tz(cal_id)
        try:
            if len(stamp) == 8:
                when = dt.datetime.strptime(stamp, "%Y%m%d").replace(tzinfo=rec.zone(tz))
            else:
                when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return None
        for start, _end in rec.occurrences(
            master, tz, when, when + dt.timedelta(seconds=1), limit=5
        ):
            if start == when:
                return master, start
        return None

    def _virtual_instance(
        self, master: dict, cal_id: str, start: dt.datetime, end: dt.datetime
    ) -> dict:
        all_day = "date" in master["start"]
        tz_name = master["start"].get("timeZone")
        inst = copy.deepcopy(master)
        inst.pop("recurrence", None)
        inst.pop("_conf_pending", None)
        inst["id"] = f"{master['id']}_{rec.instance_stamp(start, all_day)}"
        inst["recurringEventId"] = master["id"]
        inst["originalStartTime"] = rec.time_obj(start, all_day, tz_name)
        inst["start"] = rec.time_obj(start, all_day, tz_name)
        inst["end"] = rec.time_obj(end, all_day, master["end"].get("timeZone"))
        inst["htmlLink"] = self._html_link(inst["id"], cal_id)
        return inst

    def _stored_or_virtual(self, cal_id: str, event_id: str) -> dict | None:
        ev = self.events.get(cal_id, {}).get(event_id)
        if ev is not None:
            return ev
        found = self._split_instance(cal_id, event_id)
        if found is None:
            return None
        master, start = found
        duration = rec.event_bounds(master, self._tz(cal_id))
        return self._virtual_instance(master, cal_id, start, start + (duration[1] - duration[0]))

    def _expand(
        self,
        cal_id: str,
        tmin: dt.datetime | None,
        tmax: dt.datetime | None,
        *,
        include_cancelled: bool,
        only: set[str] | None = None,
    ) -> list[dict]:
        """Single events, stored exceptions and generated instances of a calendar in a window."""
        tz = self._tz(cal_id)
        evs = self.events.get(cal_id, {})
        out = []
        for ev in evs.values():
            try:
                if ev.get("recurrence"):
                    if ev.get("status") == "cancelled":
                        if include_cancelled and (only is None or ev["id"] in only):
                            out.append(ev)
                        continue
                    if only is not None and ev["id"] not in only:
                        continue
                    for start, end in rec.occurrences(ev, tz, tmin, tmax):
                        inst_id = f"{ev['id']}_{rec.instance_stamp(start, 'date' in ev['start'])}"
                        if inst_id in evs:
                            continue
                        out.append(self._virtual_instance(ev, cal_id, start, end))
                    continue
                if only is not None and ev["id"] not in only:
                    continue
                master = evs.get(ev.get("recurringEventId", ""))
                cancelled = ev.get("status") == "cancelled" or (
                    master is not None and master.get("status") == "cancelled"
                )
                if cancelled and not include_cancelled:
                    continue
                start, end, _ = rec.event_bounds(ev, tz)
            except (rec.TimeError, ValueError):
                continue
            if (tmin is None or end > tmin or start == end == tmin) and (
                tmax is None or start < tmax
            ):
                out.append(ev)
        return out
