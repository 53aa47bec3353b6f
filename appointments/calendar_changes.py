"""What the calendar says about appointments, as data for ``services.
appointment_apply_calendar_changes`` (the one path every calendar-side change takes).

The calendar sync plans a whole page of events into one ``CalendarChanges``; the service writes
it in a constant number of queries. ``AttendeeRow`` is a new ``Attendee`` without a model
instance per row (``upsales_crm.bulk.insert_rows`` reads it by the model's attribute names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appointments.models import Appointment


@dataclass(slots=True)
class AttendeeRow:
    """A new ``appointments.Attendee``."""

    kind: str
    email: str
    name: str
    response: str
    user_id: int | None = None
    contact_id: int | None = None
    appointment_id: int | None = None


@dataclass
class NewAppointment:
    appointment: Appointment  # not saved yet
    attendees: list[AttendeeRow] = field(default_factory=list)


@dataclass
class AppointmentUpdate:
    appointment: Appointment  # as read; the service sets ``values`` on it
    values: dict[str, Any]  # attribute name (``company_id`` for a key) -> new value
    # False: the provider only filled in what the CRM asked for (the meeting link of an
    # exported appointment), not a change the export has to push: ``updated_at`` stays.
    touch: bool = True


@dataclass
class CalendarChanges:
    create: list[NewAppointment] = field(default_factory=list)
    update: list[AppointmentUpdate] = field(default_factory=list)
    cancel: set[int] = field(default_factory=set)  # appointment ids: cancelled in the calendar
    delete: set[int] = field(default_factory=set)  # appointment ids: deleted with their event
    attendees_add: list[AttendeeRow] = field(default_factory=list)  # to existing appointments
    attendees_remove: set[int] = field(default_factory=set)  # attendee ids
    responses: dict[int, str] = field(default_factory=dict)  # attendee id -> new response

    def __bool__(self) -> bool:
        return any(
            (
                self.create,
                self.update,
                self.cancel,
                self.delete,
                self.attendees_add,
                self.attendees_remove,
                self.responses,
            )
        )
