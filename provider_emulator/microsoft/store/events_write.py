"""Writing events: create (transactionId), update (series, occurrence, attendee view), delete, respond."""

from __future__ import annotations

from typing import Any

from ...state import Account
from ..timeutil import fmt_utc
from .core import GraphError, StoreCore, _change_key, _ical_uid, _location, _new_id

RESPONSE_FOR_ACTION = {
    "accept": "accepted",
    "tentativelyAccept": "tentativelyAccepted",
    "decline": "declined",
}


class EventWritesMixin(StoreCore):
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
