"""Calendar → CRM over the emulator, through the real adapters, for Google and Microsoft."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, AttendeeKind
from calendar_sync.models import EventLink, SyncRun
from calendar_sync.providers.registry import get_provider
from calendar_sync.sync import engine
from tests.factories import CompanyFactory, ContactFactory

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = ("karl.andersson@exempel.se", "karl@exempel.se", "karl@sthlm.exempel.se")
JOHANNA = ("johanna.svennson@exempel.se", "johanna@exempel.se", "johanna@gbg.exempel.se")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl_aliases():
    """Karl has two more addresses (allauth aliases, and at his provider account)."""
    return KARL[1:]


# One incremental sync whose page creates, updates and cancels (see the test below).
QUERIES_PER_CHANGING_PAGE = 33  # as before the importer was split (32 on SQLite)


def sync(connection, **kw):
    run = engine.sync_connection(connection.pk, trigger="test", **kw)
    assert run is not None and not run.error, run and run.error
    return run


def test_faq_scenario_1_external_invites_karl_alias_and_colleague(provider, karl_conn, sync_actor):
    kund = sync_actor(provider, "kund@extern.se")
    kund.create(
        title="Offertgenomgång",
        start=at(2),
        end=at(2, 11),
        attendees=["karl@exempel.se", "johanna.svennson@exempel.se"],
    )
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.organizer == karl_conn.user
    assert appointment.locked
    assert appointment.lock_invited_by == "kund@extern.se"
    assert appointment.lock_reason_text == (
        "Invited by kund@extern.se: only the organizer can change it"
    )
    assert appointment.source == provider
    assert appointment.appointment_type == karl_conn.appointment_type
    assert appointment.company is None
    emails = {a.email: a.kind for a in appointment.attendees.all()}
    assert emails == {"kund@extern.se": AttendeeKind.EXTERNAL}  # Johanna is not shown


def test_faq_scenario_2_johanna_gbg_is_an_external_contact(provider, karl_conn, karl_cal):
    company = CompanyFactory(name="Johannas AB")
    johanna = ContactFactory(name="Johanna", company=company, emails=["johanna@gbg.exempel.se"])
    karl_cal.create(title="Lunch", start=at(3), end=at(3, 11), attendees=["johanna@gbg.exempel.se"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert not appointment.locked
    assert appointment.company == company
    assert [a.contact for a in appointment.attendees.all()] == [johanna]


def test_faq_scenario_3_johanna_gbg_is_a_colleague_when_a_user_has_the_domain(
    provider, karl_conn, karl_cal, sync_user
):
    sync_user("per@gbg.exempel.se")
    ContactFactory(name="Johanna", emails=["johanna@gbg.exempel.se"])
    karl_cal.create(title="Lunch", start=at(3), end=at(3, 11), attendees=["johanna@gbg.exempel.se"])
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert EventLink.objects.get().skip_reason == "only_internal"
    assert run.skipped == {"only_internal": 1}


def test_same_meeting_in_two_reps_calendars_is_one_appointment(
    provider, karl_conn, sync_user, sync_connect, sync_actor
):
    eva = sync_user("eva.lind@exempel.se")
    eva_conn = sync_connect(provider, eva)
    sync_actor(provider, "kund@extern.se").create(
        title="Upphandling", start=at(4), end=at(4, 11), attendees=[KARL[0], eva.email]
    )
    sync(karl_conn)
    sync(eva_conn)
    appointment = Appointment.objects.get()
    assert appointment.organizer == karl_conn.user
    users = {a.user for a in appointment.attendees.all() if a.kind == AttendeeKind.USER}
    assert users == {eva}
    links = EventLink.objects.filter(appointment=appointment)
    assert {link.connection_id for link in links} == {karl_conn.pk, eva_conn.pk}


def test_provider_update_flows_in_and_decline_keeps_the_participant(
    provider, karl_conn, karl_cal, sync_actor
):
    contact = ContactFactory(name="Kund", emails=["kund@extern.se"])
    kund = sync_actor(provider, "kund@extern.se")  # has a calendar to receive the invitation
    created = karl_cal.create(
        title="Möte", start=at(5), end=at(5, 11), attendees=[contact.primary_email]
    )
    sync(karl_conn)
    kund_copy = kund.events()[0]
    kund.respond(kund_copy["id"], "declined")
    karl_cal.update(created["id"], title="Möte (flyttat)", start=at(6), end=at(6, 12),
                    location="Sveavägen 1")  # fmt: skip
    run = sync(karl_conn)
    appointment = Appointment.objects.get()
    assert run.updated == 1 and run.created == 0
    assert appointment.title == "Möte (flyttat)"
    assert appointment.start == at(6)
    assert appointment.location == "Sveavägen 1"
    attendee = appointment.attendees.get()
    assert attendee.contact == contact
    assert attendee.response == "declined"


def test_answer_from_a_users_alias_reaches_their_attendee_row(
    provider, karl_conn, karl_cal, sync_user, sync_actor
):
    eva = sync_user("eva.lind@exempel.se", "eva@exempel.se")
    eva_cal = sync_actor(provider, "eva@exempel.se")  # invited by her alias
    karl_cal.create(title="Demo", start=at(5), end=at(5, 11),
                    attendees=["kund@extern.se", "eva@exempel.se"])  # fmt: skip
    sync(karl_conn)
    eva_cal.respond(eva_cal.events()[0]["id"], "tentative")
    sync(karl_conn)
    attendee = Appointment.objects.get().attendees.get(kind=AttendeeKind.USER)
    assert (attendee.user, attendee.response) == (eva, "tentative")


def test_unchanged_incremental_sync_writes_nothing(provider, karl_conn, karl_cal):
    karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["kund@extern.se"])
    first = sync(karl_conn)
    assert first.kind == "full" and first.created == 1
    karl_conn.refresh_from_db()
    assert karl_conn.sync_cursor and karl_conn.last_sync_at
    assert karl_conn.last_sync_summary["created"] == 1
    before = Appointment.objects.get().updated_at
    second = sync(karl_conn)
    assert second.kind == "incremental"
    assert (second.fetched, second.created, second.updated) == (0, 0, 0)
    assert second.provider_requests == 1
    assert Appointment.objects.get().updated_at == before


def test_unchanged_poll_through_the_task_is_one_request_four_queries_and_no_new_row(
    provider, karl_conn, karl_cal
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from calendar_sync import tasks
    from calendar_sync.models import CalendarConnection

    karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["kund@extern.se"])
    sync(karl_conn)
    tasks.sync_connection(karl_conn.pk)  # the first incremental run (tokens, caches)
    runs = SyncRun.objects.count()
    before = CalendarConnection.objects.get(pk=karl_conn.pk).last_sync_at
    with CaptureQueriesContext(connection) as queries:
        assert tasks.sync_connection(karl_conn.pk) is None  # no run row for a no-op
    sql = [q["sql"].lstrip().upper() for q in queries.captured_queries]
    assert len(sql) <= 4, sql
    assert not [q for q in sql if q.startswith(("INSERT", "DELETE"))]
    assert SyncRun.objects.count() == runs
    karl_conn.refresh_from_db()
    assert karl_conn.last_sync_at > before  # the rep still sees when it last synced
    assert karl_conn.last_sync_summary["provider_requests"] == 1
    assert karl_conn.sync_started_at is None  # the lease is released


def test_cancelled_event_stays_with_cancelled_at(provider, karl_conn, karl_cal):
    created = karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    karl_cal.delete(created["id"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.cancelled_at is not None


def test_recurring_event_deleted_in_google_deletes_its_appointments_in_office365_cancels_them(
    provider, karl_conn, karl_cal
):
    """Spec: recurring appointments are deleted "if they are deleted in Google Calendar"; any
    other deleted appointment stays (marked cancelled). Microsoft followed Google until the
    spec was applied literally."""
    series = karl_cal.create(title="Veckomöte", start=at(2), end=at(2, 11),
                             attendees=["k@extern.se"], recurrence_count=3)  # fmt: skip
    sync(karl_conn)
    assert Appointment.objects.count() == 3
    links = EventLink.objects.filter(appointment__isnull=False)
    assert len({link.series_id for link in links}) == 1 and links[0].series_id
    karl_cal.delete(series["id"])
    sync(karl_conn)
    if get_provider(provider).recurring_delete_removes:  # Google
        assert not Appointment.objects.exists()
    else:
        assert Appointment.objects.count() == 3
        assert not Appointment.objects.filter(cancelled_at__isnull=True).exists()


def test_all_day_recurring_event_is_not_imported_from_google_but_is_from_office365(
    provider, karl_conn, karl_cal
):
    karl_cal.create(title="Mässa", start=at(2), end=at(3), all_day=True,
                    attendees=["k@extern.se"], recurrence_count=2)  # fmt: skip
    run = sync(karl_conn)
    if not get_provider(provider).all_day_recurring_supported:  # spec 7: "from Google Calendar"
        assert not Appointment.objects.exists()
        assert run.skipped == {"all_day_recurring": 2}
    else:
        assert Appointment.objects.count() == 2 and run.created == 2
        assert all(a.all_day for a in Appointment.objects.all())


def test_recurring_invitation_is_capped_per_series(provider, karl_conn, karl_cal, settings):
    """A series expanding into more occurrences than SYNC_SERIES_CAP cannot flood the CRM: the
    first ones are logged, the rest are skipped with their reason, also on the next syncs."""
    settings.SYNC_SERIES_CAP = 4
    karl_cal.create(title="Stand-up", start=at(1), end=at(1, 11),
                    attendees=["k@extern.se"], recurrence_count=6)  # fmt: skip
    run = sync(karl_conn)
    assert Appointment.objects.count() == 4 and run.created == 4
    assert run.skipped == {"series_capped": 2}
    capped = EventLink.objects.filter(skip_reason="series_capped")
    assert capped.count() == 2 and not capped.filter(appointment__isnull=False).exists()
    sync(karl_conn, full=True)  # read again: the skipped ones stay skipped
    assert Appointment.objects.count() == 4
    karl_cal.create(title="Lunch", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    sync(karl_conn)  # a single meeting is never capped
    assert Appointment.objects.filter(title="Lunch").count() == 1


def test_event_outside_the_window_is_skipped(provider, karl_conn, karl_cal):
    karl_cal.create(title="Sent", start=at(120), end=at(120, 11), attendees=["k@extern.se"])
    karl_cal.create(title="Snart", start=at(1), end=at(1, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Snart"]
    skipped = EventLink.objects.exclude(skip_reason="")
    assert all(link.skip_reason == "outside_window" for link in skipped)


def test_expired_cursor_resyncs_without_duplicates(provider, karl_conn, karl_cal, emulator):
    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    karl_cal.create(title="B", start=at(3), end=at(3, 11), attendees=["k@extern.se"])
    karl_cal.expire_cursor()
    run = sync(karl_conn)
    assert run.kind == "full"
    assert sorted(Appointment.objects.values_list("title", flat=True)) == ["A", "B"]
    assert EventLink.objects.count() == 2
    karl_conn.refresh_from_db()
    assert karl_conn.sync_cursor


def test_rate_limit_storm_is_retried_and_lands(
    provider, karl_conn, karl_cal, emulator, adapter_retry_sleeps
):
    from provider_emulator.faults import Fault

    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    emulator.state.faults.add(Fault(kind="429", count=3, provider=provider, retry_after=2))
    run = sync(karl_conn)
    assert run.created == 1
    assert adapter_retry_sleeps  # it waited instead of failing


def test_persistent_rate_limit_records_the_error_and_does_not_raise(
    provider, karl_conn, karl_cal, emulator, adapter_retry_sleeps
):
    from provider_emulator.faults import Fault

    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    emulator.state.faults.add(Fault(kind="429", count=100, provider=provider))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error
    karl_conn.refresh_from_db()
    assert karl_conn.last_error and karl_conn.sync_started_at is None
    emulator.state.faults.clear()
    assert sync(karl_conn).created == 1


def test_revoked_grant_parks_the_connection(provider, karl_conn, karl_cal):
    karl_cal.revoke_access()
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    karl_conn.refresh_from_db()
    assert run.error
    assert karl_conn.state == "needs_reconnect"
    assert engine.sync_connection(karl_conn.pk, trigger="test") is None  # stopped


def test_locked_invitation_cannot_be_changed_in_the_crm(provider, karl_conn, sync_actor):
    from django.core.exceptions import PermissionDenied

    from appointments.services import appointment_update

    sync_actor(provider, "kund@extern.se").create(
        title="Inbjudan", start=at(2), end=at(2, 11), attendees=[KARL[0]]
    )
    sync(karl_conn)
    appointment = Appointment.objects.get()
    with pytest.raises(PermissionDenied):
        appointment_update(appointment=appointment, actor=karl_conn.user, start=at(3))
    with pytest.raises(PermissionDenied):
        appointment_update(appointment=appointment, actor=karl_conn.user, location="Hemma")


def test_sync_run_records_counts_by_reason(provider, karl_conn, karl_cal):
    karl_cal.create(title="Ensam", start=at(2), end=at(2, 11), attendees=[])
    karl_cal.create(title="Kund", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    run = sync(karl_conn)
    assert (run.fetched, run.created) == (2, 1)
    assert run.skipped == {"no_participants": 1}
    assert SyncRun.objects.filter(connection=karl_conn).count() == 1


# Where each adapter sizes the pages it reads (Google maxResults, Graph odata.maxpagesize,
# CalDAV objects per multiget).
PAGE_SIZES = {"google": "calendar_sync.providers.google.adapter.PAGE_SIZE",
              "microsoft": "calendar_sync.providers.microsoft.adapter.PAGE_SIZE",
              "caldav": "calendar_sync.providers.caldav.adapter.MULTIGET_BATCH"}  # fmt: skip


def test_a_first_import_of_several_pages_lands_in_batches_of_pages(
    provider, karl_conn, karl_cal, monkeypatch, settings
):
    """Pages of 2 events, at most 4 events a transaction: 5 events are read in 3 provider
    pages and written in 2 transactions; the cursor lands with the last, and the next sync
    finds nothing new."""
    monkeypatch.setattr(PAGE_SIZES[provider], 2)
    settings.SYNC_IMPORT_BATCH_EVENTS = 4
    for i in range(5):
        karl_cal.create(title=f"Möte {i}", start=at(2 + i), end=at(2 + i, 11),
                        attendees=[f"kund{i}@extern.se"])  # fmt: skip
    transactions, real = [], engine.import_page

    def import_page(ctx, page):  # the provider pages each import transaction holds
        transactions.append(page.pages)
        return real(ctx, page)

    monkeypatch.setattr(engine, "import_page", import_page)
    run = sync(karl_conn, full=True)
    assert transactions == [2, 1]
    assert run.created == 5
    karl_conn.refresh_from_db()
    assert karl_conn.last_sync_summary["pages"] == 3
    assert sorted(Appointment.objects.values_list("title", flat=True)) == [
        f"Möte {i}" for i in range(5)
    ]
    assert sync(karl_conn).created == 0


def _first_import_queries(provider, sync_user, sync_connect, sync_actor, email, count):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conn = sync_connect(provider, sync_user(email))
    cal = sync_actor(provider, email)
    for i in range(count):
        guest = f"kund{i}@extern{i % 3}.se"
        cal.create(title=f"Möte {i}", start=at(1 + i % 20), end=at(1 + i % 20, 11),
                   attendees=[guest])  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        run = sync(conn, full=True)
    assert run.created == count
    return len(queries.captured_queries), run.provider_requests


def test_first_import_queries_per_page_do_not_grow_with_events(
    provider, sync_user, sync_connect, sync_actor
):
    # 30 stays within one SQLite batch of appointment rows (999 parameters); see scripts/bench.py
    few = _first_import_queries(provider, sync_user, sync_connect, sync_actor, "a@exempel.se", 3)
    many = _first_import_queries(provider, sync_user, sync_connect, sync_actor, "b@exempel.se", 30)
    assert few == many  # queries, and provider requests: one page either way
    # (one request for Google/Graph; CalDAV: the sync-collection REPORT, then one multiget)
    assert many[1] <= 2
    assert Appointment.objects.count() == 33


def _changing_sync_queries(changing, email: str, count: int, at_most) -> int:
    """Queries of an incremental sync of one page where ``count`` events moved, ``count`` were
    cancelled and ``count`` are new; at most ``at_most`` (``django_assert_max_num_queries``)."""
    provider, sync_user, sync_connect, sync_actor, max_queries = changing
    conn = sync_connect(provider, sync_user(email))
    cal = sync_actor(provider, email)
    made = [cal.create(title=f"Möte {i}", start=at(2 + i), end=at(2 + i, 11),
                       attendees=[f"kund{i}@extern.se"]) for i in range(2 * count)]  # fmt: skip
    sync(conn)
    for i, event in enumerate(made[:count]):
        cal.update(event["id"], title=f"Flyttat {i}", start=at(30 + i), end=at(30 + i, 11))
    for event in made[count:]:
        cal.delete(event["id"])
    for i in range(count):
        cal.create(title=f"Ny {i}", start=at(40 + i), end=at(40 + i, 11), attendees=["ny@x.se"])
    with max_queries(at_most) as queries:
        run = sync(conn)
    assert (run.created, run.updated, run.cancelled) == (count, count, count)
    assert (
        Appointment.objects.filter(organizer=conn.user, cancelled_at__isnull=False).count() == count
    )
    return len(queries.captured_queries)


def test_changing_page_queries_do_not_grow_with_events(
    provider, sync_user, sync_connect, sync_actor, django_assert_max_num_queries
):
    changing = (provider, sync_user, sync_connect, sync_actor, django_assert_max_num_queries)
    few = _changing_sync_queries(changing, "a@exempel.se", 2, at_most=QUERIES_PER_CHANGING_PAGE)
    assert _changing_sync_queries(changing, "b@exempel.se", 8, at_most=few) == few


def test_racing_first_imports_of_one_meeting_make_one_appointment(
    provider, karl_conn, sync_user, sync_connect, sync_actor, monkeypatch
):
    """Eva's first import read the database before Karl's import of the same meeting committed
    (her page data is a snapshot from then): her claim on the meeting loses, and her event is
    linked to Karl's appointment instead of making a second one."""
    from django.db import transaction

    from calendar_sync.models import MeetingKey
    from calendar_sync.sync import importer

    eva = sync_user("eva.lind@exempel.se")
    eva_conn = sync_connect(provider, eva)
    sync_actor(provider, "kund@extern.se").create(
        title="Upphandling", start=at(4), end=at(4, 11), attendees=[KARL[0], eva.email]
    )
    ctx = engine.build_context(eva_conn)
    adapter = engine.get_adapter(eva_conn)
    [page] = adapter.list_changes(cursor=None, window_start=ctx.window[0], window_end=ctx.window[1])
    snapshot = importer.load_page_data(ctx, page)
    assert not snapshot.merge  # nothing of Karl's yet

    sync(karl_conn)  # Karl's import commits meanwhile
    monkeypatch.setattr(importer, "load_page_data", lambda ctx, page: snapshot)
    with transaction.atomic():
        importer.import_page(ctx, page)

    appointment = Appointment.objects.get()
    assert appointment.organizer == karl_conn.user
    users = {a.user for a in appointment.attendees.all() if a.kind == AttendeeKind.USER}
    assert users == {eva}
    links = EventLink.objects.filter(appointment=appointment)
    assert {link.connection_id for link in links} == {karl_conn.pk, eva_conn.pk}
    assert MeetingKey.objects.get().appointment == appointment
    assert ctx.stats["created"] == 0


def _karl_invites_eva(provider, karl_conn, karl_cal, sync_user, sync_connect, sync_actor):
    eva = sync_user("eva.lind@exempel.se")
    eva_conn = sync_connect(provider, eva)
    eva_cal = sync_actor(provider, eva.email)
    karl_cal.create(
        title="Demo", start=at(4), end=at(4, 11), attendees=["kund@extern.se", eva.email]
    )
    sync(karl_conn)
    sync(eva_conn)
    appointment = Appointment.objects.get()
    assert EventLink.objects.filter(appointment=appointment).count() == 2
    return eva, eva_conn, eva_cal, appointment


def test_invited_user_declining_keeps_the_appointment_and_the_participant(
    provider, karl_conn, karl_cal, sync_user, sync_connect, sync_actor
):
    eva, eva_conn, eva_cal, appointment = _karl_invites_eva(
        provider, karl_conn, karl_cal, sync_user, sync_connect, sync_actor
    )
    [copy] = eva_cal.events()
    eva_cal.decline_as_invitee(copy["id"])
    run = sync(eva_conn)
    appointment.refresh_from_db()
    assert appointment.cancelled_at is None
    assert appointment.attendees.get(user=eva).response == "declined"
    eva_link = EventLink.objects.get(connection=eva_conn)
    assert eva_link.appointment is None and eva_link.skip_reason == "declined"
    assert EventLink.objects.get(connection=karl_conn).appointment == appointment
    assert run.skipped == {"declined": 1}


def test_organizer_deleting_the_event_still_cancels_the_shared_appointment(
    provider, karl_conn, karl_cal, sync_user, sync_connect, sync_actor
):
    _, _, _, appointment = _karl_invites_eva(
        provider, karl_conn, karl_cal, sync_user, sync_connect, sync_actor
    )
    karl_cal.delete(karl_cal.events()[0]["id"])
    sync(karl_conn)
    appointment.refresh_from_db()
    assert appointment.cancelled_at is not None


def test_known_event_arriving_malformed_once_keeps_its_appointment(
    provider, karl_conn, karl_cal, monkeypatch
):
    from calendar_sync.sync import planning

    created = karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    classify = planning.rules.classify_event

    def broken(ev, **kw):
        if ev.title == "Trasig":
            raise ValueError("cannot map this event")
        return classify(ev, **kw)

    monkeypatch.setattr(planning.rules, "classify_event", broken)
    karl_cal.update(created["id"], title="Trasig")
    assert sync(karl_conn).skipped == {"malformed": 1}
    link = EventLink.objects.get()
    assert link.appointment == appointment and link.skip_reason == "malformed"
    karl_cal.update(created["id"], title="Hel igen")
    sync(karl_conn)
    assert list(Appointment.objects.values_list("pk", "title")) == [(appointment.pk, "Hel igen")]
    link = EventLink.objects.get()
    assert link.appointment == appointment and link.skip_reason == ""


def _create_all_day_in_zone(cal, day: dt.date, zone: str, attendees: list[str]) -> dict:
    """An all-day event as a calendar kept in ``zone`` writes it (the actor's helper writes
    Stockholm/UTC ones)."""
    return cal.create_raw(cal.all_day_body("Heldag", day, zone, attendees))


@pytest.mark.parametrize("days", [0, 3])
def test_all_day_event_from_another_zone_keeps_its_calendar_date(
    provider, karl_conn, karl_cal, days
):
    from django.utils import timezone

    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    _create_all_day_in_zone(karl_cal, day, "Europe/Helsinki", ["k@extern.se"])
    run = sync(karl_conn)
    assert run.created == 1, run.skipped  # today's is inside the window too
    appointment = Appointment.objects.get()
    assert appointment.all_day
    assert timezone.localtime(appointment.start).date() == day
    assert timezone.localtime(appointment.start).time() == dt.time(0)
    assert timezone.localtime(appointment.end).date() == day + dt.timedelta(days=1)


def _crm_changes_later(appointment, **fields):
    from django.utils import timezone

    later = timezone.now() + dt.timedelta(minutes=5)  # after the provider's change
    Appointment.objects.filter(pk=appointment.pk).update(updated_at=later, **fields)


def test_crm_winning_a_conflict_keeps_the_event_to_be_looked_at_again(
    provider, karl_conn, karl_cal
):
    created = karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    before = EventLink.objects.get().synced_hash
    karl_cal.update(created["id"], title="Ändrat i kalendern")
    _crm_changes_later(appointment, title="Ändrat i CRM")
    run = sync(karl_conn)
    assert run.updated == 0
    assert Appointment.objects.get().title == "Ändrat i CRM"
    assert EventLink.objects.get().synced_hash == before  # not taken for an echo later


def test_calendar_wins_a_conflict_over_a_locked_invitation(provider, karl_conn, sync_actor):
    kund = sync_actor(provider, "kund@extern.se")
    created = kund.create(title="Inbjudan", start=at(2), end=at(2, 11), attendees=[KARL[0]])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.locked
    kund.update(created["id"], title="Inbjudan (flyttad)", start=at(3), end=at(3, 11))
    _crm_changes_later(appointment)
    sync(karl_conn)
    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Inbjudan (flyttad)", at(3))


def test_calendar_wins_a_conflict_over_a_cancelled_appointment(provider, karl_conn, karl_cal):
    created = karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    karl_cal.update(created["id"], title="Återupptaget")
    _crm_changes_later(appointment, cancelled_at=at(0))
    sync(karl_conn)
    assert Appointment.objects.get().title == "Återupptaget"


def test_appointment_deleted_in_the_crm_is_not_imported_again(provider, karl_conn, karl_cal):
    from appointments.services import appointment_delete

    created = karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    sync(karl_conn)
    appointment_delete(appointment=Appointment.objects.get(), actor=karl_conn.user)
    link = EventLink.objects.get()
    assert link.appointment is None and link.skip_reason == "deleted_in_crm"
    sync(karl_conn, full=True)
    assert not Appointment.objects.exists()
    karl_cal.update(created["id"], title="Möte (ändrat)")
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"deleted_in_crm": 1}
    assert EventLink.objects.get().skip_reason == "deleted_in_crm"


def test_recurring_appointments_deleted_by_the_calendar_leave_no_crm_tombstone(
    provider, karl_conn, karl_cal
):
    series = karl_cal.create(title="Veckomöte", start=at(2), end=at(2, 11),
                             attendees=["k@extern.se"], recurrence_count=2)  # fmt: skip
    sync(karl_conn)
    karl_cal.delete(series["id"])
    sync(karl_conn)
    assert not EventLink.objects.filter(skip_reason="deleted_in_crm").exists()


def test_unexpected_error_is_recorded_and_the_next_sync_recovers(
    provider, karl_conn, karl_cal, monkeypatch
):
    karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    real = engine.import_page

    def broken(ctx, page):
        raise RuntimeError("database went away")

    monkeypatch.setattr(engine, "import_page", broken)
    run = engine.sync_connection(karl_conn.pk, trigger="test")  # does not raise
    assert "RuntimeError: database went away" in run.error
    assert run.finished_at is not None
    karl_conn.refresh_from_db()
    assert "database went away" in karl_conn.last_error
    assert karl_conn.sync_started_at is None and not karl_conn.sync_cursor
    monkeypatch.setattr(engine, "import_page", real)
    assert sync(karl_conn).created == 1


def test_an_item_the_adapter_cannot_map_is_skipped_and_the_rest_of_the_page_lands(
    provider, karl_conn, karl_cal, monkeypatch
):
    karl_cal.create(title="Trasig", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    karl_cal.create(title="Hel", start=at(6), end=at(6, 11), attendees=["k@extern.se"])
    adapter_class = type(engine.get_adapter(karl_conn))
    real = adapter_class.to_external

    def broken(self, item):
        if (item.get("summary") or item.get("subject")) == "Trasig":
            raise KeyError("start")
        return real(self, item)

    monkeypatch.setattr(adapter_class, "to_external", broken)
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error == ""
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Hel"]
    link = EventLink.objects.get(title="Trasig")
    assert link.skip_reason == "malformed" and link.skip_detail.startswith("KeyError")
    assert run.skipped == {"malformed": 1}


def test_event_failing_to_map_in_the_importer_is_a_malformed_skip(
    provider, karl_conn, karl_cal, monkeypatch
):
    from calendar_sync.sync import fieldmap

    karl_cal.create(title="Trasig", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    karl_cal.create(title="Hel", start=at(6), end=at(6, 11), attendees=["k@extern.se"])
    crm_values = fieldmap.crm_values

    def broken(ev, appointment):
        if ev.title == "Trasig":
            raise TypeError("unexpected value")
        return crm_values(ev, appointment)

    monkeypatch.setattr(fieldmap, "crm_values", broken)
    run = sync(karl_conn)
    assert run.skipped == {"malformed": 1}
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Hel"]


def test_event_listed_twice_in_one_page_is_imported_once_as_its_last_version(
    provider, karl_conn, karl_cal, monkeypatch
):
    import dataclasses

    karl_cal.create(title="Ny", start=at(5), end=at(5, 11), attendees=["k@extern.se"])
    adapter_class = type(engine.get_adapter(karl_conn))
    list_changes = adapter_class.list_changes

    def repeating(self, **kw):
        for page in list_changes(self, **kw):
            stale = [dataclasses.replace(ev, title="Gammal") for ev in page.events]
            page.events = [*stale, *page.events]
            yield page

    monkeypatch.setattr(adapter_class, "list_changes", repeating)
    run = sync(karl_conn)
    assert (run.fetched, run.created) == (1, 1)
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Ny"]
    assert EventLink.objects.count() == 1
