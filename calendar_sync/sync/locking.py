"""One sync per connection at a time: a lease on the connection row.

The lease is taken with ONE statement that also claims pending push requests and returns the
row: ``UPDATE ... SET sync_started_at = now, sync_requested_at = NULL WHERE <free and active>
RETURNING *`` (atomic on every database). On PostgreSQL the row is picked through ``SELECT ...
FOR UPDATE SKIP LOCKED`` so concurrent workers do not queue up behind each other. A crashed
worker's lease simply expires. Releasing writes the run's final state in the same statement,
inside the last page's transaction when the run wrote one (``Lease``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection as db
from django.utils import timezone

from ..models import CalendarConnection, ConnectionState

LEASE = dt.timedelta(minutes=10)


def _acquire_sql() -> str:
    table = db.ops.quote_name(CalendarConnection._meta.db_table)
    columns = ", ".join(
        db.ops.quote_name(str(f.column)) for f in CalendarConnection._meta.concrete_fields
    )
    skip_locked = " FOR UPDATE SKIP LOCKED" if db.features.has_select_for_update_skip_locked else ""
    return (
        f"UPDATE {table} SET sync_started_at = %s, sync_requested_at = NULL "  # noqa: S608
        f"WHERE id = (SELECT id FROM {table} WHERE id = %s AND state = %s "
        f"AND appointment_type_id IS NOT NULL "
        f"AND (sync_started_at IS NULL OR sync_started_at < %s){skip_locked}) "
        f"RETURNING {columns}"
    )


def acquire(connection_id: int, *, now: dt.datetime | None = None) -> CalendarConnection | None:
    """The active connection with its lease taken (``sync_started_at``) and push requests
    claimed, in one query; None when another sync holds the lease or it is not active."""
    now = now or timezone.now()
    when = db.ops.adapt_datetimefield_value
    params = [when(now), connection_id, ConnectionState.ACTIVE, when(now - LEASE)]
    rows = list(CalendarConnection.objects.raw(_acquire_sql(), params))
    return rows[0] if rows else None


def release(connection_id: int, started_at: dt.datetime, *, quiet_only: bool = False,
            **fields: Any) -> bool:  # fmt: skip
    """Give the lease back, writing ``fields`` in the same statement. With ``quiet_only`` the
    lease is kept when a push asked for another sync meanwhile (``fields`` are still written):
    returns False then, and the caller runs again."""
    rows = CalendarConnection.objects.filter(pk=connection_id, sync_started_at=started_at)
    if not quiet_only:
        rows.update(sync_started_at=None, **fields)
        return True
    if rows.filter(sync_requested_at__isnull=True).update(sync_started_at=None, **fields):
        return True
    if fields:
        rows.update(**fields)
    return False


def reclaim(connection_id: int, started_at: dt.datetime) -> CalendarConnection | None:
    """For a follow-up run under the same lease: claim the requests, reload the row."""
    rows = CalendarConnection.objects.filter(
        pk=connection_id, sync_started_at=started_at, state=ConnectionState.ACTIVE
    )
    if not rows.update(sync_requested_at=None):
        return None
    return rows.select_related("user").first()


@dataclass
class Lease:
    """The lease a sync holds (``acquire``): the run gives it back with its final fields, in
    the same statement (``release``) and, when the run wrote pages, in the last page's
    transaction. ``quiet_only``: kept when a push asked for another sync meanwhile (the
    fields are still written); ``released``: what the last ``release`` did, which holds once
    its transaction has committed (``engine.sync_connection`` trusts it only for a run without
    an error, and releases the lease itself otherwise)."""

    connection_id: int
    started_at: dt.datetime
    quiet_only: bool = True
    released: bool = False

    def release(self, **fields: Any) -> bool:
        self.released = release(
            self.connection_id, self.started_at, quiet_only=self.quiet_only, **fields
        )
        return self.released
