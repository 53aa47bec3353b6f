"""The client-settable properties of an event: checked and copied onto a record."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import secrets
import uuid

from .. import recurrence as rec_mod
from ..timeutil import BadTimeZone, parse_dtz, zone
from .core import NO_TIME, GraphError, StoreCore, _location, _truthy

SHOW_AS = {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"}
ATTENDEE_TYPES = {"required", "optional", "resource"}
PROVIDERS = {"teamsForBusiness", "skypeForBusiness", "skypeForConsumer", "unknown"}

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


class EventFieldsMixin(StoreCore):
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
