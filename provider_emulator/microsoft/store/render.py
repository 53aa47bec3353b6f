"""An event record in Graph's wire shape (microsoft.graph.event)."""

from __future__ import annotations

from ..timeutil import fmt_local, fmt_utc, zone
from .core import NO_TIME, StoreCore, _html_of, _location, _text_of


class RenderMixin(StoreCore):
    def render(
        self,
        ev: dict,
        *,
        tz: str = "UTC",
        body_text: bool = False,
        expand_props: list[str] | None = None,
    ) -> dict:
        etag = f'W/"{ev["change_key"]}"'
        body = (
            {"contentType": "text", "content": _text_of(ev["body_type"], ev["body"])}
            if body_text
            else {"contentType": "html", "content": _html_of(ev["body_type"], ev["body"])}
        )
        if ev["body"] == "" and not body_text:
            body = {"contentType": "html", "content": ""}
        online = None
        if ev.get("is_online_meeting") and ev.get("join_url"):
            online = {
                "joinUrl": ev["join_url"],
                "conferenceId": ev.get("conference_id"),
                "tollNumber": "+1 323-555-0166",
                "tollFreeNumbers": [],
                "quickDial": f"+13235550166,,{ev.get('conference_id')}#",
                "phones": [{"number": "+1 323-555-0166", "type": "toll"}],
            }
        show_as = ev["show_as"]
        if ev["response"] == "tentativelyAccepted" and show_as == "busy":
            show_as = "tentative"
        out = {
            "@odata.etag": etag,
            "id": ev["id"],
            "createdDateTime": fmt_utc(ev["created"]),
            "lastModifiedDateTime": fmt_utc(ev["modified"]),
            "changeKey": ev["change_key"],
            "categories": list(ev.get("categories", [])),
            "transactionId": ev.get("transaction_id"),
            "originalStartTimeZone": ev["start_tz"],
            "originalEndTimeZone": ev["end_tz"],
            "iCalUId": ev["ical_uid"],
            "uid": ev.get("series_ical_uid", ev["ical_uid"]),
            "reminderMinutesBeforeStart": ev.get("reminder_minutes", 15),
            "isReminderOn": ev.get("is_reminder_on", True),
            "hasAttachments": False,
            "subject": ev["subject"],
            "bodyPreview": _text_of(ev["body_type"], ev["body"])[:255],
            "importance": ev.get("importance", "normal"),
            "sensitivity": ev.get("sensitivity", "normal"),
            "isAllDay": ev["is_all_day"],
            "isCancelled": ev.get("is_cancelled", False),
            "isOrganizer": ev["is_organizer"],
            "responseRequested": ev.get("response_requested", True),
            "seriesMasterId": ev.get("series_master_id"),
            "showAs": show_as,
            "type": ev["type"],
            "webLink": "https://outlook.office365.com/owa/?itemid="
            + ev["id"].replace("=", "%3D")
            + "&exvsurl=1&path=/calendar/item",
            "onlineMeetingUrl": None,
            "isOnlineMeeting": bool(ev.get("is_online_meeting")),
            "onlineMeetingProvider": ev.get("online_provider", "unknown")
            if ev.get("is_online_meeting")
            else "unknown",
            "allowNewTimeProposals": ev.get("allow_new_time_proposals", True),
            "isDraft": False,
            "hideAttendees": ev.get("hide_attendees", False),
            "responseStatus": {
                "response": ev["response"],
                "time": fmt_utc(ev["response_time"]) if ev.get("response_time") else NO_TIME,
            },
            "body": body,
            "start": self._dtz(ev, "start", tz),
            "end": self._dtz(ev, "end", tz),
            "location": dict(ev.get("location") or _location("")),
            "locations": [dict(x) for x in ev.get("locations", [])],
            "recurrence": ev.get("recurrence"),
            "attendees": [dict(a) for a in ev.get("attendees", [])],
            "organizer": {"emailAddress": dict(ev["organizer"])},
            "onlineMeeting": online,
        }
        if ev["type"] in ("occurrence", "exception"):
            out["occurrenceId"] = None
        if expand_props is not None:
            wanted = {p.lower() for p in expand_props}
            props = [
                {"id": p["id"], "value": p["value"]}
                for p in ev.get("ext_props", [])
                if not wanted or p["id"].lower() in wanted
            ]
            out["singleValueExtendedProperties"] = props
        return out

    @staticmethod
    def _dtz(ev: dict, key: str, tz: str) -> dict:
        value = ev[key]
        if ev["is_all_day"]:
            # all-day events keep their calendar date whatever zone is asked for
            local = value.astimezone(zone(ev[f"{key}_tz"])).replace(tzinfo=None)
            return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": tz}
        return fmt_local(value, tz)
