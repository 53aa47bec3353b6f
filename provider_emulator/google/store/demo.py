"""The control API's demo pages: list, create and answer events as an account."""

from __future__ import annotations

import copy
import datetime as dt
import secrets
from typing import Any

from ...state import Account
from .. import recurrence as rec
from .core import StoreCore


class DemoMixin(StoreCore):
    def demo_events(self, account: Account, start: dt.datetime, end: dt.datetime) -> list[dict]:
        with self.state.lock:
            addresses = account.addresses()
            out = []
            for cal in self.calendars_of(account):
                for ev in self._expand(cal["id"], start, end, include_cancelled=True):
                    organizer = (ev.get("organizer") or {}).get("email", "")
                    is_org = ev.get("_org_cal", cal["id"]) == cal["id"]
                    if ev.get("status") == "cancelled" and is_org:
                        continue
                    s, e, all_day = rec.event_bounds(ev, cal["timeZone"])
                    mine = next(
                        (a for a in ev.get("attendees", []) if a["email"].lower() in addresses),
                        None,
                    )
                    out.append(
                        {
                            "id": ev["id"],
                            "title": ev.get("summary", "(No title)"),
                            "start": s,
                            "end": e,
                            "all_day": all_day,
                            "location": ev.get("location", ""),
                            "organizer": organizer,
                            "attendees": [
                                {
                                    "email": a["email"],
                                    "response": a.get("responseStatus", "needsAction"),
                                }
                                for a in ev.get("attendees", [])
                            ],
                            "my_response": None
                            if is_org
                            else (mine or {}).get("responseStatus", "needsAction"),
                            "video_link": ev.get("hangoutLink", ""),
                            "cancelled": ev.get("status") == "cancelled",
                        }
                    )
            out.sort(key=lambda r: r["start"])
            return out

    def demo_create_event(
        self,
        account: Account,
        *,
        title: str,
        start: dt.datetime,
        end: dt.datetime,
        attendees: list[str],
        description: str = "",
        location: str = "",
        online_meeting: bool = False,
    ) -> str:
        with self.state.lock:
            cal = self.resolve_calendar(account, "primary")
            tz_name = getattr(start.tzinfo, "key", None) or "UTC"
            body: dict[str, Any] = {
                "summary": title,
                "description": description,
                "location": location,
                "start": {"dateTime": start.isoformat(), "timeZone": tz_name},
                "end": {"dateTime": end.isoformat(), "timeZone": tz_name},
                "attendees": [{"email": a} for a in attendees],
            }
            if online_meeting:
                body["conferenceData"] = {
                    "createRequest": {
                        "requestId": secrets.token_hex(8),
                        "conferenceSolutionKey": {"type": "hangoutsMeet"},
                    }
                }
            ev = self.insert_event(account, cal, body, send_updates="all", conf_version=1)
            self.flush()
            return ev["id"]

    def demo_respond(self, account: Account, event_id: str, response: str) -> None:
        with self.state.lock:
            cal = self.resolve_calendar(account, "primary")
            ev = self._stored_or_virtual(cal["id"], event_id)
            if ev is None:
                raise KeyError(event_id)
            if ev.get("recurringEventId") and event_id not in self.events[cal["id"]]:
                self._save(cal["id"], copy.deepcopy(ev))
            self._set_response(event_id, account, response)
            self.flush()
