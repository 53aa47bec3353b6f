"""An appointment deleted in the CRM stays deleted: its event links keep a tombstone.

The links' foreign key is SET NULL, so without a mark the next full sync sees "an event we do
not know" and imports it again. Hooked on ``pre_delete`` of Appointment, not on
``appointment_changed(action="deleted")``: that signal is sent after commit, when the delete has
already set the links' appointment to NULL and nothing says which links were its. ``pre_delete``
also covers every way of deleting (service, admin, shell), and the appointments app still
imports nothing of calendar_sync. Deletions the calendar made (a series deleted in the
calendar, through ``appointment_apply_calendar_changes``) are not CRM deletions: that service
runs them inside ``appointments.signals.calendar_origin()``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from appointments.signals import is_calendar_origin

from .rules import SkipReason


def tombstone_links(sender: Any, instance: Any, **kwargs: Any) -> None:
    if is_calendar_origin():
        return
    from ..models import EventLink

    EventLink.objects.filter(appointment_id=instance.pk).update(
        skip_reason=SkipReason.DELETED_IN_CRM.value,
        skip_detail="",
        synced_hash="",
        updated_at=timezone.now(),
    )
