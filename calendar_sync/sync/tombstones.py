"""An appointment deleted in the CRM stays deleted: its event links keep a tombstone.

The links' foreign key is SET NULL, so without a mark the next full sync sees "an event we do
not know" and imports it again. Hooked on ``pre_delete`` of Appointment, not on
``appointment_changed(action="deleted")``: that signal is sent after commit, when the delete has
already set the links' appointment to NULL and nothing says which links were its. ``pre_delete``
also covers every way of deleting (service, admin, shell), and the appointments app still
imports nothing of calendar_sync. The importer's own deletions (a series deleted in the
calendar) are not CRM deletions and run inside ``calendar_deletes()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.utils import timezone

from .rules import SkipReason

_from_calendar: ContextVar[bool] = ContextVar("calendar_sync_deleting", default=False)


@contextmanager
def calendar_deletes() -> Iterator[None]:
    """Appointments deleted in here were deleted because the calendar said so."""
    token = _from_calendar.set(True)
    try:
        yield
    finally:
        _from_calendar.reset(token)


def tombstone_links(sender: Any, instance: Any, **kwargs: Any) -> None:
    if _from_calendar.get():
        return
    from ..models import EventLink

    EventLink.objects.filter(appointment_id=instance.pk).update(
        skip_reason=SkipReason.DELETED_IN_CRM.value,
        skip_detail="",
        synced_hash="",
        updated_at=timezone.now(),
    )
