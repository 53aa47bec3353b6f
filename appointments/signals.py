"""`appointment_changed` is sent after commit by every appointment service that changes data.

kwargs: appointment_id, action ("created" | "updated" | "deleted"), changed_fields (list[str]),
actor_id (int | None), origin ("crm" | "calendar"). The calendar sync listens and does not
push back a change whose origin is "calendar"; the services know nothing about calendars.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.dispatch import Signal

from appointments.models import Appointment

appointment_changed = Signal()


def send_appointment_changed(
    *,
    appointment_id: int,
    action: str,
    changed_fields: list[str],
    actor_id: int | None,
    origin: str = "crm",
) -> None:
    def _send() -> None:
        appointment_changed.send(
            sender=Appointment,
            appointment_id=appointment_id,
            action=action,
            changed_fields=list(changed_fields),
            actor_id=actor_id,
            origin=origin,
        )

    transaction.on_commit(_send)


_calendar_origin: ContextVar[bool] = ContextVar("appointments_calendar_origin", default=False)


@contextmanager
def calendar_origin() -> Iterator[None]:
    """Appointments deleted in here go because the calendar said so (``pre_delete`` receivers
    can tell a CRM deletion from one the calendar made: ``is_calendar_origin``)."""
    token = _calendar_origin.set(True)
    try:
        yield
    finally:
        _calendar_origin.reset(token)


def is_calendar_origin() -> bool:
    return _calendar_origin.get()
