"""What the sync sees, as the API, the admin and the pages read it: an appointment's sync state
(in the calendar / waiting / failed / not synced) and a connection's status, over the emulator
through the real adapters."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_create, appointment_update
from calendar_sync import selectors, services, tasks
from calendar_sync.models import ExportFailure
from calendar_sync.selectors import SyncState
from calendar_sync.sync import engine
from tests.factories import AppointmentFactory, UserFactory

from .actors import actor_class
from .conftest import PROVIDERS

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def karl(sync_user):
    return sync_user("karl.andersson@exempel.se", first_name="Karl")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def cal(provider, conn, sync_actor):
    return sync_actor(provider, conn.account_email)


@pytest.fixture
def book(karl, sync_type, django_capture_on_commit_callbacks):
    def make(**kw):
        fields = {
            "organizer": karl,
            "title": "Demo",
            "appointment_type": sync_type,
            "start": at(2),
            "end": at(2, 11),
            "external_emails": ["kund@extern.se"],
            **kw,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return appointment_create(**fields)

    return make


def fault(emulator, provider: str, kind: str = "500", count: int = 20) -> None:
    requests.post(
        f"{emulator.url}/_emulator/faults",
        json={"kind": kind, "count": count, "provider": provider},
        timeout=5,
    ).raise_for_status()


def clear_faults(emulator) -> None:
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=5).raise_for_status()


def state_of(appointment: Appointment) -> selectors.AppointmentSyncState:
    return selectors.appointment_sync_state(Appointment.objects.get(pk=appointment.pk))


def test_a_booked_appointment_is_in_the_calendar_with_its_event(provider, conn, cal, book):
    appointment = book()
    state = state_of(appointment)
    [event] = cal.events()
    assert state.state == SyncState.SENT and state.error == ""
    [linked] = state.events
    assert linked.provider == provider and linked.account_email == conn.account_email
    assert linked.event_id == event["id"]
    assert linked.ical_uid == event[actor_class(provider).ical_uid_key]
    assert linked.web_link.startswith("https://") or not actor_class(provider).web_links
    assert linked.web_link == event[actor_class(provider).web_link_key]


def test_an_imported_meeting_keeps_its_web_link(provider, conn, cal):
    cal.create(title="Möte", start=at(3), end=at(3, 11), attendees=["kund@extern.se"])
    engine.sync_connection(conn.pk, trigger="test", full=True)
    appointment = Appointment.objects.get()
    [linked] = state_of(appointment).events
    assert linked.web_link.startswith("https://") or not actor_class(provider).web_links
    assert state_of(appointment).state == SyncState.SENT


def test_a_change_not_pushed_yet_is_waiting(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    appointment = book()
    with django_capture_on_commit_callbacks(execute=False):  # the export task has not run
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    assert state_of(appointment).state == SyncState.WAITING
    tasks.sync_connection(conn.pk, trigger="schedule")  # the poll's sweep pushes it
    assert state_of(appointment).state == SyncState.SENT


def test_a_failed_push_is_failed_with_its_error_until_the_sweep_sends_it(
    provider, conn, cal, book, karl, emulator, adapter_retry_sleeps,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    appointment = book()
    fault(emulator, provider)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    clear_faults(emulator)
    state = state_of(appointment)
    assert state.state == SyncState.FAILED
    assert "500" in state.error or "Server" in state.error
    assert ExportFailure.objects.filter(appointment=appointment, connection=conn).exists()
    tasks.sync_connection(conn.pk, trigger="schedule")
    assert state_of(appointment).state == SyncState.SENT
    assert not ExportFailure.objects.exists()  # a successful push clears it


def test_a_new_booking_whose_create_failed_is_failed(
    provider, conn, cal, book, emulator, adapter_retry_sleeps
):
    fault(emulator, provider)
    appointment = book()
    clear_faults(emulator)
    state = state_of(appointment)
    assert state.state == SyncState.FAILED and state.error and state.events == ()
    assert cal.events() == []


def test_a_change_after_a_failure_is_waiting_again(
    provider, conn, cal, book, karl, emulator, adapter_retry_sleeps,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    fault(emulator, provider)
    appointment = book()
    clear_faults(emulator)
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    assert state_of(appointment).state == SyncState.WAITING


def test_pending_changes_of_a_parked_connection_have_failed(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    appointment = book()
    services.connection_mark_needs_reconnect(connection=conn, reason="Access was revoked.")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    state = state_of(appointment)
    assert state.state == SyncState.FAILED and state.error == "Access was revoked."
    assert len(state.events) == 1  # the event is still there, with the old version


def test_without_a_calendar_or_in_the_past_it_is_not_synced(sync_type):
    rep = UserFactory()
    upcoming = AppointmentFactory(organizer=rep, appointment_type=sync_type, start=at(2),
                                  end=at(2, 11))  # fmt: skip
    state = selectors.appointment_sync_state(upcoming)
    assert state.state == SyncState.NOT_SYNCED
    assert state.error == "organizer has no active calendar connection"


def test_a_passed_appointment_of_a_connected_rep_is_not_synced(provider, conn, karl, sync_type):
    past = AppointmentFactory(organizer=karl, appointment_type=sync_type, start=at(-2),
                              end=at(-2, 11))  # fmt: skip
    state = selectors.appointment_sync_state(past)
    assert state.state == SyncState.NOT_SYNCED and state.error == "back-dated or passed"


def test_sync_states_of_a_list_take_three_queries(
    provider, conn, cal, book, django_assert_num_queries
):
    for day in (2, 3, 4, 5):
        book(start=at(day), end=at(day, 11))
    other = UserFactory()
    AppointmentFactory(organizer=other, start=at(2), end=at(2, 11))
    appointments = list(Appointment.objects.all())
    with django_assert_num_queries(3):
        states = selectors.appointment_sync_states(appointments)
    assert sorted(s.state for s in states.values()) == [SyncState.NOT_SYNCED] + [SyncState.SENT] * 4


def test_connection_status_counts_and_attention(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    book()
    waiting = book(start=at(3), end=at(3, 11))
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(appointment=waiting, actor=karl, title="Ändrad")
    cal.create(title="Intern", start=at(4), end=at(4, 11), attendees=["eva@exempel.se"])
    engine.sync_connection(conn.pk, trigger="test", full=False)
    status = selectors.connection_status(conn)
    assert status.counts == {"linked": 2, "skipped_upcoming": 1, "waiting": 1, "failed": 0}
    assert status.state == "active" and not status.needs_attention
    assert status.last_sync_at is not None and status.last_run["fetched"] >= 1
    services.connection_mark_needs_reconnect(connection=conn, reason="revoked")
    assert selectors.connection_status(conn).needs_attention


def test_connection_statuses_of_many_take_one_query(
    provider, conn, sync_connect, sync_user, django_assert_num_queries
):
    sync_connect(provider, sync_user("eva.lind@exempel.se"))
    qs = selectors.live_connections()
    with django_assert_num_queries(1):
        statuses = selectors.connection_statuses(qs)
    assert len(statuses) == 2
    assert all(s.next_poll_at is not None for s in statuses)  # the 10-minute poll


def test_sync_calendars_pushes_pending_crm_changes_like_the_worker(
    provider, conn, cal, book, karl, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    appointment = book()
    with django_capture_on_commit_callbacks(execute=False):  # the push never ran
        appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    out = StringIO()
    call_command("sync_calendars", "--no-push", stdout=out, stderr=StringIO())
    assert "pushed (pending CRM changes): 0" in out.getvalue()
    assert state_of(appointment).state == SyncState.WAITING
    out = StringIO()
    call_command("sync_calendars", "--user", karl.email, stdout=out, stderr=StringIO())
    assert "pushed (pending CRM changes): 1" in out.getvalue()
    [event] = cal.events()
    assert actor_class(provider).title_of(event) == "Demo v2"
    assert state_of(appointment).state == SyncState.SENT
