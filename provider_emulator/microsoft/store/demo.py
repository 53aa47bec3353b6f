"""The control API's demo pages: list, create and answer events as a mailbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...state import Account
from ..timeutil import UTC
from .core import StoreCore

DEMO_RESPONSE = {"accepted": "accept", "tentative": "tentativelyAccept", "declined": "decline"}


class DemoMixin(StoreCore):
    def demo_events(self, account: Account, start: dt.datetime, end: dt.datetime) -> list[dict]:
        with self.state.lock:
            out = []
            for ev in self.view(account, start.astimezone(UTC), end.astimezone(UTC)):
                out.append(
                    {
                        "id": ev["id"],
                        "title": ev["subject"],
                        "start": ev["start"],
                        "end": ev["end"],
                        "all_day": ev["is_all_day"],
                        "location": (ev.get("location") or {}).get("displayName", ""),
                        "organizer": ev["organizer"]["address"],
                        "attendees": [
                            {
                                "email": a["emailAddress"]["address"],
                                "response": a["status"]["response"],
                            }
                            for a in ev.get("attendees", [])
                        ],
                        "my_response": None if ev["is_organizer"] else ev["response"],
                        "video_link": ev.get("join_url") or "",
                        "cancelled": bool(ev.get("is_cancelled")),
                    }
                )
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
        payload: dict[str, Any] = {
            "subject": title,
            "body": {"contentType": "text", "content": description},
            "start": {
                "dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
            "end": {
                "dateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
            "attendees": [
                {
                    "emailAddress": {"address": a},
                    "type": "resource"
                    if (self._account(a) and self._account(a).is_room)
                    else "required",
                }  # type: ignore[union-attr]
                for a in attendees
            ],
        }
        if location:
            payload["location"] = {"displayName": location}
        if online_meeting:
            payload["isOnlineMeeting"] = True
            payload["onlineMeetingProvider"] = "teamsForBusiness"
        ev, _ = self.create_event(account, payload)
        return ev["id"]

    def demo_respond(self, account: Account, event_id: str, response: str) -> None:
        action = DEMO_RESPONSE.get(response)
        if action is None:
            raise ValueError("response must be accepted, declined or tentative")
        self.respond(account, event_id, action)
