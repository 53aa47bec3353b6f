"""CRM → calendar trigger: every committed appointment change enqueues one export task."""

from __future__ import annotations

from typing import Any

from .polling import SYNC_TASK_OPTIONS


def on_appointment_changed(
    sender: Any,
    *,
    appointment_id: int,
    action: str,
    changed_fields: list[str] | None = None,
    origin: str = "crm",
    **kwargs: Any,
) -> None:
    # Already after commit (appointments.signals). A CRM delete leaves the calendar event alone;
    # a change that came from the calendar is never pushed back to it.
    if action == "deleted" or origin == "calendar":
        return
    from django_q.tasks import async_task

    if action == "updated":
        # What changed lets the export skip the provider when nothing on the event did.
        async_task(
            "calendar_sync.tasks.export_appointment",
            appointment_id,
            changed_fields,
            q_options=dict(SYNC_TASK_OPTIONS),
        )
    else:
        async_task(
            "calendar_sync.tasks.export_appointment",
            appointment_id,
            q_options=dict(SYNC_TASK_OPTIONS),
        )
