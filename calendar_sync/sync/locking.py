"""One sync per connection at a time: a lease on the connection row.

The lease is taken with one conditional UPDATE (``... WHERE sync_started_at IS NULL OR
sync_started_at < now - lease``), which is atomic on every database. On PostgreSQL the row is
first locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent workers do not queue up
behind each other. A crashed worker's lease simply expires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection as db
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..models import CalendarConnection

LEASE = dt.timedelta(minutes=10)


def _free(now: dt.datetime) -> Q:
    return Q(sync_started_at__isnull=True) | Q(sync_started_at__lt=now - LEASE)


def acquire_lease(connection_id: int, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The lease's start time when taken, or None when another sync holds it."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = CalendarConnection.objects.filter(pk=connection_id).filter(_free(now))
        if db.features.has_select_for_update_skip_locked:
            if not rows.select_for_update(skip_locked=True).values_list("pk", flat=True):
                return None
        taken = rows.update(sync_started_at=now)
    return now if taken else None


def release_lease(connection_id: int, started_at: dt.datetime) -> None:
    CalendarConnection.objects.filter(pk=connection_id, sync_started_at=started_at).update(
        sync_started_at=None
    )


@contextmanager
def lease(connection_id: int) -> Iterator[dt.datetime | None]:
    started = acquire_lease(connection_id)
    try:
        yield started
    finally:
        if started is not None:
            release_lease(connection_id, started)
