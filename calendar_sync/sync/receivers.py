"""CRM → calendar trigger: every committed appointment change enqueues one export task."""

from __future__ import annotations

from typing import Any


def on_appointment_changed(sender: Any, *, appointment_id: int, action: str, **kwargs: Any) -> None:
    # Already after commit (appointments.signals). A CRM delete leaves the calendar event alone.
    if action == "deleted":
        return
    from django_q.tasks import async_task

    async_task("calendar_sync.tasks.export_appointment", appointment_id)
