"""Several mailboxes: attendee copies of an event, room bookings, mail to external attendees."""

from __future__ import annotations

import datetime as dt

from ...state import Account
from ..timeutil import fmt_utc
from .core import StoreCore, _change_key, _clone, _new_id, _text_of


class AttendeesMixin(StoreCore):
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
