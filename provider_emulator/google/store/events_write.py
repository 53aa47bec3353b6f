"""Writing events: insert, patch/update (as organizer or as attendee), delete, attendee responses."""

from __future__ import annotations

import copy
import re
import secrets

from ...clock import rfc3339, utcnow
from ...state import Account
from .core import COPY_PRIVATE, RESPONSES, ApiError, StoreCore, _merge, not_found

EVENT_ID_RE = re.compile(r"^[a-v0-9]{5,1024}$")
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
    "focusTimeProperties",
    "outOfOfficeProperties",
    "workingLocationProperties",
    "conferenceData",
    "sequence",
    "locked",
    "privateCopy",
}
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


class EventWritesMixin(StoreCore):
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
            self._check_event_type(ev, cal)
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
            self._keep_event_type(current, new, body)
            self._normalize(new, cal)
            if not is_organizer:
                return self._attendee_write(account, cal, current, new)
            self._check_event_type(new, cal)
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
