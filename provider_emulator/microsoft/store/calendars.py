"""/me/calendars: a mailbox's calendars (Calendar, Birthdays, ones the user adds)."""

from __future__ import annotations

from ...state import Account
from .core import GraphError, StoreCore, _change_key, _new_id


class CalendarsMixin(StoreCore):
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
