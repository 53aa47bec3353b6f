"""GoogleStore: calendars, events (one copy per calendar, as on the real service), channels, sync.

Every public method runs under ``state.lock``. Events are kept in Google's wire shape; keys that
start with "_" are private (``_seq``: global change counter used by sync tokens, ``_org_cal``:
the organizer's calendar id, ``_conf_pending``: the insert response shows a pending conference).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import email.utils
import hashlib
import json
import re
import secrets
import time
from typing import Any
from urllib.parse import quote

from ..clock import rfc3339, utcnow
from ..push import NotLoopback, check_loopback, deliver
from ..state import Account, EmulatorState
from . import recurrence as rec

DEFAULT_TZ = "Europe/Stockholm"
EVENT_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
CHANNEL_ID_RE = re.compile(r"^[A-Za-z0-9\-_+/=]{1,64}$")
RESPONSES = ("needsAction", "declined", "tentative", "accepted")
MAX_RESULTS = 2500
DEFAULT_RESULTS = 250
FREEBUSY_MAX_ITEMS = 50
FREEBUSY_MAX_RANGE = dt.timedelta(days=90)
DEFAULT_TTL = 7 * 24 * 3600
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
# Fields a client may write on an event; everything else in a body is read-only and ignored.
WRITABLE = {
    "summary",
    "description",
    "location",
    "start",
    "end",
    "endTimeUnspecified",
    "recurrence",
    "attendees",
    "extendedProperties",
    "transparency",
    "visibility",
    "colorId",
    "reminders",
    "guestsCanModify",
    "guestsCanInviteOthers",
    "guestsCanSeeOtherGuests",
    "anyoneCanAddSelf",
    "source",
    "attachments",
    "status",
    "eventType",
    "conferenceData",
    "sequence",
    "locked",
    "privateCopy",
}
# Per-copy fields: an attendee may change these on their own copy; they never propagate.
COPY_PRIVATE = {"reminders", "colorId", "transparency"}
# Fields only the organizer may change.
SHARED = {
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "visibility",
    "guestsCanModify",
    "guestsCanInviteOthers",
    "guestsCanSeeOtherGuests",
    "anyoneCanAddSelf",
    "conferenceData",
    "status",
}
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


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str = "parameter",
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.domain = code, reason, message, domain
        self.extra = {"location": location, "locationType": location_type} if location else {}


def not_found() -> ApiError:
    return ApiError(404, "notFound", "Not Found")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _unb64(token: str) -> dict:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=="))
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "invalid", "Invalid page token value.", location="pageToken") from exc
    if not isinstance(data, dict):
        raise ApiError(400, "invalid", "Invalid page token value.", location="pageToken")
    return data


def _bool(value: str | None) -> bool:
    return (value or "").lower() == "true"


def _time_param(params: Any, name: str) -> dt.datetime | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        return rec.parse_rfc3339(raw)
    except rec.TimeError as exc:
        raise ApiError(400, "badRequest", "Bad Request") from exc


def _merge(target: dict, patch: dict) -> dict:
    """Patch semantics: objects merge recursively, arrays and scalars replace, null clears."""
    out = copy.deepcopy(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class GoogleStore:
    provider = "google"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.flows: dict[str, dict] = {}  # pending OAuth authorizations (not persisted)
        self.reset()

    # -- store contract ---------------------------------------------------------------------------
    def reset(self) -> None:
        with self.state.lock:
            self.calendars: dict[str, dict] = {}
            self.events: dict[str, dict[str, dict]] = {}
            self.channels: dict[str, dict] = {}
            self.sync_tokens: dict[str, dict] = {}
            self.conferences: dict[str, dict] = {}
            self.seq = 0
            self.flows = {}
            self._changed: set[str] = set()

    def to_dict(self) -> dict:
        with self.state.lock:
            return {
                "calendars": self.calendars,
                "events": self.events,
                "channels": self.channels,
                "sync_tokens": self.sync_tokens,
                "conferences": self.conferences,
                "seq": self.seq,
            }

    def load(self, data: dict) -> None:
        with self.state.lock:
            self.reset()
            self.calendars = dict(data.get("calendars", {}))
            self.events = {k: dict(v) for k, v in data.get("events", {}).items()}
            self.channels = dict(data.get("channels", {}))
            self.sync_tokens = dict(data.get("sync_tokens", {}))
            self.conferences = dict(data.get("conferences", {}))
            self.seq = int(data.get("seq", 0))

    def on_account_created(self, account: Account) -> None:
        with self.state.lock:
            self._ensure_calendars(account)

    def expire_sync_state(self, account: Account) -> None:
        with self.state.lock:
            owned = {c["id"] for c in self.calendars.values() if c["owner"] == account.email}
            for token, info in list(self.sync_tokens.items()):
                if info["account"] == account.email or info["cal"] in owned:
                    del self.sync_tokens[token]

    # -- calendars ------------------------------------------------------------------------------
    def _ensure_calendars(self, account: Account) -> None:
        if account.email in self.calendars:
            return
        self.calendars[account.email] = {
            "id": account.email,
            "owner": account.email,
            "summary": account.name if account.is_room else account.email,
            "timeZone": DEFAULT_TZ,
            "primary": True,
            "colorId": "14",
            "etag": self._etag(),
        }
        self.events.setdefault(account.email, {})
        if account.is_room:
            return
        digest = hashlib.sha256(account.email.encode()).hexdigest()[:26]
        cal_id = f"{digest}@group.calendar.google.com"
        self.calendars[cal_id] = {
            "id": cal_id,
            "owner": account.email,
            "summary": "Personal",
            "timeZone": DEFAULT_TZ,
            "primary": False,
            "colorId": "9",
            "etag": self._etag(),
        }
        self.events.setdefault(cal_id, {})

    def calendars_of(self, account: Account) -> list[dict]:
        with self.state.lock:
            self._ensure_calendars(account)
            return [c for c in self.calendars.values() if c["owner"] == account.email]

    def resolve_calendar(self, account: Account, calendar_id: str) -> dict:
        with self.state.lock:
            self._ensure_calendars(account)
            cid = account.email if calendar_id == "primary" else calendar_id.lower()
            if cid in account.addresses():
                cid = account.email
            cal = self.calendars.get(cid)
            if cal is None or cal["owner"] != account.email:
                raise not_found()
            return cal

    def calendar_list_entry(self, cal: dict) -> dict:
        colors = {"14": ("#9fe1e7", "#000000"), "9": ("#7bd148", "#000000")}
        bg, fg = colors.get(cal.get("colorId", "14"), ("#9fe1e7", "#000000"))
        entry = {
            "kind": "calendar#calendarListEntry",
            "etag": cal["etag"],
            "id": cal["id"],
            "summary": cal["summary"],
            "timeZone": cal["timeZone"],
            "colorId": cal.get("colorId", "14"),
            "backgroundColor": bg,
            "foregroundColor": fg,
            "selected": True,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}] if cal["primary"] else [],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }
        if cal["primary"]:
            entry["primary"] = True
            entry["notificationSettings"] = {
                "notifications": [
                    {"type": t, "method": "email"}
                    for t in ("eventCreation", "eventChange", "eventCancellation", "eventResponse")
                ]
            }
        return entry

    def calendar_resource(self, cal: dict) -> dict:
        return {
            "kind": "calendar#calendar",
            "etag": cal["etag"],
            "id": cal["id"],
            "summary": cal["summary"],
            "timeZone": cal["timeZone"],
            "conferenceProperties": {"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        }

    # -- helpers ----------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def _etag(self) -> str:
        return f'"{int(time.time() * 1000) * 1000 + self.seq % 1000}"'

    def _save(self, cal_id: str, ev: dict) -> None:
        ev["_seq"] = self._next_seq()
        ev["updated"] = rfc3339(utcnow())
        ev["etag"] = self._etag()
        self.events.setdefault(cal_id, {})[ev["id"]] = ev
        self._changed.add(cal_id)

    def _account(self, address: str) -> Account | None:
        return self.state.account_find("google", address)

    def _owner(self, cal: dict) -> Account | None:
        return self._account(cal["owner"])

    def _tz(self, cal_id: str) -> str:
        return self.calendars.get(cal_id, {}).get("timeZone", DEFAULT_TZ)

    def _html_link(self, event_id: str, cal_id: str) -> str:
        eid = base64.urlsafe_b64encode(f"{event_id} {cal_id}".encode()).decode().rstrip("=")
        return f"https://www.google.com/calendar/event?eid={eid}"

    def render(self, ev: dict, cal: dict) -> dict:
        owner = self._owner(cal)
        addresses = owner.addresses() if owner else {cal["owner"]}
        out = {k: copy.deepcopy(v) for k, v in ev.items() if not k.startswith("_")}
        org = out.get("organizer")
        if org:
            org.pop("self", None)
            if org.get("email", "").lower() == cal["id"]:
                org["self"] = True
        creator = out.get("creator")
        if creator:
            creator.pop("self", None)
            if creator.get("email", "").lower() in addresses:
                creator["self"] = True
        for att in out.get("attendees", []):
            att.pop("self", None)
            if (
                att.get("email", "").lower() in addresses
                or att.get("email", "").lower() == cal["id"]
            ):
                att["self"] = True
        if ev.get("_conf_pending") and "conferenceData" in out:
            conf = out["conferenceData"]
            for key in ("entryPoints", "conferenceSolution", "conferenceId"):
                conf.pop(key, None)
            conf.setdefault("createRequest", {})["status"] = {"statusCode": "pending"}
            out.pop("hangoutLink", None)
        return out

    def _copies(self, event_id: str) -> list[tuple[str, dict]]:
        return [(cid, evs[event_id]) for cid, evs in self.events.items() if event_id in evs]

    # -- event validation ------------------------------------------------------------------------
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

    # -- conference -------------------------------------------------------------------------------
    def _apply_conference(self, ev: dict, requested: dict | None, conf_version: int) -> None:
        """Handle conferenceData on a write with conferenceDataVersion=1 (else it is left as is)."""
        if conf_version < 1 or not isinstance(requested, dict):
            return
        create = requested.get("createRequest")
        if not create:
            if requested == {} or requested.get("entryPoints") is None:
                return
            ev["conferenceData"] = requested
            return
        request_id = str(create.get("requestId") or "")
        kind = ((create.get("conferenceSolutionKey") or {}).get("type")) or "hangoutsMeet"
        if not request_id:
            raise ApiError(400, "invalid", "Invalid conference create request.")
        if kind != "hangoutsMeet":
            raise ApiError(400, "invalid", "Invalid conference type value.")
        existing = ev.get("conferenceData", {}).get("createRequest", {}).get("requestId")
        if existing == request_id:
            return  # the same request id: an idempotency key, never a second conference
        conf = self.conferences.get(request_id)
        if conf is None:
            alphabet = "abcdefghijklmnopqrstuvwxyz"
            code = "-".join("".join(secrets.choice(alphabet) for _ in range(n)) for n in (3, 4, 3))
            conf = {"conferenceId": code, "link": f"https://meet.google.com/{code}"}
            self.conferences[request_id] = conf
        ev["conferenceData"] = {
            "createRequest": {
                "requestId": request_id,
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
                "status": {"statusCode": "success"},
            },
            "entryPoints": [
                {
                    "entryPointType": "video",
                    "uri": conf["link"],
                    "label": conf["link"].removeprefix("https://"),
                }
            ],
            "conferenceSolution": {
                "key": {"type": "hangoutsMeet"},
                "name": "Google Meet",
                "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
            },
            "conferenceId": conf["conferenceId"],
        }
        ev["hangoutLink"] = conf["link"]
        ev["_conf_pending"] = True

    # -- instances -------------------------------------------------------------------------------
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

    # -- events: read ------------------------------------------------------------------------------
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
            since = None
            if sync_token:
                info = self.sync_tokens.get(sync_token)
                if info is None or info["cal"] != cal["id"]:
                    raise ApiError(
                        410,
                        "fullSyncRequired",
                        "Sync token is no longer valid, a full sync is required.",
                    )
                since = int(info["seq"])
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
                token = "C" + secrets.token_urlsafe(18) + "="
                self.sync_tokens[token] = {
                    "cal": cal["id"],
                    "seq": snapshot,
                    "account": account.email,
                }
                body["nextSyncToken"] = token
            body["items"] = [self.render(ev, cal) for ev in chunk]
            return body

    def _matches(self, ev: dict, params: Any, updated_min: dt.datetime | None) -> bool:
        if params.get("iCalUID") and ev.get("iCalUID") != params["iCalUID"]:
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

    # -- events: write ----------------------------------------------------------------------------
    def insert_event(
        self,
        account: Account,
        cal: dict,
        body: dict,
        *,
        send_updates: str = "none",
        conf_version: int = 0,
    ) -> dict:
        with self.state.lock:
            event_id = body.get("id")
            if event_id is not None:
                event_id = str(event_id)
                if not EVENT_ID_RE.match(event_id):
                    raise ApiError(400, "invalid", "Invalid resource id value.")
            else:
                event_id = "".join(
                    secrets.choice("abcdefghijklmnopqrstuv0123456789") for _ in range(26)
                )
            if event_id in self.events.get(cal["id"], {}):
                raise ApiError(409, "duplicate", "The requested identifier already exists.")
            now = rfc3339(utcnow())
            ev = {k: copy.deepcopy(v) for k, v in body.items() if k in WRITABLE}
            ev.pop("conferenceData", None)
            owner_name = account.name if cal["primary"] else cal["summary"]
            ev.update(
                {
                    "kind": "calendar#event",
                    "id": event_id,
                    "htmlLink": self._html_link(event_id, cal["id"]),
                    "created": now,
                    "creator": {"email": account.email, "displayName": account.name},
                    "organizer": {"email": cal["id"], "displayName": owner_name},
                    "iCalUID": str(body.get("iCalUID") or f"{event_id}@google.com"),
                    "sequence": int(body.get("sequence") or 0),
                    "eventType": body.get("eventType") or "default",
                    "reminders": body.get("reminders") or {"useDefault": True},
                    "_org_cal": cal["id"],
                }
            )
            self._normalize(ev, cal)
            self._apply_conference(ev, body.get("conferenceData"), conf_version)
            self._auto_rooms(ev, cal, set())
            self._save(cal["id"], ev)
            self._propagate(cal["id"], event_id, set())
            self._mail(ev, account, send_updates, new=set(self._emails(ev)), old=set())
            rendered = self.render(ev, cal)
            ev.pop("_conf_pending", None)
            return rendered

    def modify_event(
        self,
        account: Account,
        cal: dict,
        event_id: str,
        body: dict,
        *,
        replace: bool,
        send_updates: str = "none",
        conf_version: int = 0,
        if_match: str | None = None,
    ) -> dict:
        with self.state.lock:
            current = self._stored_or_virtual(cal["id"], event_id)
            if current is None:
                raise not_found()
            if if_match and if_match.strip() != "*" and if_match.strip() != current.get("etag"):
                raise ApiError(
                    412,
                    "conditionNotMet",
                    "Precondition Failed",
                    location="If-Match",
                    location_type="header",
                )
            writable = {k: v for k, v in body.items() if k in WRITABLE}
            requested_conf = writable.pop("conferenceData", None)
            if replace:
                kept = {
                    k: v
                    for k, v in current.items()
                    if k not in WRITABLE or k in ("conferenceData", "sequence")
                }
                if "conferenceData" in body and conf_version >= 1 and not requested_conf:
                    kept.pop("conferenceData", None)
                    kept.pop("hangoutLink", None)
                new = {**copy.deepcopy(kept), **copy.deepcopy(writable)}
                new.setdefault("reminders", {"useDefault": True})
            else:
                new = _merge(current, writable)
                if (
                    "conferenceData" in body
                    and body["conferenceData"] is None
                    and conf_version >= 1
                ):
                    new.pop("conferenceData", None)
                    new.pop("hangoutLink", None)
            new.pop("_conf_pending", None)
            is_organizer = current.get("_org_cal", cal["id"]) == cal["id"]
            self._normalize(new, cal)
            if not is_organizer:
                return self._attendee_write(account, cal, current, new)
            self._apply_conference(new, requested_conf, conf_version)
            times = ("start", "end", "recurrence")
            if any(current.get(k) != new.get(k) for k in times):
                new["sequence"] = (
                    max(int(current.get("sequence", 0)), int(new.get("sequence") or 0)) + 1
                )
            else:
                new["sequence"] = max(
                    int(current.get("sequence", 0)), int(new.get("sequence") or 0)
                )
            old_emails = set(self._emails(current))
            self._auto_rooms(
                new,
                cal,
                old_emails if not any(current.get(k) != new.get(k) for k in times) else set(),
            )
            self._save(cal["id"], new)
            self._propagate(cal["id"], new["id"], old_emails)
            new_emails = set(self._emails(new))
            if new.get("status") == "cancelled" and current.get("status") != "cancelled":
                self._mail(new, account, send_updates, new=set(), old=old_emails, cancel=True)
            else:
                self._mail(
                    new,
                    account,
                    send_updates,
                    new=new_emails - old_emails,
                    old=old_emails & new_emails,
                )
                if old_emails - new_emails:
                    self._mail(
                        new,
                        account,
                        send_updates,
                        new=set(),
                        old=old_emails - new_emails,
                        cancel=True,
                    )
            rendered = self.render(new, cal)
            new.pop("_conf_pending", None)
            return rendered

    def _attendee_write(self, account: Account, cal: dict, current: dict, new: dict) -> dict:
        """An attendee changed their copy: only their response and per-copy fields may change."""
        for key in SHARED - {"status", "conferenceData"}:
            if current.get(key) != new.get(key):
                raise ApiError(
                    403,
                    "forbiddenForNonOrganizer",
                    "Shared properties can only be changed by the organizer of the event.",
                )
        addresses = account.addresses()

        def others(ev: dict) -> list:
            return sorted(
                (a["email"].lower(), a.get("optional", False))
                for a in ev.get("attendees", [])
                if a["email"].lower() not in addresses
            )

        if others(current) != others(new):
            raise ApiError(
                403,
                "forbiddenForNonOrganizer",
                "Shared properties can only be changed by the organizer of the event.",
            )
        mine = next((a for a in new.get("attendees", []) if a["email"].lower() in addresses), None)
        before = next(
            (a for a in current.get("attendees", []) if a["email"].lower() in addresses), None
        )
        stored = copy.deepcopy(current)
        for key in COPY_PRIVATE:
            if key in new:
                stored[key] = new[key]
            else:
                stored.pop(key, None)
        private = (new.get("extendedProperties") or {}).get("private")
        ext = {k: v for k, v in (current.get("extendedProperties") or {}).items() if k != "private"}
        if private:
            ext["private"] = private
        if ext:
            stored["extendedProperties"] = ext
        else:
            stored.pop("extendedProperties", None)
        self._save(cal["id"], stored)
        if (
            mine
            and before
            and (
                mine.get("responseStatus") != before.get("responseStatus")
                or mine.get("comment") != before.get("comment")
            )
        ):
            self._set_response(stored["id"], account, mine["responseStatus"], mine.get("comment"))
        return self.render(self.events[cal["id"]][stored["id"]], cal)

    def _set_response(
        self, event_id: str, account: Account, response: str, comment: str | None = None
    ) -> None:
        if response not in RESPONSES:
            raise ApiError(400, "invalid", "Invalid attendee response status.")
        addresses = account.addresses()
        org_cal = None
        for _cid, ev in self._copies(event_id):
            org_cal = ev.get("_org_cal", org_cal)
        targets = [cid for cid, _ in self._copies(event_id)]
        if org_cal and org_cal not in targets:
            targets.append(org_cal)
        for cid in targets:
            ev = self._stored_or_virtual(cid, event_id)
            if ev is None:
                continue
            ev = copy.deepcopy(ev)
            changed = False
            for att in ev.get("attendees", []):
                if att["email"].lower() in addresses:
                    att["responseStatus"] = response
                    if comment is not None:
                        att["comment"] = comment
                    changed = True
            if changed:
                self._save(cid, ev)

    def delete_event(
        self,
        account: Account,
        cal: dict,
        event_id: str,
        *,
        send_updates: str = "none",
        if_match: str | None = None,
    ) -> None:
        with self.state.lock:
            current = self._stored_or_virtual(cal["id"], event_id)
            if current is None:
                raise not_found()
            if current.get("status") == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            if if_match and if_match.strip() not in ("*", current.get("etag")):
                raise ApiError(
                    412,
                    "conditionNotMet",
                    "Precondition Failed",
                    location="If-Match",
                    location_type="header",
                )
            ev = copy.deepcopy(current)
            ev["status"] = "cancelled"
            ev.pop("_conf_pending", None)
            if current.get("_org_cal", cal["id"]) != cal["id"]:
                # An attendee removes the event from their calendar: they decline it.
                self._save(cal["id"], ev)
                self._set_response(event_id, account, "declined")
                return
            self._save(cal["id"], ev)
            old = set(self._emails(current))
            self._propagate(cal["id"], event_id, old)
            self._mail(ev, account, send_updates, new=set(), old=old, cancel=True)

    # -- copies, rooms, mail -----------------------------------------------------------------------
    @staticmethod
    def _emails(ev: dict) -> list[str]:
        return [a["email"].lower() for a in ev.get("attendees", []) if not a.get("organizer")]

    def _propagate(self, org_cal: str, event_id: str, old_emails: set[str]) -> None:
        """Push the organizer's copy to every attendee who is an emulated Google account."""
        ev = self.events[org_cal][event_id]
        org_owner = self.calendars[org_cal]["owner"]
        targets: dict[str, Account] = {}
        for email_addr in self._emails(ev):
            acc = self._account(email_addr)
            if acc is not None and acc.email != org_owner:
                self._ensure_calendars(acc)
                targets[acc.email] = acc
        for acc_email in targets:
            existing = self.events.get(acc_email, {}).get(event_id)
            if existing is not None and existing.get("iCalUID") != ev.get("iCalUID"):
                continue  # someone else's event that happens to share the id
            attendee_copy = {
                k: copy.deepcopy(v)
                for k, v in ev.items()
                if k not in COPY_PRIVATE and k not in ("extendedProperties", "_conf_pending")
            }
            attendee_copy["htmlLink"] = self._html_link(event_id, acc_email)
            shared = (ev.get("extendedProperties") or {}).get("shared")
            private = ((existing or {}).get("extendedProperties") or {}).get("private")
            ext = {k: v for k, v in (("shared", shared), ("private", private)) if v}
            if ext:
                attendee_copy["extendedProperties"] = ext
            for key in COPY_PRIVATE:
                if existing is not None and key in existing:
                    attendee_copy[key] = existing[key]
            attendee_copy.setdefault("reminders", {"useDefault": True})
            attendee_copy["_org_cal"] = org_cal
            self._save(acc_email, attendee_copy)
        for email_addr in old_emails:
            acc = self._account(email_addr)
            if acc is None or acc.email in targets or acc.email == org_owner:
                continue
            existing = self.events.get(acc.email, {}).get(event_id)
            if existing is not None and existing.get("status") != "cancelled":
                gone = copy.deepcopy(existing)
                gone["status"] = "cancelled"
                self._save(acc.email, gone)

    def _auto_rooms(self, ev: dict, cal: dict, keep: set[str]) -> None:
        """Room attendees accept when free and decline when busy (rooms in ``keep`` keep theirs)."""
        if ev.get("status") == "cancelled":
            return
        for att in ev.get("attendees", []):
            if not att.get("resource") or att["email"].lower() in keep:
                continue
            room = self._account(att["email"])
            if room is None:
                continue
            self._ensure_calendars(room)
            att["responseStatus"] = (
                "declined" if self._room_busy(room.email, ev, cal) else "accepted"
            )

    def _room_busy(self, room_cal: str, ev: dict, cal: dict) -> bool:
        tz = cal["timeZone"]
        if ev.get("recurrence"):
            windows = rec.occurrences(ev, tz, None, None, limit=100)
        else:
            start, end, _ = rec.event_bounds(ev, tz)
            windows = [(start, end)]
        for start, end in windows:
            for block_start, block_end in self._busy(room_cal, start, end, exclude=ev["id"]):
                if block_start < end and block_end > start:
                    return True
        return False

    def _mail(
        self,
        ev: dict,
        organizer: Account,
        send_updates: str,
        *,
        new: set[str],
        old: set[str],
        cancel: bool = False,
    ) -> None:
        """Outbox e-mails for attendees who are not emulated Google accounts."""
        if send_updates not in ("all", "externalOnly"):
            return
        summary = ev.get("summary", "(No title)")
        start = ev.get("start", {})
        when = start.get("dateTime") or start.get("date", "")
        common = {
            "ical_uid": ev.get("iCalUID"),
            "sequence": ev.get("sequence", 0),
            "summary": summary,
            "start": ev.get("start"),
            "end": ev.get("end"),
            "location": ev.get("location", ""),
            "description": ev.get("description", ""),
            "organizer": ev.get("organizer", {}).get("email"),
            "attendees": [
                {"email": a["email"], "responseStatus": a.get("responseStatus")}
                for a in ev.get("attendees", [])
            ],
            "hangout_link": ev.get("hangoutLink", ""),
            "recurrence": ev.get("recurrence", []),
        }
        batches = (
            [(old, "cancellation", "CANCEL", f"Canceled event: {summary} @ {when}")]
            if cancel
            else [
                (new, "invitation", "REQUEST", f"Invitation: {summary} @ {when}"),
                (old, "update", "REQUEST", f"Updated invitation: {summary} @ {when}"),
            ]
        )
        for recipients, kind, method, subject in batches:
            for addr in sorted(recipients):
                if self._account(addr) is not None:
                    continue
                self.state.outbox_add(
                    provider="google",
                    sender=organizer.email,
                    recipient=addr,
                    kind=kind,
                    subject=subject,
                    event_id=ev["id"],
                    body=ev.get("description", ""),
                    extra={**common, "method": method, "send_updates": send_updates},
                )

    # -- free/busy ------------------------------------------------------------------------------------
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

    # -- push channels ------------------------------------------------------------------------------
    def watch(self, account: Account, cal: dict, calendar_id: str, body: dict) -> dict:
        with self.state.lock:
            channel_id = str(body.get("id") or "")
            if not CHANNEL_ID_RE.match(channel_id):
                raise ApiError(
                    400,
                    "channelIdInvalid",
                    "Channel id must match [A-Za-z0-9\\-_\\+/=]+ and be at most 64 characters.",
                    domain="push",
                )
            if channel_id in self.channels:
                raise ApiError(400, "channelIdNotUnique", "Channel id not unique", domain="push")
            if body.get("type") not in ("web_hook", "webhook"):
                raise ApiError(400, "invalid", "Invalid value for: type", domain="push")
            address = str(body.get("address") or "")
            try:
                check_loopback(address)
            except NotLoopback as exc:
                raise ApiError(
                    400,
                    "push.webhookUrlUnauthorized",
                    f"Unauthorized WebHook callback channel: {address}",
                    domain="push",
                ) from exc
            ttl = DEFAULT_TTL
            params = body.get("params") or {}
            if params.get("ttl") is not None:
                try:
                    ttl = int(params["ttl"])
                except ValueError as exc:
                    raise ApiError(400, "invalid", "Invalid value for: ttl", domain="push") from exc
            expiration = int((time.time() + ttl) * 1000)
            resource_id = secrets.token_urlsafe(20)[:27]
            channel = {
                "id": channel_id,
                "resourceId": resource_id,
                "resourceUri": f"{self.state.base_url}/google/calendar/v3/calendars/{quote(calendar_id, safe='@')}/events?alt=json",
                "token": body.get("token"),
                "expiration": expiration,
                "address": address,
                "calendar": cal["id"],
                "account": account.email,
                "number": 0,
            }
            self.channels[channel_id] = channel
            self._notify(channel, "sync")
            out = {
                "kind": "api#channel",
                "id": channel_id,
                "resourceId": resource_id,
                "resourceUri": channel["resourceUri"],
                "expiration": str(expiration),
            }
            if channel["token"]:
                out["token"] = channel["token"]
            return out

    def stop_channel(self, account: Account, body: dict) -> None:
        with self.state.lock:
            channel = self.channels.get(str(body.get("id") or ""))
            if (
                channel is None
                or channel["resourceId"] != body.get("resourceId")
                or channel["account"] != account.email
            ):
                raise ApiError(
                    404, "notFound", f"Channel '{body.get('id')}' not found for project '0'"
                )
            del self.channels[channel["id"]]

    def _notify(self, channel: dict, state_name: str) -> None:
        channel["number"] += 1
        expires = dt.datetime.fromtimestamp(channel["expiration"] / 1000, dt.UTC)
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Expiration": email.utils.format_datetime(expires, usegmt=True),
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Resource-State": state_name,
            "X-Goog-Message-Number": str(channel["number"]),
            "Content-Length": "0",
        }
        if channel.get("token"):
            headers["X-Goog-Channel-Token"] = channel["token"]
        deliver(
            self.state,
            provider="google",
            account=channel["account"],
            url=channel["address"],
            headers=headers,
            kind=state_name,
        )

    def flush(self) -> None:
        """Send `exists` to every live channel on a calendar changed since the last flush."""
        with self.state.lock:
            changed, self._changed = self._changed, set()
            if not changed:
                return
            now_ms = time.time() * 1000
            for channel in list(self.channels.values()):
                if channel["expiration"] <= now_ms:
                    del self.channels[channel["id"]]
                    continue
                if channel["calendar"] in changed:
                    self._notify(channel, "exists")

    # -- directory -----------------------------------------------------------------------------------
    def room_resources(self) -> list[dict]:
        out = []
        for room in sorted(self.state.account_list("google", rooms=True), key=lambda a: a.email):
            generated = (
                f"{room.building}-{room.name} ({room.capacity})"
                if room.building
                else f"{room.name} ({room.capacity})"
            )
            out.append(
                {
                    "kind": "admin#directory#resources#calendars#CalendarResource",
                    "etags": f'"{hashlib.sha1(room.email.encode(), usedforsecurity=False).hexdigest()}"',
                    "resourceId": room.id[:11],
                    "resourceName": room.name,
                    "generatedResourceName": generated,
                    "resourceType": "Conference room",
                    "resourceEmail": room.email,
                    "capacity": room.capacity,
                    "buildingId": room.building,
                    "resourceCategory": "CONFERENCE_ROOM",
                }
            )
        return out

    # -- demo pages -----------------------------------------------------------------------------------
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


def _fb_time(value: dt.datetime, tz: Any) -> str:
    local = value.astimezone(tz)
    if local.utcoffset() == dt.timedelta(0):
        return local.strftime("%Y-%m-%dT%H:%M:%SZ")
    return local.isoformat(timespec="seconds")
