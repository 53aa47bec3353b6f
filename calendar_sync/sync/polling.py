"""The polling backstop behind push, spread over the interval.

A tick runs every minute (schedule from migration ``0008_poll_every_minute``). Each connection is
due in one minute of every ``SYNC_POLL_MINUTES``, or of its provider's ``poll_minutes`` where the
registry asks for more often (a provider without push, such as CalDAV: every few minutes) — its
offset is its id modulo the interval, so the polls of many reps spread evenly instead of arriving
together — or of every ``SYNC_POLL_PUSHED_MINUTES`` while it has a live push channel (push
already brings its changes).
A tick covers the minutes since the previous one (a late scheduler skips nobody), enqueues the
due connections in batches of ``SYNC_POLL_BATCH`` per task, and never lets the broker queue grow
past ``SYNC_QUEUE_LIMIT`` tasks: a poll that does not fit is logged and comes round at its next
slot. ``SYNC_POLL_MINUTES = 0`` turns polling off (push only).

The daily window refresh (``start_window_refresh``, from the ``export_window_entries``
schedule) goes through the same queue: batches of ``SYNC_POLL_BATCH`` connections, only as many
as the queue has room for; the rest is taken up by the following ticks, from where it stopped
(by connection id), until every connection has had its refresh.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.db.models.functions import Mod
from django.utils import timezone

from ..models import CalendarConnection, ConnectionState
from ..providers.registry import PROVIDERS, get_provider

log = logging.getLogger(__name__)

LAST_TICK_KEY = "calendar_sync:poll:last-minute"
REFRESH_FROM_KEY = "calendar_sync:window-refresh:from"  # the next connection id to refresh
REFRESH_KEEP_SECONDS = 2 * 24 * 3600
SYNC_TASK_OPTIONS = {"save": False}  # results of sync/export tasks are not kept (see tasks)


def intervals() -> tuple[int, int]:
    """(minutes between polls, minutes between polls of a connection with live push)."""
    every = max(int(settings.SYNC_POLL_MINUTES), 0)
    return every, max(int(settings.SYNC_POLL_PUSHED_MINUTES), every)


def provider_interval(provider_id: str, every: int | None = None) -> int:
    """Minutes between polls of a connection of this provider without live push: the
    registry's ``poll_minutes``, at most ``SYNC_POLL_MINUTES`` (0: polling is off)."""
    every = intervals()[0] if every is None else every
    if not every:
        return 0
    return max(min(every, int(get_provider(provider_id).poll_minutes)), 1)


def minute_of(now: dt.datetime) -> int:
    return int(now.timestamp() // 60)


def minutes_to_cover(now_minute: int, last_minute: int | None, span: int) -> list[int]:
    """The minutes since the last tick (at most ``span``, the longest interval), or none when
    this minute was already covered."""
    if last_minute is None or last_minute > now_minute:
        return [now_minute]
    return list(range(max(last_minute + 1, now_minute - span + 1), now_minute + 1))


def _syncable() -> QuerySet[CalendarConnection]:
    return CalendarConnection.objects.filter(
        state=ConnectionState.ACTIVE, appointment_type__isnull=False
    )


def due_connection_ids(minutes: Iterable[int], now: dt.datetime) -> list[int]:
    every, pushed_every = intervals()
    minutes = list(minutes)
    if not every or not minutes:
        return []
    live_push = Q(channel_expires_at__gt=now)
    due = live_push & Q(pushed_slot__in={m % pushed_every for m in minutes})
    by_interval: dict[int, list[str]] = {}
    for provider_id in PROVIDERS:
        by_interval.setdefault(provider_interval(provider_id, every), []).append(provider_id)
    slots = {}
    for interval, providers in sorted(by_interval.items()):
        slots[f"slot_{interval}"] = Mod("id", interval)
        due |= (
            ~live_push
            & Q(provider__in=providers)
            & Q(**{f"slot_{interval}__in": {m % interval for m in minutes}})
        )
    return list(
        _syncable()
        .annotate(pushed_slot=Mod("id", pushed_every), **slots)
        .filter(due)
        .order_by("id")
        .values_list("id", flat=True)
    )


def next_poll_at(connection: CalendarConnection, now: dt.datetime) -> dt.datetime | None:
    """The start of the next minute in which ``poll_tick`` enqueues this connection."""
    every, pushed_every = intervals()
    if not every:
        return None
    live = connection.channel_expires_at is not None and connection.channel_expires_at > now
    period = pushed_every if live else provider_interval(connection.provider, every)
    this_minute = minute_of(now)
    wait = (connection.pk - this_minute - 1) % period + 1  # 1..period minutes ahead
    return dt.datetime.fromtimestamp((this_minute + wait) * 60, tz=dt.UTC)


def queue_room() -> int:
    """How many more tasks the broker queue takes before it reaches ``SYNC_QUEUE_LIMIT``."""
    from django_q.brokers import get_broker

    return max(int(settings.SYNC_QUEUE_LIMIT) - int(get_broker().queue_size() or 0), 0)


def batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), max(size, 1))]


def poll_tick(now: dt.datetime | None = None) -> int:
    """Enqueue the polls due since the last tick; returns the connections enqueued."""
    from django_q.tasks import async_task

    now = now or timezone.now()
    every, pushed_every = intervals()
    if not every:
        return 0
    this_minute = minute_of(now)
    minutes = minutes_to_cover(this_minute, cache.get(LAST_TICK_KEY), pushed_every)
    cache.set(LAST_TICK_KEY, this_minute, pushed_every * 60 * 2)
    groups = batches(due_connection_ids(minutes, now), settings.SYNC_POLL_BATCH)
    room = queue_room()
    for group in groups[:room]:
        async_task("calendar_sync.tasks.sync_batch", group, q_options=dict(SYNC_TASK_OPTIONS))
    if len(groups) > room:
        left = sum(len(group) for group in groups[room:])
        log.warning(
            "poll: broker queue full (SYNC_QUEUE_LIMIT=%s): %s connections wait for their next "
            "slot; add workers", settings.SYNC_QUEUE_LIMIT, left,
        )  # fmt: skip
    refresh_tick(room - len(groups[:room]))
    return sum(len(group) for group in groups[:room])


def start_window_refresh() -> int:
    """Daily: every connection's window is re-read (and what entered it pushed), in batches
    through the bounded queue from the lowest connection id; returns the connections enqueued
    now (the poll ticks enqueue the rest as the queue drains)."""
    cache.set(REFRESH_FROM_KEY, 0, REFRESH_KEEP_SECONDS)
    return refresh_tick(queue_room())


def refresh_tick(room: int) -> int:
    """Enqueue the next batches of a window refresh in progress, at most ``room`` tasks."""
    from django_q.tasks import async_task

    start = cache.get(REFRESH_FROM_KEY)
    if start is None or room <= 0:
        return 0
    size = max(int(settings.SYNC_POLL_BATCH), 1)
    ids = list(
        _syncable()
        .filter(pk__gte=start)
        .order_by("pk")
        .values_list("pk", flat=True)[: room * size + 1]
    )
    groups = batches(ids[: room * size], size)
    for group in groups:
        async_task(
            "calendar_sync.tasks.refresh_window_batch", group, q_options=dict(SYNC_TASK_OPTIONS)
        )
    if len(ids) > room * size:
        cache.set(REFRESH_FROM_KEY, ids[room * size], REFRESH_KEEP_SECONDS)
        log.info("window refresh: queue full, continuing from connection %s", ids[room * size])
    else:
        cache.delete(REFRESH_FROM_KEY)
    return sum(len(group) for group in groups)


def run_batch(connection_ids: list[int], sync_one: Callable[[int], object], *,
              budget_seconds: float, task: str = "calendar_sync.tasks.sync_batch") -> int:  # fmt: skip
    """Sync each connection in turn; one connection's failure does not stop the others, and
    what is left when the time budget is spent goes back to the queue as a new batch of
    ``task`` (a task stays far inside q2's timeout)."""
    from django_q.tasks import async_task

    deadline = time.monotonic() + budget_seconds
    for done, connection_id in enumerate(connection_ids):
        if done and time.monotonic() > deadline:  # at least one per task: always progress
            rest = connection_ids[done:]
            async_task(task, rest, q_options=dict(SYNC_TASK_OPTIONS))
            return done
        try:
            sync_one(connection_id)
        except Exception:  # recorded on the connection where it could be; never the batch
            log.exception("poll of connection %s failed", connection_id)
    return len(connection_ids)
