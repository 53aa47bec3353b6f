"""The Microsoft 365 mailboxes: calendars, events (with attendee copies), delta state, subscriptions.

Every mailbox is an emulated Microsoft account. An event lives as one record per mailbox that holds
a copy (the organizer's plus one per emulated attendee), linked by ``ical_uid``. Recurring series are
stored once (the seriesMaster); occurrences are computed, with per-occurrence overrides
(exceptions) and cancellations kept on the master. All mutation happens under ``state.lock``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
import secrets
import uuid
from typing import Any

from .. import push
from ..state import Account, EmulatorState
from . import recurrence as rec_mod
from .timeutil import UTC, BadTimeZone, fmt_local, fmt_utc, parse_dtz, zone

NO_TIME = "0001-01-01T00:00:00Z"
MAX_SUBSCRIPTION_MINUTES = 10080  # Outlook message/event/contact: under 7 days
SHOW_AS = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}
ATTENDEE_TYPES = {"required", "optional", "resource"}
PROVIDERS = {"teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown"}
AVAILABILITY_CODE = {
    "free": "0",
    "workingElsewhere": "0",
    "tentative": "1",
    "busy": "2",
    "oof": "3",
}
# Properties a client may send on an event (anything else: RequestBodyRead, as Graph does).
EVENT_PROPERTIES = {
    "subject",
    "body",
    "start",
    "end",
    "isAllDay",
    "location",
    "locations",
    "attendees",
    "categories",
    "importance",
    "sensitivity",
    "showAs",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "responseRequested",
    "allowNewTimeProposals",
    "hideAttendees",
    "isOnlineMeeting",
    "onlineMeetingProvider",
    "recurrence",
    "transactionId",
    "singleValueExtendedProperties",
    "multiValueExtendedProperties",
    "attachments",
    "originalStartTimeZone",
    "originalEndTimeZone",
    "organizer",
    "isDraft",
    "bodyPreview",
    "id",
    "changeKey",
    "createdDateTime",
    "lastModifiedDateTime",
    "iCalUId",
    "uid",
    "type",
    "seriesMasterId",
    "webLink",
    "isCancelled",
    "isOrganizer",
    "responseStatus",
    "hasAttachments",
    "onlineMeeting",
    "onlineMeetingUrl",
    "occurrenceId",
    "cancelledOccurrences",
    "extensions",
}
RESPONSE_FOR_ACTION = {
    "accept": "accepted",
    "tentativelyAccept": "tentativelyAccepted",
    "decline": "declined",
}
DEMO_RESPONSE = {"accepted": "accept", "tentative": "tentativelyAccept", "declined": "decline"}
DT_KEYS = ("start", "end", "created", "modified", "response_time", "orig_start")


class GraphError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _new_id(prefix: str = "AAMkAG") -> str:
    return prefix + secrets.token_urlsafe(33).replace("_", "x") + "AAA="


def _change_key() -> str:
    return "DwAAABYAAAB" + base64.b64encode(secrets.token_bytes(18)).decode()


def _ical_uid() -> str:
    return "040000008200E00074C5B7101A82E00800000000" + secrets.token_hex(28).upper()


def _occurrence_ical_uid(master_uid: str, day: dt.date) -> str:
    # Outlook's Global Object ID carries the occurrence date in bytes 16-19 (YYYY MM DD).
    stamp = f"{day.year:04X}{day.month:02X}{day.day:02X}"
    return master_uid[:32] + stamp + master_uid[40:]


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _from_stamp(stamp: str) -> dt.datetime:
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def occurrence_id(master_id: str, stamp: str) -> str:
    raw = f"{master_id}\x00{stamp}".encode()
    return "AAMkOC" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def split_occurrence_id(event_id: str) -> tuple[str, str] | None:
    if not event_id.startswith("AAMkOC"):
        return None
    data = event_id[6:]
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if "\x00" not in raw:
        return None
    master, stamp = raw.split("\x00", 1)
    return master, stamp


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _text_of(body_type: str, content: str) -> str:
    if body_type.lower() == "html":
        text = re.sub(r"(?is)<(script|style|head).*?</\1>", "", content)
        text = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", text)
        text = html.unescape(re.sub(r"<[^>]+>", "", text))
        return re.sub(r"\n{3,}", "\n\n", text).strip()
    return content


def _html_of(body_type: str, content: str) -> str:
    if body_type.lower() == "html":
        if "<html" in content.lower():
            return content
        inner = content
    else:
        inner = '<div class="PlainText">' + html.escape(content).replace("\n", "<br>\n") + "</div>"
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        "\r\n</head>\r\n<body>\r\n" + inner + "\r\n</body>\r\n</html>\r\n"
    )


class GraphStore:
    provider = "microsoft"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------------
    def reset(self) -> None:
        self.calendars: dict[str, dict] = {}
        self.events: dict[str, dict] = {}
        self.subscriptions: dict[str, dict] = {}
        self.sync_states: dict[str, dict] = {}
        self.sync_epoch: dict[str, int] = {}
        self.transactions: dict[str, str] = {}
        self.seq = 0
        self.auth_flows: dict[str, dict] = {}  # sign-in pages in progress (not persisted)

    def to_dict(self) -> dict:
        with self.state.lock:
            return {
                "calendars": list(self.calendars.values()),
                "events": [self._dump(e) for e in self.events.values()],
                "subscriptions": [
                    {**s, "expiration": s["expiration"].isoformat()}
                    for s in self.subscriptions.values()
                ],
                "sync_states": self.sync_states,
                "sync_epoch": self.sync_epoch,
                "transactions": self.transactions,
                "seq": self.seq,
            }

    def load(self, data: dict) -> None:
        with self.state.lock:
            self.reset()
            self.calendars = {c["id"]: c for c in data.get("calendars", [])}
            for raw in data.get("events", []):
                ev = dict(raw)
                for target in [ev, *ev.get("exceptions", {}).values()]:
                    for key in DT_KEYS:
                        if isinstance(target.get(key), str):
                            target[key] = dt.datetime.fromisoformat(target[key])
                self.events[ev["id"]] = ev
            for raw in data.get("subscriptions", []):
                sub = dict(raw)
                sub["expiration"] = dt.datetime.fromisoformat(sub["expiration"])
                self.subscriptions[sub["id"]] = sub
            self.sync_states = dict(data.get("sync_states", {}))
            self.sync_epoch = dict(data.get("sync_epoch", {}))
            self.transactions = dict(data.get("transactions", {}))
            self.seq = int(data.get("seq", 0))

    @staticmethod
    def _dump(ev: dict) -> dict:
        out = _clone(ev)
        for target in [out, *out.get("exceptions", {}).values()]:
            for key in DT_KEYS:
                if isinstance(target.get(key), dt.datetime):
                    target[key] = target[key].isoformat()
        return out

    def on_account_created(self, account: Account) -> None:
        with self.state.lock:
            self._new_calendar(account, "Calendar", default=True)
            if not account.is_room:
                self._new_calendar(account, "Birthdays", default=False, color="lightGreen")

    def _new_calendar(
        self, account: Account, name: str, *, default: bool = False, color: str = "auto"
    ) -> dict:
        cal = {
            "id": _new_id("AAMkAGI"),
            "mailbox": account.email,
            "name": name,
            "color": color,
            "is_default": default,
            "change_key": _change_key(),
        }
        self.calendars[cal["id"]] = cal
        return cal

    # -- helpers -------------------------------------------------------------------------------
    def _account(self, email: str) -> Account | None:
        return self.state.account_find("microsoft", email)

    def default_calendar(self, account: Account) -> dict:
        for cal in self.calendars.values():
            if cal["mailbox"] == account.email and cal["is_default"]:
                return cal
        return self._new_calendar(account, "Calendar", default=True)

    def calendar(self, account: Account, calendar_id: str | None) -> dict:
        if calendar_id is None:
            return self.default_calendar(account)
        cal = self.calendars.get(calendar_id)
        if cal is None or cal["mailbox"] != account.email:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return cal

    def calendar_list(self, account: Account) -> list[dict]:
        return [c for c in self.calendars.values() if c["mailbox"] == account.email]

    def render_calendar(self, cal: dict) -> dict:
        owner = self._account(cal["mailbox"])
        return {
            "id": cal["id"],
            "name": cal["name"],
            "color": cal["color"],
            "hexColor": "",
            "isDefaultCalendar": cal["is_default"],
            "changeKey": cal["change_key"],
            "canShare": True,
            "canViewPrivateItems": True,
            "canEdit": True,
            "allowedOnlineMeetingProviders": ["teamsForBusiness"],
            "defaultOnlineMeetingProvider": "teamsForBusiness",
            "isTallyingResponses": True,
            "isRemovable": not cal["is_default"] and cal["name"] != "Birthdays",
            "owner": {"name": owner.name if owner else "", "address": cal["mailbox"]},
        }

    def create_calendar(self, account: Account, data: dict) -> dict:
        name = str(data.get("name") or "").strip()
        if not name:
            raise GraphError(400, "ErrorInvalidParameter", "The calendar name is missing.")
        if any(c["name"].lower() == name.lower() for c in self.calendar_list(account)):
            raise GraphError(
                409, "ErrorFolderExists", "A folder with the specified name already exists."
            )
        return self._new_calendar(account, name, color=str(data.get("color") or "auto"))

    def update_calendar(self, account: Account, calendar_id: str, data: dict) -> dict:
        cal = self.calendar(account, calendar_id)
        if data.get("name"):
            cal["name"] = str(data["name"])
        if data.get("color"):
            cal["color"] = str(data["color"])
        cal["change_key"] = _change_key()
        return cal

    def delete_calendar(self, account: Account, calendar_id: str) -> None:
        cal = self.calendar(account, calendar_id)
        if cal["is_default"]:
            raise GraphError(400, "ErrorInvalidRequest", "The default calendar cannot be deleted.")
        for ev in list(self.events.values()):
            if ev["calendar_id"] == calendar_id and not ev.get("deleted"):
                self._tombstone(ev)
        del self.calendars[calendar_id]

    def _bump(self, ev: dict) -> None:
        self.seq += 1
        ev["seq"] = self.seq
        ev["modified"] = self.state.now()
        ev["change_key"] = _change_key()

    def _live(self, mailbox: str, calendar_id: str | None = None) -> list[dict]:
        return [
            e
            for e in self.events.values()
            if e["mailbox"] == mailbox
            and not e.get("deleted")
            and (calendar_id is None or e["calendar_id"] == calendar_id)
        ]

    def _copies(self, ical_uid: str) -> list[dict]:
        return [
            e for e in self.events.values() if e["ical_uid"] == ical_uid and not e.get("deleted")
        ]

    def get_record(self, account: Account, event_id: str) -> dict:
        """The event (or a computed occurrence) of this mailbox, or 404 ErrorItemNotFound."""
        occ = split_occurrence_id(event_id)
        if occ:
            master = self.events.get(occ[0])
            if master and master["mailbox"] == account.email and not master.get("deleted"):
                view = self._occurrence(master, occ[1])
                if view is not None:
                    return view
        else:
            ev = self.events.get(event_id)
            if ev and ev["mailbox"] == account.email and not ev.get("deleted"):
                return ev
        raise GraphError(
            404, "ErrorItemNotFound", "The specified object was not found in the store."
        )

    # -- recurrence ---------------------------------------------------------------------------
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

    # -- rendering ------------------------------------------------------------------------------
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

    # -- event writes -------------------------------------------------------------------------------
    def _check_properties(self, data: dict) -> None:
        for key in data:
            if "@" in key:
                continue
            if key not in EVENT_PROPERTIES:
                raise GraphError(
                    400,
                    "RequestBodyRead",
                    f"The property '{key}' does not exist on type 'Microsoft.OutlookServices.Event'. "
                    "Make sure to only use property names that are defined by the type or mark the "
                    "type as open type.",
                )

    def _apply(self, ev: dict, data: dict, *, creating: bool) -> None:
        """Copy client-settable fields from a Graph payload onto a record (validated)."""
        if "subject" in data:
            ev["subject"] = str(data["subject"] or "")
        if "body" in data and isinstance(data["body"], dict):
            ev["body_type"] = str(data["body"].get("contentType") or "text").lower()
            ev["body"] = str(data["body"].get("content") or "")
        if "isAllDay" in data:
            ev["is_all_day"] = _truthy(data["isAllDay"])
        for key in ("start", "end"):
            if key in data:
                try:
                    ev[key], ev[f"{key}_tz"] = parse_dtz(data[key])
                except BadTimeZone as exc:
                    raise GraphError(
                        400,
                        "TimeZoneNotSupportedException",
                        f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{exc}'.",
                    ) from exc
                except (ValueError, TypeError) as exc:
                    raise GraphError(
                        400,
                        "ErrorInvalidRequest",
                        f"Cannot convert the literal '{data[key]}' to the expected type 'Edm.DateTimeOffset'.",
                    ) from exc
        if creating and ("start" not in ev or "end" not in ev):
            raise GraphError(
                400, "ErrorPropertyValidationFailure", "At least one property failed validation."
            )
        if ev["end"] < ev["start"]:
            raise GraphError(
                400, "ErrorInvalidRequest", "The end date you entered occurs before the start date."
            )
        if ev["is_all_day"]:
            for key in ("start", "end"):
                local = ev[key].astimezone(zone(ev[f"{key}_tz"]))
                if local.time() != dt.time(0, 0):
                    raise GraphError(
                        400,
                        "ErrorPropertyValidationFailure",
                        "Start and End time of All Day event should be set to midnight.",
                    )
        if "location" in data:
            loc = data["location"] or {}
            ev["location"] = _location(loc.get("displayName", ""), loc)
            if "locations" not in data:
                ev["locations"] = [ev["location"]] if ev["location"]["displayName"] else []
        if "locations" in data:
            ev["locations"] = [
                _location(x.get("displayName", ""), x) for x in data["locations"] or []
            ]
            if "location" not in data and ev["locations"]:
                ev["location"] = dict(ev["locations"][0])
        for key, field, allowed in (
            ("showAs", "show_as", SHOW_AS),
            ("importance", "importance", {"low", "normal", "high"}),
            ("sensitivity", "sensitivity", {"normal", "personal", "private", "confidential"}),
        ):
            if key in data:
                value = str(data[key])
                if value not in allowed:
                    raise GraphError(
                        400, "RequestBodyRead", f"Requested value '{value}' was not found."
                    )
                ev[field] = value
        for key, field in (
            ("categories", "categories"),
            ("isReminderOn", "is_reminder_on"),
            ("reminderMinutesBeforeStart", "reminder_minutes"),
            ("responseRequested", "response_requested"),
            ("allowNewTimeProposals", "allow_new_time_proposals"),
            ("hideAttendees", "hide_attendees"),
        ):
            if key in data:
                ev[field] = data[key]
        if "isOnlineMeeting" in data:
            ev["is_online_meeting"] = _truthy(data["isOnlineMeeting"])
        if "onlineMeetingProvider" in data:
            provider = str(data["onlineMeetingProvider"])
            if provider not in PROVIDERS:
                raise GraphError(
                    400, "RequestBodyRead", f"Requested value '{provider}' was not found."
                )
            ev["online_provider"] = provider
        if ev.get("is_online_meeting") and ev.get("online_provider", "unknown") == "unknown":
            ev["online_provider"] = "teamsForBusiness"
        if (
            ev.get("is_online_meeting")
            and ev["online_provider"] == "teamsForBusiness"
            and not ev.get("join_url")
        ):
            ev["join_url"], ev["conference_id"] = self._teams_link(ev)
        if "singleValueExtendedProperties" in data:
            props = {p["id"].lower(): p for p in ev.get("ext_props", [])}
            for p in data["singleValueExtendedProperties"] or []:
                if not isinstance(p, dict) or "id" not in p:
                    raise GraphError(
                        400, "ErrorInvalidProperty", "The extended property is invalid."
                    )
                props[str(p["id"]).lower()] = {"id": str(p["id"]), "value": str(p.get("value", ""))}
            ev["ext_props"] = list(props.values())
        if "recurrence" in data:
            recurrence = data["recurrence"]
            if recurrence:
                if ev.get("type") in ("occurrence", "exception"):
                    raise GraphError(
                        400, "ErrorInvalidRequest", "An occurrence cannot have a recurrence."
                    )
                err = rec_mod.validate(recurrence)
                if err:
                    raise GraphError(400, "ErrorInvalidRecurrence", err)
                rng = dict(recurrence["range"])
                rng.setdefault("recurrenceTimeZone", ev["start_tz"])
                rng.setdefault("endDate", "0001-01-01")
                rng.setdefault("numberOfOccurrences", 0)
                pattern = {
                    "type": recurrence["pattern"]["type"],
                    "interval": int(recurrence["pattern"].get("interval") or 1),
                    "month": int(recurrence["pattern"].get("month") or 0),
                    "dayOfMonth": int(recurrence["pattern"].get("dayOfMonth") or 0),
                    "daysOfWeek": list(recurrence["pattern"].get("daysOfWeek") or []),
                    "firstDayOfWeek": recurrence["pattern"].get("firstDayOfWeek") or "sunday",
                    "index": recurrence["pattern"].get("index") or "first",
                }
                ev["recurrence"] = {"pattern": pattern, "range": rng}
                ev["type"] = "seriesMaster"
            elif ev.get("type") == "seriesMaster":
                ev["recurrence"] = None
                ev["type"] = "singleInstance"
                ev["exceptions"], ev["cancelled_occurrences"] = {}, []
        if "attendees" in data:
            ev["attendees"] = self._attendees(data["attendees"] or [], ev.get("attendees", []))

    def _teams_link(self, ev: dict) -> tuple[str, str]:
        account = self._account(ev["mailbox"])
        tid = account.tenant_id if account else str(uuid.uuid4())
        oid = account.id if account else str(uuid.uuid4())
        thread = (
            base64.b64encode(secrets.token_bytes(36))
            .decode()
            .replace("+", "")
            .replace("/", "")[:48]
        )
        context = json.dumps({"Tid": tid, "Oid": oid}, separators=(",", ":"))
        from urllib.parse import quote

        url = (
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_"
            + thread
            + "%40thread.v2/0?context="
            + re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(context, safe=""))
        )
        return url, str(secrets.randbelow(10**9)).rjust(9, "1")

    def _attendees(self, items: list, previous: list[dict]) -> list[dict]:
        prev = {a["emailAddress"]["address"].lower(): a for a in previous}
        out = []
        for item in items:
            if not isinstance(item, dict) or not (item.get("emailAddress") or {}).get("address"):
                raise GraphError(
                    400, "ErrorInvalidRecipients", "At least one recipient is not valid."
                )
            address = str(item["emailAddress"]["address"]).strip()
            kind = str(item.get("type") or "required")
            if kind not in ATTENDEE_TYPES:
                raise GraphError(400, "RequestBodyRead", f"Requested value '{kind}' was not found.")
            acc = self._account(address)
            name = item["emailAddress"].get("name") or (acc.name if acc else address)
            old = prev.get(address.lower())
            status = old["status"] if old else {"response": "none", "time": NO_TIME}
            out.append(
                {
                    "type": kind,
                    "status": dict(status),
                    "emailAddress": {"name": name, "address": address},
                }
            )
        return out

    def create_event(
        self, account: Account, data: dict, calendar_id: str | None = None
    ) -> tuple[dict, bool]:
        """POST .../events. Returns (record, created) - created False for a transactionId replay."""
        self._check_properties(data)
        with self.state.lock:
            cal = self.calendar(account, calendar_id)
            tx = data.get("transactionId")
            if tx:
                existing = self.events.get(self.transactions.get(f"{account.email}|{tx}", ""))
                if existing and not existing.get("deleted"):
                    return existing, False
            now = self.state.now()
            ev: dict[str, Any] = {
                "id": _new_id(),
                "mailbox": account.email,
                "calendar_id": cal["id"],
                "ical_uid": _ical_uid(),
                "created": now,
                "modified": now,
                "change_key": _change_key(),
                "seq": 0,
                "subject": "",
                "body_type": "html",
                "body": "",
                "is_all_day": False,
                "location": _location(""),
                "locations": [],
                "attendees": [],
                "organizer": {"name": account.name, "address": account.email},
                "is_organizer": True,
                "response": "organizer",
                "response_time": None,
                "is_cancelled": False,
                "show_as": "busy",
                "type": "singleInstance",
                "recurrence": None,
                "exceptions": {},
                "cancelled_occurrences": [],
                "is_online_meeting": False,
                "online_provider": "unknown",
                "transaction_id": tx,
                "ext_props": [],
            }
            self._apply(ev, data, creating=True)
            self._bump(ev)
            self.events[ev["id"]] = ev
            if tx:
                self.transactions[f"{account.email}|{tx}"] = ev["id"]
            self._notify(ev, "created")
            self._sync_attendees(ev, previous=[], kind="invitation")
            return ev, True

    def update_event(self, account: Account, event_id: str, data: dict) -> dict:
        self._check_properties(data)
        with self.state.lock:
            ev = self.get_record(account, event_id)
            if ev["type"] in ("occurrence", "exception"):
                return self._update_occurrence(ev, data)
            previous = [dict(a) for a in ev.get("attendees", [])]
            before = {k: ev.get(k) for k in ("start", "end", "subject", "location", "is_cancelled")}
            if not ev["is_organizer"]:
                # an attendee may only change its own view: categories, reminders, showAs
                allowed = {
                    "categories",
                    "isReminderOn",
                    "reminderMinutesBeforeStart",
                    "showAs",
                    "singleValueExtendedProperties",
                }
                data = {k: v for k, v in data.items() if k in allowed}
            snapshot = dict(ev)
            try:
                self._apply(ev, data, creating=False)
            except GraphError:
                ev.clear()
                ev.update(snapshot)
                raise
            self._bump(ev)
            self._notify(ev, "updated")
            if ev["is_organizer"]:
                changed = (
                    any(ev.get(k) != v for k, v in before.items())
                    or "attendees" in data
                    or "body" in data
                )
                self._sync_attendees(ev, previous=previous, kind="update" if changed else "")
            return ev

    def _update_occurrence(self, view: dict, data: dict) -> dict:
        master = self.events[view["series_master_id"]]
        stamp = view["stamp"]
        work = dict(view)
        self._apply(work, {k: v for k, v in data.items() if k != "recurrence"}, creating=False)
        override = master.setdefault("exceptions", {}).setdefault(stamp, {})
        for key in (
            "subject",
            "body",
            "body_type",
            "start",
            "end",
            "start_tz",
            "end_tz",
            "location",
            "locations",
            "show_as",
            "is_all_day",
            "categories",
            "attendees",
            "ext_props",
            "is_online_meeting",
            "online_provider",
            "join_url",
            "conference_id",
        ):
            if work.get(key) != view.get(key):
                override[key] = work.get(key)
        self._bump(master)
        override["seq"] = master["seq"]
        override["modified"] = master["modified"]
        override["change_key"] = _change_key()
        self._notify(master, "updated")
        if master["is_organizer"]:
            for copy in self._copies(master["ical_uid"]):
                if copy is master or copy.get("type") != "seriesMaster":
                    continue
                exc = copy.setdefault("exceptions", {}).setdefault(stamp, {})
                exc.update({k: v for k, v in override.items() if k not in ("attendees",)})
                self._bump(copy)
                exc["seq"] = copy["seq"]
                self._notify(copy, "updated")
        return self._occurrence(master, stamp) or view

    def delete_event(self, account: Account, event_id: str, *, comment: str = "") -> None:
        with self.state.lock:
            ev = self.get_record(account, event_id)
            if ev["type"] in ("occurrence", "exception"):
                master = self.events[ev["series_master_id"]]
                copies = self._copies(master["ical_uid"]) if master["is_organizer"] else [master]
                for copy in copies:
                    if copy.get("type") != "seriesMaster":
                        continue
                    copy.setdefault("cancelled_occurrences", []).append(ev["stamp"])
                    self._bump(copy)
                    self._notify(copy, "updated")
                return
            self._tombstone(ev)
            if ev["is_organizer"]:
                for copy in self._copies(ev["ical_uid"]):
                    if copy["mailbox"] == ev["mailbox"]:
                        continue
                    copy["is_cancelled"] = True
                    if not copy["subject"].startswith("Canceled: "):
                        copy["subject"] = "Canceled: " + copy["subject"]
                    self._bump(copy)
                    self._notify(copy, "updated")
                    acc = self._account(copy["mailbox"])
                    if acc and acc.is_room:  # rooms drop cancelled bookings
                        self._tombstone(copy)
                self._mail_external(ev, ev.get("attendees", []), "cancellation", body=comment)

    def _tombstone(self, ev: dict) -> None:
        ev["deleted"] = True
        self._bump(ev)
        self._notify(ev, "deleted")

    def respond(
        self,
        account: Account,
        event_id: str,
        action: str,
        *,
        comment: str = "",
        send_response: bool = True,
    ) -> None:
        """accept / tentativelyAccept / decline by an attendee."""
        with self.state.lock:
            ev = self.get_record(account, event_id)
            if ev["type"] in ("occurrence", "exception"):
                ev = self.events[ev["series_master_id"]]
            if ev["is_organizer"]:
                raise GraphError(
                    400,
                    "ErrorInvalidRequest",
                    "Your request can't be completed. You can't respond to a meeting you organized.",
                )
            response = RESPONSE_FOR_ACTION[action]
            now = self.state.now()
            ev["response"] = response
            ev["response_time"] = now
            if response == "declined":
                self._tombstone(ev)  # Outlook moves a declined meeting to Deleted Items
            else:
                self._bump(ev)
                self._notify(ev, "updated")
            if not send_response:
                return
            for copy in self._copies(ev["ical_uid"]):
                if copy["is_organizer"]:
                    for att in copy.get("attendees", []):
                        if att["emailAddress"]["address"].lower() in account.addresses():
                            att["status"] = {"response": response, "time": fmt_utc(now)}
                    self._bump(copy)
                    self._notify(copy, "updated")

    # -- attendees: copies, rooms, outbox ----------------------------------------------------------
    def _sync_attendees(self, ev: dict, *, previous: list[dict], kind: str) -> None:
        """Make the attendees' copies match the organizer's event; mail external attendees."""
        current = {a["emailAddress"]["address"].lower(): a for a in ev.get("attendees", [])}
        before = {a["emailAddress"]["address"].lower() for a in previous}
        organizer_addresses = (
            self._account(ev["mailbox"]).addresses()
            if self._account(ev["mailbox"])
            else {ev["mailbox"]}
        )
        copies = {c["mailbox"]: c for c in self._copies(ev["ical_uid"]) if c is not ev}
        external_new, external_old = [], []
        for address, att in current.items():
            if address in organizer_addresses:
                continue
            acc = self._account(address)
            if acc is None:
                (external_old if address in before else external_new).append(att)
                continue
            copy = copies.get(acc.email)
            if acc.is_room:
                self._book_room(ev, acc, att, copy)
                continue
            if copy is None:
                self._make_copy(ev, acc)
            else:
                self._refresh_copy(ev, copy)
        for address in before - set(current):
            acc = self._account(address)
            if acc is None:
                self._mail_external(ev, [{"emailAddress": {"address": address}}], "cancellation")
                continue
            copy = copies.get(acc.email)
            if copy is not None:
                if acc.is_room:
                    self._tombstone(copy)
                else:
                    copy["is_cancelled"] = True
                    copy["subject"] = "Canceled: " + ev["subject"]
                    self._bump(copy)
                    self._notify(copy, "updated")
        if external_new:
            self._mail_external(ev, external_new, "invitation")
        if external_old and kind:
            self._mail_external(ev, external_old, kind if kind != "invitation" else "invitation")

    _COPY_FIELDS = (
        "subject",
        "body_type",
        "body",
        "is_all_day",
        "start",
        "end",
        "start_tz",
        "end_tz",
        "location",
        "locations",
        "attendees",
        "organizer",
        "show_as",
        "type",
        "recurrence",
        "exceptions",
        "cancelled_occurrences",
        "is_online_meeting",
        "online_provider",
        "join_url",
        "conference_id",
        "importance",
        "sensitivity",
        "categories",
        "response_requested",
        "allow_new_time_proposals",
        "hide_attendees",
    )

    def _make_copy(self, ev: dict, acc: Account, response: str = "notResponded") -> dict:
        cal = self.default_calendar(acc)
        now = self.state.now()
        copy = {
            "id": _new_id(),
            "mailbox": acc.email,
            "calendar_id": cal["id"],
            "ical_uid": ev["ical_uid"],
            "created": now,
            "modified": now,
            "change_key": _change_key(),
            "seq": 0,
            "is_organizer": False,
            "response": response,
            "response_time": now if response != "notResponded" else None,
            "is_cancelled": False,
            "transaction_id": None,
            "ext_props": [],
            "categories": [],
        }
        for key in self._COPY_FIELDS:
            if key != "categories":
                copy[key] = _clone(ev.get(key))
        copy["exceptions"] = {
            stamp: {k: v for k, v in exc.items() if k != "attendees"}
            for stamp, exc in ev.get("exceptions", {}).items()
        }
        if response == "notResponded" and copy["show_as"] == "busy":
            copy["show_as"] = "tentative"
        self._bump(copy)
        self.events[copy["id"]] = copy
        self._notify(copy, "created")
        return copy

    def _refresh_copy(self, ev: dict, copy: dict) -> None:
        for key in self._COPY_FIELDS:
            if key in ("categories", "show_as"):
                continue
            copy[key] = _clone(ev.get(key))
        copy["is_cancelled"] = ev.get("is_cancelled", False)
        self._bump(copy)
        self._notify(copy, "updated")

    def _book_room(self, ev: dict, room: Account, att: dict, copy: dict | None) -> None:
        busy = self._busy(room, ev["start"], ev["end"], ignore_uid=ev["ical_uid"])
        now = fmt_utc(self.state.now())
        if busy:
            att["status"] = {"response": "declined", "time": now}
            if copy is not None:
                self._tombstone(copy)
            return
        att["status"] = {"response": "accepted", "time": now}
        if copy is None:
            copy = self._make_copy(ev, room, response="accepted")
            copy["show_as"] = "busy"
        else:
            self._refresh_copy(ev, copy)

    def _busy(
        self, account: Account, start: dt.datetime, end: dt.datetime, ignore_uid: str = ""
    ) -> bool:
        for item in self.view(account, start, end):
            if (
                item.get("series_ical_uid", item["ical_uid"]) == ignore_uid
                or item["ical_uid"] == ignore_uid
            ):
                continue
            if item.get("is_cancelled") or item["show_as"] == "free":
                continue
            return True
        return False

    def _mail_external(self, ev: dict, attendees: list[dict], kind: str, body: str = "") -> None:
        prefix = {"invitation": "", "update": "Updated: ", "cancellation": "Canceled: "}.get(
            kind, ""
        )
        for att in attendees:
            address = att["emailAddress"]["address"]
            if self._account(address) is not None:
                continue
            self.state.outbox_add(
                provider="microsoft",
                sender=ev["mailbox"],
                recipient=address,
                kind=kind,
                subject=prefix + ev["subject"],
                event_id=ev["id"],
                body=body or _text_of(ev["body_type"], ev["body"]),
                extra={
                    "ical_uid": ev["ical_uid"],
                    "start": ev["start"].isoformat(),
                    "end": ev["end"].isoformat(),
                    "join_url": ev.get("join_url") or "",
                },
            )

    # -- delta ------------------------------------------------------------------------------------------
    def _epoch(self, mailbox: str) -> int:
        return self.sync_epoch.get(mailbox, 0)

    def expire_sync_state(self, account: Account) -> None:
        with self.state.lock:
            self.sync_epoch[account.email] = self._epoch(account.email) + 1

    def _new_token(self, record: dict) -> str:
        token = secrets.token_urlsafe(48)
        self.sync_states[token] = record
        while len(self.sync_states) > 5000:
            self.sync_states.pop(next(iter(self.sync_states)))
        return token

    def delta_start(
        self, account: Account, calendar_id: str | None, ws: dt.datetime, we: dt.datetime
    ) -> str:
        """A full-sync round: returns the skiptoken of its first page."""
        with self.state.lock:
            cal = self.calendar(account, calendar_id)
            return self._round(account, cal["id"], ws, we, previous={})

    def _round(
        self, account: Account, calendar_id: str, ws: dt.datetime, we: dt.datetime, previous: dict
    ) -> str:
        current = {e["id"]: e["seq"] for e in self.view(account, ws, we, calendar_id)}
        changed = [i for i, s in current.items() if i not in previous or s > previous[i]]
        removed = [i for i in previous if i not in current]
        base = {
            "mailbox": account.email,
            "calendar_id": calendar_id,
            "start": ws.isoformat(),
            "end": we.isoformat(),
            "epoch": self._epoch(account.email),
        }
        delta = self._new_token({**base, "kind": "delta", "ids": current})
        items = [[i, False] for i in changed] + [[i, True] for i in removed]
        return self._new_token(
            {**base, "kind": "page", "items": items, "offset": 0, "delta": delta}
        )

    def delta_resume(self, account: Account, token: str, kind: str) -> dict:
        """Check a $skiptoken / $deltatoken; a $deltatoken starts a new round (returns its page)."""
        with self.state.lock:
            record = self.sync_states.get(token)
            if (
                record is None
                or record["kind"] != kind
                or record["mailbox"] != account.email
                or record["epoch"] != self._epoch(account.email)
            ):
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. Full synchronization is required.",
                )
            if kind == "page":
                return record
            ws = dt.datetime.fromisoformat(record["start"])
            we = dt.datetime.fromisoformat(record["end"])
            page = self._round(account, record["calendar_id"], ws, we, previous=record["ids"])
            return self.sync_states[page]

    def delta_page(
        self, account: Account, page: dict, offset: int, size: int
    ) -> tuple[list[tuple[str, dict | None]], int | None]:
        """Items [offset, offset+size) of a round: (id, record or None for removed); next offset."""
        with self.state.lock:
            items = page["items"][offset : offset + size]
            out: list[tuple[str, dict | None]] = []
            for event_id, removed in items:
                record = None
                if not removed:
                    try:
                        record = self.get_record(account, event_id)
                    except GraphError:
                        record = None
                out.append((event_id, record))
            nxt = offset + size
            return out, (nxt if nxt < len(page["items"]) else None)

    def page_token(self, page: dict, offset: int) -> str:
        with self.state.lock:
            return self._new_token({**page, "offset": offset})

    # -- free/busy ---------------------------------------------------------------------------------------
    def schedule(
        self, address: str, ws: dt.datetime, we: dt.datetime, interval: int, tz: str
    ) -> dict:
        acc = self._account(address)
        if acc is None:
            return {
                "scheduleId": address,
                "availabilityView": "",
                "scheduleItems": [],
                "workingHours": {},
                "error": {
                    "message": "Failed to get free/busy data for the user. The user couldn't be found.",
                    "responseCode": "ErrorMailRecipientNotFound",
                },
            }
        items = []
        for ev in self.view(acc, ws, we):
            if ev.get("is_cancelled") or ev["response"] == "declined":
                continue
            status = ev["show_as"]
            if ev["response"] == "tentativelyAccepted" and status == "busy":
                status = "tentative"
            if status == "free":
                continue
            items.append((ev, status))
        view = []
        slot = ws
        step = dt.timedelta(minutes=interval)
        rank = {"0": 0, "1": 1, "2": 2, "3": 3}
        while slot < we:
            code = "0"
            for ev, status in items:
                if _overlaps(ev["start"], ev["end"], slot, slot + step):
                    c = AVAILABILITY_CODE.get(status, "2")
                    if rank[c] > rank[code]:
                        code = c
            view.append(code)
            slot += step
        return {
            "scheduleId": address,
            "availabilityView": "".join(view),
            "scheduleItems": [
                {
                    "isPrivate": ev.get("sensitivity") in ("private", "confidential"),
                    "status": status,
                    "subject": ev["subject"],
                    "location": (ev.get("location") or {}).get("displayName", ""),
                    "isMeeting": bool(ev.get("attendees")),
                    "isRecurring": ev["type"] in ("occurrence", "exception"),
                    "isException": ev["type"] == "exception",
                    "isReminderSet": bool(ev.get("is_reminder_on", True)),
                    "start": fmt_local(ev["start"], tz),
                    "end": fmt_local(ev["end"], tz),
                }
                for ev, status in items
            ],
            "workingHours": {
                "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                "startTime": "08:00:00.0000000",
                "endTime": "17:00:00.0000000",
                "timeZone": {"name": "UTC" if not acc else "W. Europe Standard Time"},
            },
        }

    def rooms(self) -> list[dict]:
        out = []
        for acc in self.state.account_list("microsoft", rooms=True):
            out.append(
                {
                    "id": acc.id,
                    "emailAddress": acc.email,
                    "displayName": acc.name,
                    "address": {
                        "street": "",
                        "city": "",
                        "state": "",
                        "countryOrRegion": "",
                        "postalCode": "",
                    },
                    "geoCoordinates": None,
                    "phone": "",
                    "nickname": acc.name,
                    "label": "",
                    "capacity": acc.capacity,
                    "building": acc.building or None,
                    "floorLabel": None,
                    "floorNumber": None,
                    "isWheelChairAccessible": False,
                    "bookingType": "standard",
                    "tags": [],
                    "audioDeviceName": None,
                    "videoDeviceName": None,
                    "displayDeviceName": None,
                }
            )
        return out

    # -- subscriptions -------------------------------------------------------------------------------------
    def _notify(self, ev: dict, change: str) -> None:
        now = self.state.now()
        account = self._account(ev["mailbox"])
        if account is None:
            return
        for sub in list(self.subscriptions.values()):
            if sub["mailbox"] != ev["mailbox"] or sub["expiration"] <= now:
                continue
            if change not in [c.strip() for c in sub["change_type"].split(",")]:
                continue
            if sub.get("calendar_id") and sub["calendar_id"] != ev["calendar_id"]:
                continue
            resource = f"Users/{account.id}/Events/{ev['id']}"
            body = {
                "value": [
                    {
                        "subscriptionId": sub["id"],
                        "subscriptionExpirationDateTime": sub["expiration"]
                        .isoformat()
                        .replace("+00:00", "+00:00"),
                        "changeType": change,
                        "resource": resource,
                        "resourceData": {
                            "@odata.type": "#Microsoft.Graph.Event",
                            "@odata.id": resource,
                            "@odata.etag": f'W/"{ev["change_key"]}"',
                            "id": ev["id"],
                        },
                        "clientState": sub.get("client_state"),
                        "tenantId": account.tenant_id,
                    }
                ]
            }
            push.deliver(
                self.state,
                provider="microsoft",
                account=ev["mailbox"],
                url=sub["notification_url"],
                headers={"Content-Type": "application/json; charset=utf-8"},
                body=json.dumps(body).encode(),
                kind="notification",
            )

    def trigger_lifecycle(self, subscription_id: str, event: str) -> dict:
        """Send a lifecycle notification: reauthorizationRequired, subscriptionRemoved or missed."""
        if event not in ("reauthorizationRequired", "subscriptionRemoved", "missed"):
            raise ValueError("event must be reauthorizationRequired, subscriptionRemoved or missed")
        with self.state.lock:
            sub = self.subscriptions.get(subscription_id)
            if sub is None:
                raise KeyError(subscription_id)
            account = self._account(sub["mailbox"])
            body = {
                "value": [
                    {
                        "subscriptionId": sub["id"],
                        "subscriptionExpirationDateTime": sub["expiration"].isoformat(),
                        "tenantId": account.tenant_id if account else "",
                        "clientState": sub.get("client_state"),
                        "lifecycleEvent": event,
                    }
                ]
            }
            if event == "reauthorizationRequired":
                sub["reauthorization_required"] = True
            if event == "subscriptionRemoved":
                del self.subscriptions[subscription_id]
            url = sub.get("lifecycle_url") or ""
            if url:
                push.deliver(
                    self.state,
                    provider="microsoft",
                    account=sub["mailbox"],
                    url=url,
                    headers={"Content-Type": "application/json; charset=utf-8"},
                    body=json.dumps(body).encode(),
                    kind=f"lifecycle:{event}",
                )
            return {"sent": bool(url), "lifecycleEvent": event, "subscriptionId": subscription_id}

    # -- demo pages --------------------------------------------------------------------------------------
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


def _overlaps(start: dt.datetime, end: dt.datetime, ws: dt.datetime, we: dt.datetime) -> bool:
    if start == end:
        return ws <= start < we
    return start < we and end > ws


def _location(name: str, src: dict | None = None) -> dict:
    src = src or {}
    out = {
        "displayName": str(name or ""),
        "locationType": src.get("locationType") or "default",
        "uniqueIdType": src.get("uniqueIdType") or ("private" if name else "unknown"),
    }
    if name:
        out["uniqueId"] = src.get("uniqueId") or name
    if src.get("locationEmailAddress"):
        out["locationEmailAddress"] = src["locationEmailAddress"]
    if src.get("address"):
        out["address"] = src["address"]
    return out


def _clone(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value
