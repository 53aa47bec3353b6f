"""Private events (issue 15, item 3), over the emulator for Google and Microsoft through the
real client libraries: each rep chooses per connection whether an event marked private in the
calendar is not logged, logged as "Private appointment" (the default: time, company, contacts
and users, no title, agenda, place or video link) or logged normally; the CRM never writes the
hidden details back; a CRM-booked meeting marked private is private in the calendar."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from appointments.models import Appointment, AttendeeKind
from appointments.services import (
    AppointmentPermissionDenied,
    appointment_create,
    appointment_update,
)
from calendar_sync.models import CalendarConnection, EventLink, PrivateEvents
from calendar_sync.selectors import appointment_sync_state, connection_status_queryset
from calendar_sync.services import connection_set_private_events
from calendar_sync.sync import engine, exporter
from tests.factories import CompanyFactory, ContactFactory

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = "karl.andersson@exempel.se"
JOHAN = "johan.ek@acme.se"
STRANGER = "someone@elsewhere.test"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl(sync_user):
    return sync_user(KARL, first_name="Karl")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def cal(provider, conn, sync_actor):
    return sync_actor(provider, KARL)


@pytest.fixture
def johan():
    return ContactFactory(name="Johan Ek", company=CompanyFactory(name="Acme AB"), emails=[JOHAN])


def sync(conn):
    run = engine.sync_connection(conn.pk, trigger="test", full=True)
    assert run is not None and not run.error, run and run.error
    return run


@pytest.fixture
def private_meeting(cal, johan):
    """Karl's own meeting with Johan (a contact) and a stranger, marked private."""
    return cal.create(
        title="Lönesamtal",
        description="Bonus och lön",
        location="Hemma hos Johan",
        start=at(3),
        end=at(3, 11),
        attendees=[JOHAN, STRANGER],
        marked="private",
    )


def wire(cal, event_id: str) -> dict:
    (event,) = [e for e in cal.events() if e["id"] == event_id]
    return event


def assert_without_details(appointment: Appointment, johan) -> None:
    assert appointment.details_hidden and appointment.private
    assert appointment.title == "" and str(appointment) == "Private appointment"
    assert appointment.agenda == appointment.location == appointment.video_link == ""
    assert appointment.company_id == johan.company_id
    assert appointment.start == at(3)
    kinds = {(a.kind, a.contact_id) for a in appointment.attendees.all()}
    assert kinds == {(AttendeeKind.CONTACT, johan.pk)}  # no address that matched nobody


def test_by_default_a_private_event_is_logged_without_its_details(
    provider, conn, cal, private_meeting, johan
):
    assert conn.private_events == PrivateEvents.PRIVATE
    sync(conn)
    assert_without_details(Appointment.objects.get(), johan)
    assert EventLink.objects.get(provider_event_id=private_meeting["id"]).title == ""


def test_not_logged_skips_a_private_event_with_the_reason(
    provider, karl, conn, cal, private_meeting
):
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.NOT_LOGGED)
    run = sync(conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"private": 1}
    link = EventLink.objects.get(provider_event_id=private_meeting["id"])
    assert link.skip_reason == "private" and link.title == ""


def test_logged_normally_keeps_everything_and_the_private_flag(
    provider, karl, conn, cal, private_meeting
):
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(conn)
    appointment = Appointment.objects.get()
    assert appointment.private and not appointment.details_hidden
    assert appointment.title == "Lönesamtal" and appointment.location == "Hemma hos Johan"
    assert appointment.agenda == "Bonus och lön"


def test_an_event_not_marked_private_is_logged_in_full_in_every_mode(
    provider, karl, conn, cal, johan
):
    cal.create(title="Demo", start=at(3), end=at(3, 11), attendees=[JOHAN], marked="none")
    for mode in (PrivateEvents.NOT_LOGGED, PrivateEvents.PRIVATE):
        connection_set_private_events(connection=conn, actor=karl, mode=mode)
        sync(conn)
        appointment = Appointment.objects.get()
        assert appointment.title == "Demo" and not appointment.private


def test_the_crm_never_writes_the_hidden_details_back(
    provider, karl, conn, cal, private_meeting, johan, django_capture_on_commit_callbacks
):
    sync(conn)
    appointment = Appointment.objects.get()
    # Its calendar fields are read-only, with the reason; CRM-only fields are not.
    with pytest.raises(AppointmentPermissionDenied, match="private"):
        appointment_update(appointment=appointment, actor=karl, start=at(4), end=at(4, 11))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, outcome="completed")
    # The sweep that pushes pending CRM changes, and a full re-read: the event keeps its text.
    assert exporter.export_pending(conn) == {}
    assert "never pushed back" in exporter.export_to(appointment, conn)
    status = connection_status_queryset(CalendarConnection.objects.filter(pk=conn.pk)).get()
    assert status.n_pending == 0 and status.n_failed == 0  # nothing is waiting to be sent
    assert appointment_sync_state(appointment).state == "sent"
    sync(conn)
    event = wire(cal, private_meeting["id"])
    assert cal.title_of(event) == "Lönesamtal" and cal.body_of(event).strip() == "Bonus och lön"
    assert cal.marked_private(event)
    appointment.refresh_from_db()
    assert_without_details(appointment, johan)
    assert appointment.outcome == "completed"


def test_a_time_change_in_the_calendar_still_reaches_the_appointment(
    provider, conn, cal, private_meeting, johan
):
    sync(conn)
    cal.update(private_meeting["id"], start=at(5), end=at(5, 11))
    sync(conn)
    appointment = Appointment.objects.get()
    assert appointment.start == at(5) and appointment.details_hidden


def test_changing_the_setting_applies_to_what_is_logged_already(
    provider, karl, conn, cal, private_meeting, johan
):
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(conn)
    assert Appointment.objects.get().title == "Lönesamtal"
    # normal -> private: scrubbed at once, and the re-read keeps it so
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.PRIVATE)
    assert_without_details(Appointment.objects.get(), johan)
    sync(conn)
    assert_without_details(Appointment.objects.get(), johan)
    # private -> normal: the details come back from the calendar
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(conn)
    appointment = Appointment.objects.get()
    assert not appointment.details_hidden and appointment.title == "Lönesamtal"
    assert appointment.agenda == "Bonus och lön" and appointment.location == "Hemma hos Johan"
    assert STRANGER in {a.email for a in appointment.attendees.all()}
    # -> not logged: what is logged stays, without its details; nothing new is logged
    connection_set_private_events(connection=conn, actor=karl, mode=PrivateEvents.NOT_LOGGED)
    sync(conn)
    assert_without_details(Appointment.objects.get(), johan)


def test_a_meeting_booked_in_the_crm_as_private_is_private_in_the_calendar(
    provider, karl, conn, cal, johan, sync_type, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = appointment_create(
            organizer=karl,
            title="Förhandling",
            appointment_type=sync_type,
            start=at(2),
            end=at(2, 11),
            contacts=[johan],
            private=True,
        )
    link = EventLink.objects.get(appointment=appointment)
    event = wire(cal, link.provider_event_id)
    assert cal.marked_private(event) and cal.title_of(event) == "Förhandling"
    # A re-read keeps the rep's own text (the setting hides calendar-born details only).
    sync(conn)
    appointment.refresh_from_db()
    assert appointment.title == "Förhandling" and not appointment.details_hidden
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, private=False)
    assert not cal.marked_private(wire(cal, link.provider_event_id))


def test_only_the_rep_changes_their_setting(provider, conn, sync_user):
    eva = sync_user("eva.lind@exempel.se")
    with pytest.raises(PermissionDenied):
        connection_set_private_events(connection=conn, actor=eva, mode=PrivateEvents.NORMAL)


def test_an_unknown_setting_is_refused_and_nothing_changes(provider, karl, conn):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        connection_set_private_events(connection=conn, actor=karl, mode="sometimes")
    conn.refresh_from_db()
    assert conn.private_events == PrivateEvents.PRIVATE
