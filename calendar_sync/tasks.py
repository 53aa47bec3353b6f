"""django-q2 entry points: thin, they take ids and call the sync engine.

Schedules (registered by migrations ``0003_sync_schedules`` / ``0008_poll_every_minute``):
``poll_tick`` every minute (the polling backstop behind push, spread over the interval: see
``sync.polling``), ``renew_channels`` hourly, ``export_window_entries`` daily (every connection's
window refresh, in batches through the same bounded queue).

Sync and export tasks are enqueued with q2's result saving off (``polling.SYNC_TASK_OPTIONS``):
their outcome is on the connection (last sync, last error, runs), and q2 still saves a task that
raised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial

from .models import CalendarConnection
from .sync import engine, exporter, polling, push

log = logging.getLogger(__name__)

BATCH_BUDGET_SECONDS = 60  # far inside Q_CLUSTER["timeout"]


def _active(connection_id: int) -> CalendarConnection | None:
    connection = CalendarConnection.objects.select_related("user").filter(pk=connection_id).first()
    return connection if connection is not None and connection.is_active else None


def connection_activated(connection_id: int) -> dict:
    """First import, push of the window's existing appointments (without attendees), push on."""
    run = engine.sync_connection(connection_id, trigger="activation", full=True)
    connection = _active(connection_id)
    if connection is None:
        return {"import": getattr(run, "pk", None), "state": "not active"}
    exported, error = engine.guarded(connection, lambda: exporter.export_window(connection))
    engine.record_exports(run, exported)
    _, push_error = engine.guarded(connection, lambda: push.start_push(connection), parks=False)
    return {"import": getattr(run, "pk", None), "exported": exported, "errors": [error, push_error]}


def connection_disconnected(connection_id: int) -> None:
    """Stop the channel (the connection is already disconnected; its tokens are still there)."""
    connection = CalendarConnection.objects.filter(pk=connection_id).first()
    if connection is not None:
        engine.guarded(connection, lambda: push.stop_push(connection), parks=False)


def sync_connection(
    connection_id: int, trigger: str = "schedule", full: bool = False
) -> int | None:
    run = engine.sync_connection(connection_id, trigger=trigger, full=full)
    # The backstop for CRM changes too: an export that failed is pushed again here.
    exporter.export_pending_after(run, connection_id)
    return run.pk if run is not None else None


def poll_tick() -> int:
    """Every minute: enqueue the connections whose poll is due, in batches."""
    return polling.poll_tick()


def sync_batch(connection_ids: list[int]) -> int:
    """A batch of polls; what the time budget leaves over is queued again."""
    return polling.run_batch(connection_ids, sync_connection, budget_seconds=BATCH_BUDGET_SECONDS)


def renew_channels() -> int:
    renewed = 0
    for connection in push.due_for_renewal():
        _, error = engine.guarded(connection, partial(push.renew_push, connection), parks=False)
        renewed += not error
    return renewed


def renew_channel(connection_id: int, recreate: bool = False) -> None:
    connection = _active(connection_id)
    if connection is not None:
        work: Callable[[CalendarConnection], object] = (
            push.start_push if recreate else push.renew_push
        )
        engine.guarded(connection, partial(work, connection), parks=False)


def export_window_entries() -> int:
    """Daily: the window moved. Push appointments that entered it, and re-read the window
    (incremental feeds do not return unchanged events that have just come into range): every
    connection, in batches through the bounded queue (``polling.start_window_refresh``)."""
    return polling.start_window_refresh()


def refresh_window_batch(connection_ids: list[int]) -> int:
    """A batch of window refreshes; what the time budget leaves over is queued again."""
    return polling.run_batch(
        connection_ids,
        refresh_window,
        budget_seconds=BATCH_BUDGET_SECONDS,
        task="calendar_sync.tasks.refresh_window_batch",
    )


def refresh_window(connection_id: int) -> None:
    run = engine.sync_connection(connection_id, trigger="daily", full=True)
    connection = _active(connection_id)
    if connection is not None:
        exported, _ = engine.guarded(connection, lambda: exporter.export_window(connection))
        engine.record_exports(run, exported)


def export_appointment(appointment_id: int, changed_fields: list[str] | None = None) -> str:
    return exporter.export_appointment(appointment_id, changed_fields)


def refresh_rooms() -> dict:
    """Hourly (schedule from migration ``0004_room_cache``) and on demand: the room lists."""
    from .rooms import rooms_refresh_all

    return rooms_refresh_all()
