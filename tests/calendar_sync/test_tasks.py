"""Tasks, schedules, the lease, the command, and the engine's page import in isolation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from appointments.models import Appointment
from calendar_sync import tasks
from calendar_sync.models import CalendarConnection, EventLink
from calendar_sync.providers.base import (
    ChangePage,
    ExternalAttendee,
    ExternalEvent,
    ProviderError,
)
from calendar_sync.sync import engine, locking, push
from provider_emulator.faults import Fault
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import PUSH_PROVIDERS

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def rep_conn(sync_user, sync_type):
    user = sync_user("karl.andersson@exempel.se")
    return CalendarConnection.objects.create(
        user=user, provider="google", account_email=user.email, appointment_type=sync_type
    )


class FakeAdapter:
    """Just enough adapter for the engine: fixed pages, counted requests."""

    provider = "google"

    def __init__(self, pages: list[ChangePage]) -> None:
        self.pages, self.requests = pages, 0

    def list_changes(self, *, cursor, window_start, window_end) -> Iterator[ChangePage]:
        for page in self.pages:
            self.requests += 1
            yield page

    def request_count(self) -> int:
        return self.requests

    def request_seconds(self) -> float:
        return 0.0


def event(n: int, **kw) -> ExternalEvent:
    return ExternalEvent(
        id=f"ev{n}",
        ical_uid=f"uid{n}@x",
        title=f"Möte {n}",
        start=at(2),
        end=at(2, 11),
        organizer_email="karl.andersson@exempel.se",
        organizer_is_self=True,
        attendees=[
            ExternalAttendee("karl.andersson@exempel.se", is_self=True, response="accepted"),
            ExternalAttendee(f"kund{n}@extern.se"),
            ExternalAttendee(f"kund{n}@extern.se".replace("kund", "chef")),
        ],
        **kw,
    )


def run_fake(monkeypatch, conn, pages):
    adapter = FakeAdapter(pages)
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    return engine.sync_connection(conn.pk, trigger="test")


# --- schedules & tasks -------------------------------------------------------------------------
def test_schedules_are_registered_by_migration():
    from django_q.models import Schedule

    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {
        "calendar_sync.tasks.poll_tick",
        "calendar_sync.tasks.renew_channels",
        "calendar_sync.tasks.export_window_entries",
    } <= funcs
    assert Schedule.objects.get(func="calendar_sync.tasks.poll_tick").minutes == 1


@pytest.fixture
def many_conns(sync_user, sync_type):
    """25 active connections, the last 5 with a live push channel."""
    conns = []
    for i in range(25):
        user = sync_user(f"rep{i}@exempel.se")
        live = timezone.now() + dt.timedelta(days=3) if i >= 20 else None
        conns.append(
            CalendarConnection.objects.create(
                user=user,
                provider="google",
                account_email=user.email,
                appointment_type=sync_type,
                channel_expires_at=live,
            )
        )
    return conns


def test_polls_are_spread_over_the_interval_and_pushed_connections_polled_less(many_conns):
    from calendar_sync.sync import polling

    now = timezone.now()
    polled, pushed = {c.pk for c in many_conns[:20]}, {c.pk for c in many_conns[20:]}
    per_minute = [polling.due_connection_ids([m], now) for m in range(60)]
    seen = [pk for minute in per_minute for pk in minute]
    for pk in polled:  # every 10 minutes: six times an hour, each in its own minute
        assert seen.count(pk) == 6
    for pk in pushed:  # live push: once an hour
        assert seen.count(pk) == 1
    first_ten = [len(set(minute) & polled) for minute in per_minute[:10]]
    assert max(first_ten) <= 3 and sum(first_ten) == 20  # spread, not all in one minute


def test_next_poll_shown_to_the_rep_is_the_minute_the_tick_enqueues_it(many_conns):
    from calendar_sync.selectors import next_poll_at
    from calendar_sync.sync import polling

    now = timezone.now()
    for conn in (many_conns[0], many_conns[7], many_conns[22]):
        due = next_poll_at(conn, now)
        assert now < due <= now + dt.timedelta(minutes=60 if conn.channel_expires_at else 10)
        assert conn.pk in polling.due_connection_ids([polling.minute_of(due)], now)
        assert conn.pk not in polling.due_connection_ids([polling.minute_of(due) - 1], now)


def test_poll_tick_enqueues_batches_and_catches_up_missed_minutes(many_conns, settings,
                                                                   monkeypatch):  # fmt: skip
    from django.core.cache import cache

    from calendar_sync.sync import polling

    settings.SYNC_POLL_BATCH = 4
    settings.SYNC_POLL_MINUTES, settings.SYNC_POLL_PUSHED_MINUTES = 10, 60
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append((a, k)))
    # A minute whose last ten minutes hold no slot of the pushed connections (polled hourly),
    # so the count does not depend on the wall clock.
    pushed_slots = {c.pk % 60 for c in many_conns[20:]}
    start = polling.minute_of(timezone.now())
    minute = next(m for m in range(start, start + 60)
                  if not {(m - k) % 60 for k in range(10)} & pushed_slots)  # fmt: skip
    now = dt.datetime.fromtimestamp(minute * 60 + 30, tz=dt.UTC)
    cache.set(polling.LAST_TICK_KEY, minute - 10)  # the scheduler was away
    assert polling.poll_tick(now) == 20  # a whole interval: every polled connection once
    assert {a[0] for a, _ in calls} == {"calendar_sync.tasks.sync_batch"}
    assert all(len(a[1]) <= 4 for a, _ in calls) and len(calls) == 5
    assert all(k["q_options"] == {"save": False} for _, k in calls)  # no result row per poll
    assert polling.poll_tick(now) == 0  # this minute is done


def test_poll_tick_keeps_the_broker_queue_bounded(many_conns, settings, monkeypatch, caplog):
    from django.core.cache import cache

    from calendar_sync.sync import polling

    settings.SYNC_POLL_BATCH, settings.SYNC_QUEUE_LIMIT = 5, 2
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    now = timezone.now()
    cache.set(polling.LAST_TICK_KEY, polling.minute_of(now) - 10)
    assert polling.poll_tick(now) == 10
    assert len(calls) == 2
    assert "broker queue full" in caplog.text


@pytest.fixture
def no_refresh_left():
    """The cache outlives a test: no window refresh in progress is left to the next one."""
    from django.core.cache import cache

    from calendar_sync.sync import polling

    yield
    cache.delete(polling.REFRESH_FROM_KEY)


def test_daily_window_refresh_is_batched_bounded_and_finished_by_the_poll_ticks(
    many_conns, settings, monkeypatch, no_refresh_left
):
    from django.core.cache import cache

    from calendar_sync.sync import polling

    settings.SYNC_POLL_BATCH, settings.SYNC_QUEUE_LIMIT = 4, 3
    settings.SYNC_POLL_MINUTES = 0  # no polls: the queue is the refresh's alone
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(polling, "queue_room", lambda: settings.SYNC_QUEUE_LIMIT)
    assert tasks.export_window_entries() == 12  # 3 tasks of 4: the queue's room, no more
    settings.SYNC_POLL_MINUTES = 10
    ticks = [polling.refresh_tick(3), polling.refresh_tick(3), polling.refresh_tick(3)]
    assert ticks == [12, 1, 0] and cache.get(polling.REFRESH_FROM_KEY) is None
    assert {name for name, _ in calls} == {"calendar_sync.tasks.refresh_window_batch"}
    refreshed = [pk for _, group in calls for pk in group]
    assert refreshed == sorted(c.pk for c in many_conns)  # each once, none left out
    assert all(len(group) <= 4 for _, group in calls)
    polling.start_window_refresh()  # a poll tick takes it up with the room its polls leave
    calls.clear()
    cache.set(polling.LAST_TICK_KEY, polling.minute_of(timezone.now()) - 1)
    polls = polling.poll_tick()  # this minute's: 2 of the 20 polled every 10 minutes
    names = [name for name, _ in calls]
    assert polls and names.count("calendar_sync.tasks.sync_batch") == -(-polls // 4)
    assert len(calls) == 3 and names[-1] == "calendar_sync.tasks.refresh_window_batch"


def test_refresh_window_batch_refreshes_each_and_requeues_what_the_budget_leaves(
    many_conns, monkeypatch
):
    refreshed, calls = [], []
    monkeypatch.setattr(tasks, "refresh_window", refreshed.append)
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    ids = [c.pk for c in many_conns[:3]]
    assert tasks.refresh_window_batch(ids) == 3 and refreshed == ids
    monkeypatch.setattr(tasks, "BATCH_BUDGET_SECONDS", -1)
    assert tasks.refresh_window_batch(ids) == 1
    assert calls == [("calendar_sync.tasks.refresh_window_batch", ids[1:])]


def test_poll_minutes_zero_turns_polling_off(many_conns, settings, monkeypatch):
    from calendar_sync.sync import polling

    settings.SYNC_POLL_MINUTES = 0
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    assert tasks.poll_tick() == 0
    assert calls == []
    assert polling.due_connection_ids(range(60), timezone.now()) == []


def test_sync_batch_syncs_each_connection_and_requeues_what_the_budget_leaves(
    many_conns, monkeypatch
):
    adapter = FakeAdapter([ChangePage(events=[], next_cursor="c")])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    ids = [c.pk for c in many_conns[:3]]
    assert tasks.sync_batch(ids) == 3
    assert CalendarConnection.objects.filter(pk__in=ids, last_sync_at__isnull=False).count() == 3
    monkeypatch.setattr(tasks, "BATCH_BUDGET_SECONDS", -1)
    assert tasks.sync_batch(ids) == 1  # one, then the budget is spent
    assert calls == [("calendar_sync.tasks.sync_batch", ids[1:])]


def test_lease_allows_one_sync_at_a_time(rep_conn):
    first = locking.acquire(rep_conn.pk)
    assert first is not None and first.sync_started_at is not None
    assert locking.acquire(rep_conn.pk) is None
    assert engine.sync_connection(rep_conn.pk) is None  # busy: no second sync
    later = first.sync_started_at + locking.LEASE + dt.timedelta(seconds=1)
    taken = locking.acquire(rep_conn.pk, now=later)  # a dead worker's lease
    assert taken is not None
    locking.release(rep_conn.pk, taken.sync_started_at)
    rep_conn.refresh_from_db()
    assert rep_conn.sync_started_at is None


def test_lease_is_not_taken_on_an_inactive_connection(rep_conn):
    CalendarConnection.objects.filter(pk=rep_conn.pk).update(state="needs_reconnect")
    assert locking.acquire(rep_conn.pk) is None
    rep_conn.refresh_from_db()
    assert rep_conn.sync_started_at is None


def test_a_sync_that_wrote_gives_its_lease_back_in_its_last_transaction(rep_conn, monkeypatch):
    """The run's final fields and the lease's release are one statement, in the transaction of
    the last page: no statement (nor commit) of its own after the import."""
    adapter = FakeAdapter([ChangePage(events=[event(1), event(2)], next_cursor="c1")])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    with CaptureQueriesContext(db) as queries:
        run = engine.sync_connection(rep_conn.pk)
    assert run is not None and run.created == 2 and not run.error
    statements = [q["sql"] for q in queries.captured_queries]
    table = CalendarConnection._meta.db_table
    writes = [i for i, sql in enumerate(statements) if sql.startswith(f'UPDATE "{table}"')]
    acquire, release = writes  # nothing else writes the connection row
    assert '"sync_started_at" = NULL' in statements[release]
    assert '"last_sync_summary"' in statements[release] and "c1" in statements[release]
    page_transaction = [
        i for i, sql in enumerate(statements) if sql.startswith("RELEASE SAVEPOINT")
    ]
    assert acquire < release < page_transaction[-1] == len(statements) - 1
    rep_conn.refresh_from_db()
    assert rep_conn.sync_started_at is None and rep_conn.sync_cursor == "c1"


def test_push_during_a_sync_runs_one_follow_up(rep_conn, monkeypatch):
    pages_seen = []
    real = engine.import_page

    def import_page(ctx, page):
        if not pages_seen:  # a push arrives while the first run is going
            CalendarConnection.objects.filter(pk=rep_conn.pk).update(
                sync_requested_at=timezone.now()
            )
        pages_seen.append(page.next_cursor)
        return real(ctx, page)

    monkeypatch.setattr(engine, "import_page", import_page)
    adapter = FakeAdapter([ChangePage(events=[event(1)], next_cursor="c")])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    run = engine.sync_connection(rep_conn.pk)
    # The first run's page, then the follow-up's (the fake answers the same page again).
    assert pages_seen == ["c", "c"] and adapter.requests == 2 and run.trigger == "push"
    rep_conn.refresh_from_db()
    assert rep_conn.sync_started_at is None and rep_conn.sync_requested_at is None


# --- page import ---------------------------------------------------------------------------------
def test_malformed_event_is_skipped_and_the_rest_of_the_page_lands(rep_conn, monkeypatch):
    bad = event(2)
    bad.attendees = [None]  # type: ignore[list-item]
    run = run_fake(monkeypatch, rep_conn, [ChangePage(events=[event(1), bad, event(3)],
                                                      next_cursor="c1")])  # fmt: skip
    assert run.created == 2
    assert run.skipped == {"malformed": 1}
    assert EventLink.objects.get(provider_event_id="ev2").skip_reason == "malformed"
    rep_conn.refresh_from_db()
    assert rep_conn.sync_cursor == "c1"


def test_imported_event_with_a_javascript_video_link_gets_no_video_link(
    rep_conn, monkeypatch, client
):
    meet = "https://meet.google.com/abc-defg-hij"
    run = run_fake(
        monkeypatch,
        rep_conn,
        [
            ChangePage(
                events=[
                    event(1, video_link="javascript:alert(document.domain)"),
                    event(2, video_link=" data:text/html,<script>alert(1)</script>"),
                    event(3, video_link=meet),
                ],
                next_cursor="c1",
            )
        ],
    )
    assert run.created == 3
    links = dict(
        Appointment.objects.filter(title__in=["Möte 1", "Möte 2", "Möte 3"]).values_list(
            "title", "video_link"
        )
    )
    assert links == {"Möte 1": "", "Möte 2": "", "Möte 3": meet}
    client.force_login(rep_conn.user)
    pages = {
        a.title: client.get(f"/appointments/{a.pk}/").content.decode()
        for a in Appointment.objects.all()
    }
    assert "javascript:" not in pages["Möte 1"] and "data:text/html" not in pages["Möte 2"]
    assert f'href="{meet}"' in pages["Möte 3"]


def test_export_write_back_keeps_only_an_https_video_link(rep_conn):
    from calendar_sync.sync import exporter

    appointment = Appointment.objects.create(
        title="Möte",
        start=at(2),
        end=at(2, 11),
        organizer=rep_conn.user,
        appointment_type=rep_conn.appointment_type,
    )
    exporter.save_link(rep_conn, appointment, timezone.now(), event(1, video_link="javascript:x"))
    appointment.refresh_from_db()
    assert appointment.video_link == ""
    exporter.save_link(rep_conn, appointment, timezone.now(), event(1, video_link="https://m.x/1"))
    appointment.refresh_from_db()
    assert appointment.video_link == "https://m.x/1"


def test_event_without_start_is_skipped(rep_conn, monkeypatch):
    run = run_fake(monkeypatch, rep_conn, [ChangePage([event(1), event(2)], "c")])
    assert run.created == 2
    broken = event(3)
    broken.start = None
    run = run_fake(monkeypatch, rep_conn, [ChangePage([broken], "c2")])
    assert run.skipped == {"no_start": 1}


def _imports_seen(monkeypatch, look):
    """What ``look()`` says before each import transaction (in the engine's own thread)."""
    seen, real = [], engine.import_page

    def import_page(ctx, page):
        seen.append((page.pages, look()))
        return real(ctx, page)

    monkeypatch.setattr(engine, "import_page", import_page)
    return seen


def test_cursor_is_saved_only_with_the_last_page(rep_conn, monkeypatch, settings):
    settings.SYNC_IMPORT_BATCH_EVENTS = 1  # a transaction per page
    seen = _imports_seen(
        monkeypatch, lambda: CalendarConnection.objects.get(pk=rep_conn.pk).sync_cursor
    )
    run_fake(monkeypatch, rep_conn, [ChangePage([event(1)], None), ChangePage([event(2)], "final")])
    assert seen == [(1, ""), (1, "")]
    rep_conn.refresh_from_db()
    assert rep_conn.sync_cursor == "final"
    assert rep_conn.last_sync_summary["created"] == 2


def test_several_pages_are_imported_in_one_transaction_up_to_the_batch_limit(
    rep_conn, monkeypatch, settings
):
    settings.SYNC_IMPORT_BATCH_EVENTS = 4
    seen = _imports_seen(monkeypatch, Appointment.objects.count)
    pages = [ChangePage([event(1), event(2)]), ChangePage([event(3), event(4)]),
             ChangePage([event(5), event(6)]), ChangePage([event(7)], "final")]  # fmt: skip
    run = run_fake(monkeypatch, rep_conn, pages)
    # Pages 1-2 (4 events) land together, as page 3 would not fit; then pages 3-4, the cursor.
    assert seen == [(2, 0), (2, 4)]
    assert run.created == 7
    rep_conn.refresh_from_db()
    assert rep_conn.sync_cursor == "final"
    assert rep_conn.last_sync_summary["pages"] == 4


def test_the_next_page_is_read_while_the_engine_imports_the_one_before(
    rep_conn, monkeypatch, settings
):
    """Page 2 is read (in another thread) before page 1's import starts. An error reading a
    page surfaces when the engine asks for that page, as if read in place: the run records it,
    what was imported stays, no cursor is saved (the next run reads the window again)."""
    import threading

    settings.SYNC_IMPORT_BATCH_EVENTS = 1
    order = []

    class Adapter(FakeAdapter):
        def list_changes(self, **kw):
            for n, page in enumerate(self.pages, 1):
                order.append(f"read {n} in {threading.current_thread().name.split('_')[0]}")
                if page is None:
                    raise ProviderError("page 3 refused", permanent=False)
                yield page

    real = engine.import_page

    def import_page(ctx, page):
        order.append(f"import {page.events[0].id}")
        return real(ctx, page)

    monkeypatch.setattr(engine, "import_page", import_page)
    pages = [ChangePage([event(1)]), ChangePage([event(2)]), None]
    monkeypatch.setattr(engine, "get_adapter", lambda c: Adapter(pages))
    run = engine.sync_connection(rep_conn.pk)
    assert order[:2] == ["read 1 in MainThread", "read 2 in sync-pages"]
    assert "read 3 in sync-pages" in order and "import ev1" in order
    assert "page 3 refused" in run.error
    # Page 2, held for its batch when page 3 failed, is imported before the error surfaces.
    assert order.index("import ev2") > order.index("read 3 in sync-pages")
    assert sorted(Appointment.objects.values_list("title", flat=True)) == ["Möte 1", "Möte 2"]
    rep_conn.refresh_from_db()
    assert rep_conn.sync_cursor == ""


def test_a_poll_reads_its_page_in_place_and_an_unchanged_one_reads_no_directory(
    rep_conn, monkeypatch
):
    """An incremental run starts no thread: its page is read in the engine's thread. When the
    page is empty, neither the user directory nor the exclusions are read."""
    import threading

    from calendar_sync.sync import reading
    from contacts import selectors

    CalendarConnection.objects.filter(pk=rep_conn.pk).update(sync_cursor="c0")
    threads, reads = [], []

    class Adapter(FakeAdapter):
        def list_changes(self, **kw):
            threads.append(threading.current_thread().name)
            yield from super().list_changes(**kw)

    monkeypatch.setattr(selectors, "_directory", lambda *names: reads.append(names))
    monkeypatch.setattr(reading, "exclusion_values", lambda user_id: reads.append(user_id))
    adapter = Adapter([ChangePage(events=[], next_cursor="c1")])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    run = engine.sync_connection(rep_conn.pk)
    assert not run.error and run.pk is None  # nothing changed: no run row
    assert threads == [threading.current_thread().name] and reads == []
    rep_conn.refresh_from_db()
    assert rep_conn.sync_cursor == "c1"


def test_pages_merged_into_one_import_keep_the_last_word_on_each_event(rep_conn, monkeypatch):
    first, last = event(2), event(2)
    first.title, last.title = "Första", "Sista"
    pages = [
        ChangePage([event(1), first], removed_ids=["ev3"]),
        ChangePage([event(3), last], removed_ids=["ev1"]),
        ChangePage([], "final"),
    ]
    run = run_fake(monkeypatch, rep_conn, pages)
    # ev1 was removed by a later page, ev3 came back on one, ev2 is its last version.
    assert sorted(Appointment.objects.values_list("title", flat=True)) == ["Möte 3", "Sista"]
    assert run.created == 2
    assert run.fetched == 2


def test_only_addresses_at_a_users_domain_are_looked_up_as_users(rep_conn, monkeypatch, sync_user):
    from appointments.models import Attendee, AttendeeKind

    eva = sync_user("eva.lind@exempel.se", "eva.lind@gmail.com")  # a colleague, and her gmail
    with_eva = event(2)
    with_eva.attendees.append(ExternalAttendee("Eva.Lind@gmail.com"))
    looked_up = []
    for page in ([event(1)], [with_eva]):
        with CaptureQueriesContext(db) as queries:
            run_fake(monkeypatch, rep_conn, [ChangePage(page, "c")])
        looked_up.append([q["sql"] for q in queries.captured_queries if "LOWER(" in q["sql"]])
    # The rep and two guests at extern.se: no user lookup. Eva's free-mail address: one.
    assert looked_up[0] == []
    assert len(looked_up[1]) == 2  # aliases, then logins
    assert Attendee.objects.get(user=eva).kind == AttendeeKind.USER


def _queries_for(conn, monkeypatch, size: int, offset: int) -> int:
    page = ChangePage([event(offset + i) for i in range(size)], "c")
    adapter = FakeAdapter([page])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    with CaptureQueriesContext(db) as ctx:
        engine.sync_connection(conn.pk)
    return len(ctx.captured_queries)


def test_queries_per_page_do_not_grow_with_events(rep_conn, monkeypatch):
    from contacts.selectors import sync_directory

    sync_directory(rep_conn.user_id)  # cached: both runs read it alike
    small = _queries_for(rep_conn, monkeypatch, 3, 0)
    large = _queries_for(rep_conn, monkeypatch, 12, 100)
    assert small == large
    assert Appointment.objects.count() == 15


# --- channels, disconnect, activation ----------------------------------------------------------------
@pytest.fixture
def google_conn(sync_user, sync_connect):
    return sync_connect("google", sync_user("karl.andersson@exempel.se"))


def test_renew_channels_renews_at_half_life(google_conn, emulator):
    push.start_push(google_conn)
    google_conn.refresh_from_db()
    first = google_conn.channel_id
    assert tasks.renew_channels() == 0  # fresh
    CalendarConnection.objects.filter(pk=google_conn.pk).update(
        channel_expires_at=timezone.now() + dt.timedelta(days=3)
    )
    assert tasks.renew_channels() == 1
    google_conn.refresh_from_db()
    assert google_conn.channel_expires_at > timezone.now() + dt.timedelta(days=6)
    assert google_conn.channel_id and google_conn.channel_id != "" and first


def test_connection_disconnected_stops_the_channel(google_conn):
    push.start_push(google_conn)
    tasks.connection_disconnected(google_conn.pk)
    google_conn.refresh_from_db()
    assert google_conn.channel_id == ""


def test_export_task_enqueued_on_commit(rep_conn, sync_type, monkeypatch,
                                        django_capture_on_commit_callbacks):  # fmt: skip
    from appointments.services import appointment_create

    calls = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: calls.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        appt = appointment_create(
            organizer=rep_conn.user, title="X", appointment_type=sync_type, start=at(2),
            end=at(2, 11),
        )  # fmt: skip
    assert calls == [("calendar_sync.tasks.export_appointment", appt.pk)]


# --- command ------------------------------------------------------------------------------------
def test_sync_calendars_command_prints_a_summary(rep_conn, monkeypatch):
    alone = event(2)
    alone.attendees = []
    adapter = FakeAdapter([ChangePage([event(1), alone], "c")])
    monkeypatch.setattr(engine, "get_adapter", lambda c: adapter)
    out = StringIO()
    call_command("sync_calendars", "--user", rep_conn.user.email, "--full", stdout=out,
                 stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    assert "fetched: 2" in text and "created: 1" in text
    assert "no_participants: 1" in text and "provider requests: 1" in text


def test_sync_calendars_command_unknown_user(rep_conn):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("sync_calendars", "--user", "nobody@x.se")


# --- channels are never leaked -------------------------------------------------------------------
@pytest.fixture
def hooks(settings):
    """A receiver that answers Graph's validation handshake, as the pushes' callback."""
    from .test_adapter_contract import Receiver

    receiver = Receiver()
    settings.PUBLIC_BASE_URL = receiver.url
    yield receiver
    receiver.close()


def live_channels(emulator, provider: str) -> set[str]:
    return actor_class(provider).live_channels(emulator.state.stores[provider])


@pytest.mark.parametrize("provider", PUSH_PROVIDERS)
def test_renewal_keeps_the_new_channel_when_stopping_the_old_one_fails(
    provider, sync_user, sync_connect, emulator, hooks, adapter_retry_sleeps, caplog
):
    conn = sync_connect(provider, sync_user("karl.andersson@exempel.se"))
    push.start_push(conn)
    conn.refresh_from_db()
    # Every channels.stop fails (Graph extends its subscription in place: nothing to stop).
    emulator.state.faults.add(Fault(kind="500", count=50, provider=provider, endpoint="stop"))
    CalendarConnection.objects.filter(pk=conn.pk).update(
        channel_expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    first = conn.channel_id
    assert tasks.renew_channels() == 1
    conn.refresh_from_db()
    assert conn.channel_expires_at > timezone.now() + dt.timedelta(days=1)  # renewed
    assert conn.channel_id in live_channels(emulator, provider)  # the running one is recorded
    if actor_class(provider).renewal_replaces_channel:  # the old one could not be stopped: logged
        assert conn.channel_id != first
        assert "could not stop channel" in caplog.text


@pytest.mark.parametrize("provider", PUSH_PROVIDERS)
def test_reconnect_stops_the_previous_channel(provider, sync_user, sync_connect, emulator, hooks):
    conn = sync_connect(provider, sync_user("karl.andersson@exempel.se"))
    push.start_push(conn)
    conn.refresh_from_db()
    CalendarConnection.objects.filter(pk=conn.pk).update(state="needs_reconnect")
    CalendarConnection.objects.filter(pk=conn.pk).update(state="active")  # reconnected
    tasks.connection_activated(conn.pk)
    conn.refresh_from_db()
    assert live_channels(emulator, provider) == {conn.channel_id}


@pytest.mark.django_db
def test_each_provider_is_polled_at_its_registry_interval(sync_user, sync_type, settings):
    """The registry's ``poll_minutes`` (CalDAV, which has no push: every few minutes), capped by
    SYNC_POLL_MINUTES; every connection is due once per its provider's interval."""
    from calendar_sync.providers.registry import PROVIDERS as REGISTRY
    from calendar_sync.sync import polling

    settings.SYNC_POLL_MINUTES, settings.SYNC_POLL_PUSHED_MINUTES = 10, 60
    conns = {}
    for provider, spec in REGISTRY.items():
        user = sync_user(f"rep.{provider}@exempel.se")
        conns[provider] = CalendarConnection.objects.create(
            user=user, provider=provider, account_email=user.email, appointment_type=sync_type
        )
        assert polling.provider_interval(provider) == min(10, spec.poll_minutes)
    assert any(spec.poll_minutes < 10 for spec in REGISTRY.values())  # someone asks for more
    now = timezone.now()
    start = polling.minute_of(now)
    for provider, conn in conns.items():
        every = polling.provider_interval(provider)
        due = [m for m in range(start, start + 30) if conn.pk in
               polling.due_connection_ids([m], now)]  # fmt: skip
        assert len(due) == 30 // every and all(
            b - a == every for a, b in zip(due, due[1:], strict=False)
        )
        nxt = polling.next_poll_at(conn, now)
        assert now < nxt <= now + dt.timedelta(minutes=every)
        assert polling.minute_of(nxt) == due[0] or polling.minute_of(nxt) == due[0] + every
    settings.SYNC_POLL_MINUTES = 0
    assert polling.due_connection_ids(range(start, start + 30), now) == []
