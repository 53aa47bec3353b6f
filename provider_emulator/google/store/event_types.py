"""Status events: eventType focusTime, outOfOffice and workingLocation, with their properties.

As on the real service: the type is set at creation and never changes; status events live on the
primary calendar only, have no attendees and carry their own properties object (which no other
type may carry); focus time and out of office are timed (not all-day) and block time (opaque by
default, so they are busy in freeBusy); working location is transparent (never busy) and public.
"""

from __future__ import annotations

from .core import ApiError, StoreCore

EVENT_TYPES = ("default", "focusTime", "outOfOffice", "workingLocation")
NOT_CREATABLE = ("birthday", "fromGmail")
PROPERTIES = {
    "focusTime": "focusTimeProperties",
    "outOfOffice": "outOfOfficeProperties",
    "workingLocation": "workingLocationProperties",
}
LABELS = {
    "focusTime": "Focus time",
    "outOfOffice": "Out of office",
    "workingLocation": "Working location",
}
AUTO_DECLINE_MODES = {
    "declineNone",
    "declineAllConflictingInvitations",
    "declineOnlyNewConflictingInvitations",
}
CHAT_STATUSES = {"available", "doNotDisturb"}
WORKING_LOCATION_TYPES = {"homeOffice", "officeLocation", "customLocation"}


def _invalid(message: str) -> ApiError:
    return ApiError(400, "invalid", message)


class EventTypesMixin(StoreCore):
    def _keep_event_type(self, current: dict, new: dict, body: dict) -> None:
        """A write never changes the type: asking for another one is a 400."""
        kind = current.get("eventType", "default")
        if body.get("eventType") not in (None, kind):
            raise _invalid("The event type cannot be changed.")
        new["eventType"] = kind

    def _check_event_type(self, ev: dict, cal: dict) -> None:
        kind = ev.get("eventType") or "default"
        if kind in NOT_CREATABLE:
            raise _invalid(f"Events of type {kind} cannot be created or changed through the API.")
        if kind not in EVENT_TYPES:
            raise ApiError(400, "invalid", "Invalid value for: eventType", location="eventType")
        ev["eventType"] = kind
        for other, field in PROPERTIES.items():
            if other != kind and ev.get(field) is not None:
                raise _invalid(f"{field} requires an event type of {other}.")
        if kind == "default":
            return
        label = LABELS[kind]
        if not cal["primary"]:
            raise _invalid(f"{label} events can only be created on the primary calendar.")
        if ev.get("attendees"):
            raise _invalid(f"{label} events cannot have attendees.")
        props = ev.get(PROPERTIES[kind])
        if not isinstance(props, dict):
            raise ApiError(400, "required", f"Missing {PROPERTIES[kind]}.")
        if kind == "workingLocation":
            self._check_working_location(ev, props)
            return
        if "date" in ev["start"]:
            raise _invalid(f"{label} events cannot be all-day events.")
        if props.get("autoDeclineMode") not in (None, *AUTO_DECLINE_MODES):
            raise _invalid(f"Invalid value for: {PROPERTIES[kind]}.autoDeclineMode")
        if kind == "focusTime" and props.get("chatStatus") not in (None, *CHAT_STATUSES):
            raise _invalid("Invalid value for: focusTimeProperties.chatStatus")

    @staticmethod
    def _check_working_location(ev: dict, props: dict) -> None:
        if props.get("type") not in WORKING_LOCATION_TYPES:
            raise _invalid("Invalid value for: workingLocationProperties.type")
        if ev.setdefault("transparency", "transparent") != "transparent":
            raise _invalid("Working location events must be transparent.")
        ev.setdefault("visibility", "public")
