"""The shared ground of the Google store: errors, small helpers, the state every resource keeps.

Events are kept in Google's wire shape, one copy per calendar as on the real service; keys that start
with "_" are private (``_seq``: global change counter used by sync tokens, ``_org_cal``: the
organizer's calendar id, ``_conf_pending``: the insert response shows a pending conference).
Every public method of a resource mixin runs under ``state.lock``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import time
from typing import Any

from ...clock import rfc3339, utcnow
from ...state import Account, EmulatorState
from .. import recurrence as rec

DEFAULT_TZ = "Europe/Stockholm"
RESPONSES = ("needsAction", "declined", "tentative", "accepted")
# Per-copy fields: an attendee may change these on their own copy; they never propagate.
COPY_PRIVATE = {"reminders", "colorId", "transparency"}


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


class StoreCore:
    """State and the helpers every resource uses: sequence/etag, saving an event copy, rendering."""

    provider = "google"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.flows: dict[str, dict] = {}  # pending OAuth authorizations (not persisted)
        self.reset()

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
