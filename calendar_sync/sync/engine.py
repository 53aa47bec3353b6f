"""Runs a sync of one connection: lease, pull pages, import each in its own transaction, save
the cursor and the summary with the last page, record errors. No provider module is imported:
the adapter comes from ``calendar_sync.providers.get_adapter``.
"""

from __future__ import annotations

import copy
import datetime as dt
import gc
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import providers
from ..models import CalendarConnection, ConnectionState, SyncRun
from ..providers.base import (
    AuthRevoked,
    CalendarAdapter,
    ChangePage,
    CursorExpired,
    ExternalEvent,
    ProviderError,
)
from . import locking, mapping, rules
from .importer import SyncContext, import_page
from .locking import LEASE
from .polling import SYNC_TASK_OPTIONS
from .reading import read_directory

log = logging.getLogger(__name__)

MAX_FOLLOW_UPS = 3  # pushes that arrive during a sync trigger at most this many re-runs


def sync_window(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    return rules.sync_window(
        now or timezone.now(), settings.SYNC_WINDOW_DAYS, ZoneInfo(settings.TIME_ZONE)
    )


def get_adapter(connection: CalendarConnection) -> CalendarAdapter:
    return providers.get_adapter(connection)


def build_context(
    connection: CalendarConnection, now: dt.datetime | None = None, *, directory: bool = True
) -> SyncContext:
    """The sync's context; ``directory=False``: without the user directory yet (the import
    reads it when it needs it: ``reading.read_directory``)."""
    now = now or timezone.now()
    # What the spec says of one provider only (see ``rules``' module doc): registry flags.
    spec = connection.spec
    ctx = SyncContext(
        connection=connection,
        window=sync_window(now),
        now=now,
        recurring_delete_removes=spec.recurring_delete_removes,
        all_day_recurring_supported=spec.all_day_recurring_supported,
        series_cap=max(int(settings.SYNC_SERIES_CAP), 0),
        private_events=connection.private_events,
    )
    if directory:
        read_directory(ctx)
    return ctx


# --- errors ------------------------------------------------------------------------------------
def mark_needs_reconnect(connection: CalendarConnection, reason: str) -> None:
    try:
        from ..services import connection_mark_needs_reconnect
    except ImportError:  # the connect flow is not there yet: park the row directly
        CalendarConnection.objects.filter(pk=connection.pk).update(
            state=ConnectionState.NEEDS_RECONNECT, last_error=reason, last_error_at=timezone.now()
        )
        return
    connection_mark_needs_reconnect(connection=connection, reason=reason)


def park_reason(connection: CalendarConnection, exc: ProviderError) -> str:
    """What the rep reads on the settings page when a permanent error stopped the sync."""
    if isinstance(exc, AuthRevoked):
        return f"Access was revoked or has expired ({exc})."
    return _(
        "%(app)s refused the sync (%(detail)s). Reconnect the calendar; if it happens again, "
        "ask your administrator."
    ) % {"app": connection.get_provider_display(), "detail": str(exc)[:300]}


def record_error(connection: CalendarConnection, exc: BaseException, *, parks: bool = True) -> str:
    """Keep the error for the status page. A transient one: the next scheduled sync retries (no
    crash loop). A permanent provider error parks the connection (needs reconnect) with its
    reason: retrying would fail the same way every 10 minutes. ``parks=False`` for work whose
    failure leaves the sync itself working (one event's export, a push channel: polling goes
    on); there only a grant that is gone parks the connection."""
    message = f"{exc.__class__.__name__}: {exc}"[:1000]
    permanent = isinstance(exc, ProviderError) and exc.permanent
    if permanent and (parks or isinstance(exc, AuthRevoked)):
        assert isinstance(exc, ProviderError)
        mark_needs_reconnect(connection, park_reason(connection, exc))
    else:
        CalendarConnection.objects.filter(pk=connection.pk).update(
            last_error=message, last_error_at=timezone.now()
        )
    log.warning("sync of connection %s failed: %s", connection.pk, message)
    return message


def guarded(
    connection: CalendarConnection, work: Callable[[], Any], *, parks: bool = True
) -> tuple[Any, str]:
    """Run provider work; provider errors are recorded and returned, never raised (``parks``:
    see ``record_error``)."""
    try:
        return work(), ""
    except ProviderError as exc:
        return None, record_error(connection, exc, parks=parks)


def record_exports(run: SyncRun | None, outcomes: dict[str, int] | None) -> int:
    """Count what a window export wrote into the run and the status summary the rep reads."""
    written = sum((outcomes or {}).get(key, 0) for key in ("created", "updated"))
    if run is None or not written:
        return written
    if run.pk is None:  # a run that read nothing: recorded now that it wrote something
        run.save()
    with transaction.atomic():
        SyncRun.objects.filter(pk=run.pk).update(exported=F("exported") + written)
        connection = CalendarConnection.objects.select_for_update().get(pk=run.connection_id)
        summary = dict(connection.last_sync_summary or {})
        summary["exported"] = summary.get("exported", 0) + written
        connection.last_sync_summary = summary
        connection.save(update_fields=["last_sync_summary"])
    return written


# --- import ---------------------------------------------------------------------------------
def _finish_fields(ctx: SyncContext, run: SyncRun, adapter: CalendarAdapter, cursor: str | None,
                   now: dt.datetime) -> dict[str, Any]:  # fmt: skip
    run.provider_requests = adapter.request_count()
    summary = {
        **ctx.summary(),
        "kind": run.kind,
        "provider_requests": run.provider_requests,
        "provider_seconds": round(adapter.request_seconds(), 3),
    }
    fields: dict[str, Any] = {
        "last_sync_at": now,
        "last_sync_summary": summary,
        "last_error": "",
        "window_start": ctx.window[0],
        "window_end": ctx.window[1],
    }
    if cursor is not None:
        fields["sync_cursor"] = cursor
    return fields


def _finish(ctx: SyncContext, run: SyncRun, adapter: CalendarAdapter, cursor: str | None) -> None:
    """The last page's transaction: cursor, summary and run land with its changes, and the
    lease is given back in the statement that writes them."""
    now = timezone.now()
    fields = _finish_fields(ctx, run, adapter, cursor, now)
    _fill_run(ctx, run, now)
    run.save()
    _release(ctx, fields)


def _release(ctx: SyncContext, fields: dict[str, Any]) -> None:
    assert ctx.lease is not None, "import_changes gives every sync its lease"  # noqa: S101
    ctx.lease.release(**fields)


def _fill_run(ctx: SyncContext, run: SyncRun, finished: dt.datetime | None = None) -> None:
    run.fetched = ctx.stats["fetched"]
    run.created = ctx.stats["created"]
    run.updated = ctx.stats["updated"]
    run.cancelled = ctx.stats["cancelled"]
    run.skipped = dict(ctx.skipped)
    run.finished_at = finished


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a sync builds and writes its pages.

    A page of thousands of events allocates hundreds of thousands of short-lived objects, which
    makes CPython run full collections over the worker's long-lived heap several times per page
    (measured: ~0.13 s of a 2,500-event import). Nearly all of it is freed by reference
    counting anyway; the collector runs again as soon as the sync is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _pull(ctx: SyncContext, adapter: CalendarAdapter, run: SyncRun, cursor: str | None) -> None:
    with gc_paused():
        _pull_pages(ctx, adapter, run, cursor)


def _is_no_op(run: SyncRun, page: ChangePage) -> bool:
    """An incremental run whose only page is empty: nothing to record but the sync's time."""
    return run.pk is None and run.kind == "incremental" and not (page.events or page.removed_ids)


def merge_pages(pages: list[ChangePage]) -> ChangePage:
    """Consecutive provider pages as one: each event in its last version (a later page lists
    a later one), an event a later page removes is gone and one it lists again is back; the
    cursor is the last page's."""
    if len(pages) == 1:
        return pages[0]
    events: dict[str, ExternalEvent] = {}
    removed: dict[str, None] = {}
    for page in pages:
        for ev in page.events:
            removed.pop(ev.id, None)
            events.pop(ev.id, None)
            events[ev.id] = ev
        for event_id in page.removed_ids:
            events.pop(event_id, None)
            removed[event_id] = None
    return ChangePage(events=list(events.values()), next_cursor=pages[-1].next_cursor,
                      removed_ids=list(removed), pages=len(pages))  # fmt: skip


def batches(pages: Iterable[ChangePage], limit: int) -> Iterator[ChangePage]:
    """Several provider pages per import transaction: consecutive pages merged while they hold
    at most ``limit`` events together (at least one page each), so a first import of Graph's
    1,000-event pages pays a page's reads, statements and commit once per batch. Memory stays
    bounded by the larger of ``limit`` and one page. When reading a page fails, the pages
    held are imported before the error surfaces."""
    held: list[ChangePage] = []
    size = 0
    reading = iter(pages)
    while True:
        try:
            page = next(reading)  # each page is fetched outside any transaction
        except StopIteration:
            break
        except Exception:
            if held:
                yield merge_pages(held)
            raise
        count = len(page.events) + len(page.removed_ids)
        if held and size + count > limit:
            yield merge_pages(held)
            held, size = [], 0
        held.append(page)
        size += count
    if held:
        yield merge_pages(held)


def _read_next(pages: Iterator[ChangePage]) -> ChangePage | None:
    try:
        return next(pages, None)
    finally:
        # The adapter may have saved a refreshed token through this thread's own connection.
        connections.close_all()


def prefetched(pages: Iterator[ChangePage]) -> Iterator[ChangePage]:
    """The provider's pages, each next one read (in a thread) while the engine imports what it
    holds: a first import of many pages waits for the provider once, not once a page. The
    first page is read here; an adapter's error surfaces here, in order, when the page it
    failed on is asked for. One page is read ahead at most (held beside the batch being
    imported: a sync of many pages holds up to a batch and two pages)."""
    page = next(pages, None)
    if page is None:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-pages") as reader:
        while page.next_cursor is None:  # more pages to come
            ahead = reader.submit(_read_next, pages)
            yield page
            following = ahead.result()
            if following is None:
                return
            page = following
        yield page


def _pull_pages(
    ctx: SyncContext, adapter: CalendarAdapter, run: SyncRun, cursor: str | None
) -> None:
    """Import every page (``batches`` of them), then give the lease back with the run's
    final fields (a no-op run writes nothing else: no run row, and the connection row only in
    that one statement)."""
    finished = False
    pages = adapter.list_changes(
        cursor=cursor, window_start=ctx.window[0], window_end=ctx.window[1]
    )
    for page in batches(prefetched(pages), max(int(settings.SYNC_IMPORT_BATCH_EVENTS), 1)):
        if page.next_cursor is not None and _is_no_op(run, page):
            ctx.stats["pages"] += page.pages
            _release(ctx, _finish_fields(ctx, run, adapter, page.next_cursor, timezone.now()))
            return
        clean_page(page)
        recognise_own_events(ctx, page)
        committed = _counts(ctx)
        originals = [copy.copy(ev) for ev in page.events]  # the import adjusts what it reads
        try:
            with transaction.atomic():
                import_page(ctx, page)
                if page.next_cursor is not None:
                    _finish(ctx, run, adapter, page.next_cursor)
                    finished = True
            continue
        except DatabaseError as exc:
            _restore(ctx, committed)  # the summary counts only what was committed
            log.warning("connection %s: page refused (%s); importing it event by event",
                        ctx.connection.pk, exc)  # fmt: skip
        except BaseException:
            _restore(ctx, committed)
            raise
        finished = _import_event_by_event(ctx, run, adapter, page, originals) or finished
    if not finished:
        with transaction.atomic():
            _finish(ctx, run, adapter, None)


def _import_event_by_event(
    ctx: SyncContext,
    run: SyncRun,
    adapter: CalendarAdapter,
    page: ChangePage,
    events: list[ExternalEvent],
) -> bool:
    """A page the database refused (something cleaning missed), one event per transaction: one
    bad event is skipped as "could not be read" with the database's reason and the rest of the
    page lands, then its cursor. True when the cursor was saved."""
    pages_before = ctx.stats["pages"]
    for ev in events:
        _import_one(ctx, ChangePage(events=[copy.copy(ev)]))
    if page.removed_ids:
        _import_one(ctx, ChangePage(events=[], removed_ids=page.removed_ids))
    ctx.stats["pages"] = pages_before + page.pages  # the provider's pages, however written
    if page.next_cursor is None:
        return False
    with transaction.atomic():
        _finish(ctx, run, adapter, page.next_cursor)
    return True


def clean_page(page: ChangePage) -> None:
    """Every string of the page as the database can store it (rules.clean_event)."""
    for ev in page.events:
        try:
            rules.clean_event(ev)
        except Exception as exc:  # noqa: BLE001 - malformed beyond cleaning: unreadable
            ev.id = rules.clean_text(getattr(ev, "id", ""), 1024)
            ev.unreadable = rules.clean_text(f"{exc.__class__.__name__}: {exc}", 255)
    page.removed_ids = [rules.clean_text(i, 1024) for i in page.removed_ids]


def recognise_own_events(ctx: SyncContext, page: ChangePage) -> None:
    """An event we created names its appointment in the idempotency key its create carried,
    though our commit after creating it never happened (a worker killed in between): the
    import then takes it for that appointment's, not for a new meeting."""
    for ev in page.events:
        if not ev.crm_id:
            ev.crm_id = mapping.crm_id_from_idempotency_key(ev.idempotency_key, ctx.connection.pk)


def _counts(ctx: SyncContext) -> tuple[Counter[str], Counter[str]]:
    return Counter(ctx.stats), Counter(ctx.skipped)


def _restore(ctx: SyncContext, counts: tuple[Counter[str], Counter[str]]) -> None:
    ctx.stats, ctx.skipped = Counter(counts[0]), Counter(counts[1])


def unreadable_stub(ev: ExternalEvent, reason: str) -> ExternalEvent:
    """Just enough of the event to record why it was skipped: its ids and title, cleaned."""
    return ExternalEvent(
        id=rules.clean_text(ev.id, 1024),
        ical_uid=rules.clean_text(ev.ical_uid, 1024),
        title=rules.clean_text(ev.title, 255),
        start=None,
        end=None,
        unreadable=reason,
    )


def _import_one(ctx: SyncContext, part: ChangePage) -> None:
    before, kept = _counts(ctx), [copy.copy(ev) for ev in part.events]
    try:
        with transaction.atomic():
            import_page(ctx, part)
        return
    except DatabaseError as exc:
        _restore(ctx, before)
        reason = rules.clean_text(f"the database refused it: {exc}", 255)
    for original in kept:  # recorded as unreadable: a known appointment is kept as it is
        ev = unreadable_stub(original, reason)
        try:
            with transaction.atomic():
                import_page(ctx, ChangePage(events=[ev]))
        except DatabaseError:
            _restore(ctx, before)
            ctx.skipped[rules.SkipReason.MALFORMED.value] += 1
            log.warning("connection %s: event %r could not be recorded", ctx.connection.pk, ev.id)


def import_changes(
    connection: CalendarConnection,
    adapter: CalendarAdapter,
    lease: locking.Lease,
    *,
    trigger: str,
    full: bool = False,
) -> SyncRun:
    """Pull and import; CursorExpired drops the cursor and re-reads the window in full.
    Returns the run (unsaved when nothing changed); a run without an error has given the lease
    back with its final fields (``lease.released``: unless a push asked for another sync)."""
    ctx = build_context(connection, directory=False)
    ctx.lease = lease
    cursor = None if full else (connection.sync_cursor or None)
    run = SyncRun(
        connection=connection,
        kind="incremental" if cursor else "full",
        trigger=trigger,
        started_at=ctx.now,
    )
    try:
        try:
            _pull(ctx, adapter, run, cursor)
        except CursorExpired:
            log.info("cursor of connection %s expired: full resync", connection.pk)
            CalendarConnection.objects.filter(pk=connection.pk).update(sync_cursor="")
            run.kind = "full"
            ctx.stats["cursor_expired"] += 1
            _pull(ctx, adapter, run, None)
    except ProviderError as exc:
        _fail_run(ctx, run, adapter, record_error(connection, exc))
    except Exception as exc:  # a bug or a database error: recorded, not a crash every 10 min
        log.exception("sync of connection %s failed unexpectedly", connection.pk)
        _fail_run(ctx, run, adapter, record_error(connection, exc))
    return run


def _fail_run(ctx: SyncContext, run: SyncRun, adapter: CalendarAdapter, error: str) -> None:
    """The run as far as it got (pages already committed stay), with the error."""
    run.error = error
    run.provider_requests = adapter.request_count()
    _fill_run(ctx, run, timezone.now())
    run.save()


def sync_connection(connection_id: int, *, trigger: str = "schedule", full: bool = False):  # noqa: ANN201
    """Import the connection's changes; returns the last SyncRun (unsaved when the run found
    nothing to record), or None when it is busy or not active. Pushes that arrive while it runs
    are folded into one follow-up run under the same lease.

    An unchanged calendar costs the lease (one statement), the app's OAuth client, one provider
    request and the release (one statement, carrying the sync's time and cursor). A run that
    wrote pages gives the lease back in its last page's transaction."""
    connection = locking.acquire(connection_id)
    if connection is None:
        return None  # the running sync sees the request flag and runs again
    started = connection.sync_started_at
    assert started is not None  # noqa: S101 - acquire() has just set it
    lease = locking.Lease(connection_id, started)
    run = None
    try:
        for attempt in range(MAX_FOLLOW_UPS + 1):
            lease.quiet_only, lease.released = attempt < MAX_FOLLOW_UPS, False
            run = import_changes(
                connection, get_adapter(connection), lease, trigger=trigger, full=full
            )
            if run.error or lease.released:
                return run
            follow_up = locking.reclaim(connection_id, started)
            if follow_up is None:
                return run
            connection, trigger, full = follow_up, "push", False
        return run
    finally:
        if run is None or run.error or not lease.released:
            locking.release(connection_id, started)


def request_sync(connection_id: int, *, trigger: str = "push", full: bool = False) -> bool:
    """Coalesce pushes: enqueue one sync unless one is already pending. True if enqueued."""
    from django_q.tasks import async_task

    now = timezone.now()
    # A request older than the lease counts as lost (a worker died): ask again.
    claimed = (
        CalendarConnection.objects.filter(pk=connection_id, state=ConnectionState.ACTIVE)
        .filter(Q(sync_requested_at__isnull=True) | Q(sync_requested_at__lt=now - LEASE))
        .update(sync_requested_at=now)
    )
    if not claimed:
        return False
    args = (connection_id, trigger, True) if full else (connection_id, trigger)
    async_task("calendar_sync.tasks.sync_connection", *args, q_options=dict(SYNC_TASK_OPTIONS))
    return True
