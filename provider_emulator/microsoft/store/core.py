"""The shared ground of the Graph store: errors, ids, small helpers, the state every resource keeps.

Every mailbox is an emulated Microsoft account. An event lives as one record per mailbox that holds
a copy (the organizer's plus one per emulated attendee), linked by ``ical_uid``. Recurring series are
stored once (the seriesMaster); occurrences are computed, with per-occurrence overrides
(exceptions) and cancellations kept on the master. All mutation happens under ``state.lock``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import re
import secrets
from typing import Any

from ...state import Account, EmulatorState
from ..timeutil import UTC

NO_TIME = "0001-01-01T00:00:00Z"
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


class StoreCore:
    """State, persistence and the lookups every resource uses (a mailbox's live events, copies)."""

    provider = "microsoft"

    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.reset()

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

    def _account(self, email: str) -> Account | None:
        return self.state.account_find("microsoft", email)

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
