"""Reading events: events.list (filters, paging, sync tokens), events.get, events.instances."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...clock import rfc3339, utcnow
from ...state import Account
from .. import recurrence as rec
from .core import ApiError, StoreCore, _b64, _bool, _time_param, _unb64, not_found

MAX_RESULTS = 2500
DEFAULT_RESULTS = 250
SYNC_FORBIDDEN = (
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "iCalUID",
    "updatedMin",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
# events.list eventTypes (repeatable; unset: every type).
LISTABLE_EVENT_TYPES = (
    "birthday",
    "default",
    "focusTime",
    "fromGmail",
    "outOfOffice",
    "workingLocation",
)


def _event_types(params: Any) -> list[str]:
    return params.getlist("eventTypes") if hasattr(params, "getlist") else []


class EventReadsMixin(StoreCore):
    def list_events(self, account: Account, cal: dict, params: Any) -> dict:
        with self.state.lock:
            sync_token = params.get("syncToken")
            if sync_token:
                for name in SYNC_FORBIDDEN:
                    if params.get(name):
                        raise ApiError(
                            400,
                            "invalid",
                            f"The {name} parameter cannot be used together with syncToken.",
                            location=name,
                        )
            try:
                max_results = int(params.get("maxResults") or DEFAULT_RESULTS)
            except ValueError as exc:
                raise ApiError(400, "invalid", "Invalid value for: maxResults") from exc
            if max_results < 1:
                raise ApiError(400, "invalid", "Invalid value for: maxResults")
            max_results = min(max_results, MAX_RESULTS)
            tmin, tmax = _time_param(params, "timeMin"), _time_param(params, "timeMax")
            if tmin and tmax and tmax <= tmin:
                raise ApiError(
                    400,
                    "timeRangeEmpty",
                    "The specified time range is empty.",
                    domain="calendar",
                    location="timeMax",
                )
            updated_min = _time_param(params, "updatedMin")
            for kind in _event_types(params):
                if kind not in LISTABLE_EVENT_TYPES:
                    raise ApiError(
                        400, "invalid", "Invalid value for: eventTypes", location="eventTypes"
                    )
            single = _bool(params.get("singleEvents"))
            order_by = params.get("orderBy")
            if order_by not in (None, "", "startTime", "updated"):
                raise ApiError(400, "invalid", "Invalid value for: orderBy", location="orderBy")
            if order_by == "startTime" and not single:
                raise ApiError(
                    400,
                    "badRequest",
                    "The requested ordering is not available for the particular query.",
                )
            page = _unb64(params["pageToken"]) if params.get("pageToken") else {}
            snapshot = int(page.get("s", self.seq))
            offset = int(page.get("o", 0))
            since = self._sync_since(sync_token, cal) if sync_token else None
            show_deleted = _bool(params.get("showDeleted")) or bool(updated_min) or bool(sync_token)
            evs = self.events.get(cal["id"], {})
            only = None
            if since is not None:
                only = {e["id"] for e in evs.values() if e.get("_seq", 0) > since}
            if single:
                items = self._expand(
                    cal["id"], tmin, tmax, include_cancelled=show_deleted, only=only
                )
            else:
                items = []
                tz = cal["timeZone"]
                for ev in evs.values():
                    if only is not None and ev["id"] not in only:
                        continue
                    if ev.get("status") == "cancelled" and not show_deleted:
                        continue
                    if tmin or tmax:
                        try:
                            if ev.get("recurrence"):
                                if not rec.occurrences(ev, tz, tmin, tmax, limit=1):
                                    continue
                            else:
                                start, end, _ = rec.event_bounds(ev, tz)
                                if (tmin and end <= tmin) or (tmax and start >= tmax):
                                    continue
                        except (rec.TimeError, ValueError):
                            continue
                    items.append(ev)
            items = [ev for ev in items if self._matches(ev, params, updated_min)]
            if order_by == "startTime" or (single and not order_by):
                tz = cal["timeZone"]

                def start_key(ev: dict) -> tuple:
                    try:
                        return (rec.event_bounds(ev, tz)[0].timestamp(), ev["id"])
                    except (rec.TimeError, ValueError):
                        return (0, ev["id"])

                items.sort(key=start_key)
            elif order_by == "updated":
                items.sort(key=lambda ev: (ev.get("updated", ""), ev["id"]))
            chunk = items[offset : offset + max_results]
            body: dict[str, Any] = {
                "kind": "calendar#events",
                "etag": self._etag(),
                "summary": cal["summary"],
                "description": "",
                "updated": rfc3339(utcnow()),
                "timeZone": params.get("timeZone") or cal["timeZone"],
                "accessRole": "owner",
                "defaultReminders": self.calendar_list_entry(cal)["defaultReminders"],
            }
            if offset + max_results < len(items):
                body["nextPageToken"] = _b64({"o": offset + max_results, "s": snapshot})
            else:
                body["nextSyncToken"] = self._issue_sync_token(account, cal, snapshot)
            body["items"] = [self.render(ev, cal) for ev in chunk]
            return body

    def _matches(self, ev: dict, params: Any, updated_min: dt.datetime | None) -> bool:
        if params.get("iCalUID") and ev.get("iCalUID") != params["iCalUID"]:
            return False
        kinds = _event_types(params)
        if kinds and ev.get("eventType", "default") not in kinds:
            return False
        if updated_min and rec.parse_rfc3339(ev["updated"]) < updated_min:
            return False
        for scope, name in (
            ("private", "privateExtendedProperty"),
            ("shared", "sharedExtendedProperty"),
        ):
            wanted = params.getlist(name) if hasattr(params, "getlist") else []
            have = (ev.get("extendedProperties") or {}).get(scope) or {}
            for item in wanted:
                key, _, value = item.partition("=")
                if have.get(key) != value:
                    return False
        query = (params.get("q") or "").lower().split()
        if query:
            text = " ".join(
                [
                    ev.get("summary", ""),
                    ev.get("description", ""),
                    ev.get("location", ""),
                    (ev.get("organizer") or {}).get("email", ""),
                    (ev.get("organizer") or {}).get("displayName", ""),
                ]
                + [
                    f"{a.get('email', '')} {a.get('displayName', '')}"
                    for a in ev.get("attendees", [])
                ]
            ).lower()
            if not all(word in text for word in query):
                return False
        return True

    def get_event(self, account: Account, cal: dict, event_id: str) -> dict:
        with self.state.lock:
            ev = self._stored_or_virtual(cal["id"], event_id)
            if ev is None:
                raise not_found()
            return self.render(ev, cal)

    def instances(self, account: Account, cal: dict, event_id: str, params: Any) -> dict:
        with self.state.lock:
            master = self.events.get(cal["id"], {}).get(event_id)
            if master is None:
                raise not_found()
            if master.get("status") == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            tmin, tmax = _time_param(params, "timeMin"), _time_param(params, "timeMax")
            try:
                max_results = min(int(params.get("maxResults") or DEFAULT_RESULTS), MAX_RESULTS)
            except ValueError as exc:
                raise ApiError(400, "invalid", "Invalid value for: maxResults") from exc
            show_deleted = _bool(params.get("showDeleted"))
            items: list[dict] = []
            tz = cal["timeZone"]
            if master.get("recurrence"):
                evs = self.events[cal["id"]]
                for start, end in rec.occurrences(master, tz, tmin, tmax):
                    inst_id = (
                        f"{master['id']}_{rec.instance_stamp(start, 'date' in master['start'])}"
                    )
                    stored = evs.get(inst_id)
                    if stored is None:
                        items.append(self._virtual_instance(master, cal["id"], start, end))
                    elif stored.get("status") != "cancelled" or show_deleted:
                        items.append(stored)
                # Exceptions moved into the window from elsewhere.
                ids = {i["id"] for i in items}
                for ev in evs.values():
                    if ev.get("recurringEventId") == master["id"] and ev["id"] not in ids:
                        if ev.get("status") == "cancelled" and not show_deleted:
                            continue
                        start, end, _ = rec.event_bounds(ev, tz)
                        if (tmin is None or end > tmin) and (tmax is None or start < tmax):
                            items.append(ev)
                items.sort(key=lambda e: rec.event_bounds(e, tz)[0])
            original = params.get("originalStart")
            if original:
                items = [
                    i
                    for i in items
                    if rec.parse_event_time(i.get("originalStartTime"), tz, "start")[0]
                    == rec.parse_event_time({"dateTime": original}, tz, "start")[0]
                ]
            page = _unb64(params["pageToken"]) if params.get("pageToken") else {}
            offset = int(page.get("o", 0))
            body = {
                "kind": "calendar#events",
                "etag": self._etag(),
                "summary": cal["summary"],
                "updated": rfc3339(utcnow()),
                "timeZone": cal["timeZone"],
                "accessRole": "owner",
                "defaultReminders": [],
                "items": [self.render(i, cal) for i in items[offset : offset + max_results]],
            }
            if offset + max_results < len(items):
                body["nextPageToken"] = _b64({"o": offset + max_results})
            return body
