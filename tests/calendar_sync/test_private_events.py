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
JOHAN = "johan.ek@acme.se"
STRANGER = "someone@elsewhere.test"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl_activated_at():
    """Karl's calendar connection here was activated a day ago."""
    return timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def johan():
    return ContactFactory(name="Johan Ek", company=CompanyFactory(name="Acme AB"), emails=[JOHAN])


def sync(karl_conn):
    run = engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    assert run is not None and not run.error, run and run.error
    return run


@pytest.fixture
def private_meeting(karl_cal, johan):
    """Karl's own meeting with Johan (a contact) and a stranger, marked private."""
    return karl_cal.create(
        title="Lönesamtal",
        description="Bonus och lön",
        location="Hemma hos Johan",
        start=at(3),
        end=at(3, 11),
        attendees=[JOHAN, STRANGER],
        marked="private",
    )


def wire(karl_cal, event_id: str) -> dict:
    (event,) = [e for e in karl_cal.events() if e["id"] == event_id]
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
    provider, karl_conn, karl_cal, private_meeting, johan
):
    assert karl_conn.private_events == PrivateEvents.PRIVATE
    sync(karl_conn)
    assert_without_details(Appointment.objects.get(), johan)
    assert EventLink.objects.get(provider_event_id=private_meeting["id"]).title == ""


def test_not_logged_skips_a_private_event_with_the_reason(
    provider, karl, karl_conn, karl_cal, private_meeting
):
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.NOT_LOGGED)
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"private": 1}
    link = EventLink.objects.get(provider_event_id=private_meeting["id"])
    assert link.skip_reason == "private" and link.title == ""


def test_logged_normally_keeps_everything_and_the_private_flag(
    provider, karl, karl_conn, karl_cal, private_meeting
):
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.private and not appointment.details_hidden
    assert appointment.title == "Lönesamtal" and appointment.location == "Hemma hos Johan"
    assert appointment.agenda == "Bonus och lön"


def test_an_event_not_marked_private_is_logged_in_full_in_every_mode(
    provider, karl, karl_conn, karl_cal, johan
):
    karl_cal.create(title="Demo", start=at(3), end=at(3, 11), attendees=[JOHAN], marked="none")
    for mode in (PrivateEvents.NOT_LOGGED, PrivateEvents.PRIVATE):
        connection_set_private_events(connection=karl_conn, actor=karl, mode=mode)
        sync(karl_conn)
        appointment = Appointment.objects.get()
        assert appointment.title == "Demo" and not appointment.private


def test_the_crm_never_writes_the_hidden_details_back(
    provider, karl, karl_conn, karl_cal, private_meeting, johan, django_capture_on_commit_callbacks
):
    sync(karl_conn)
    appointment = Appointment.objects.get()
    # Its calendar fields are read-only, with the reason; CRM-only fields are not.
    with pytest.raises(AppointmentPermissionDenied, match="private"):
        appointment_update(appointment=appointment, actor=karl, start=at(4), end=at(4, 11))
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, outcome="completed")
    # The sweep that pushes pending CRM changes, and a full re-read: the event keeps its text.
    assert exporter.export_pending(karl_conn) == {}
    assert "never pushed back" in exporter.export_to(appointment, karl_conn)
    status = connection_status_queryset(CalendarConnection.objects.filter(pk=karl_conn.pk)).get()
    assert status.n_pending == 0 and status.n_failed == 0  # nothing is waiting to be sent
    assert appointment_sync_state(appointment).state == "sent"
    sync(karl_conn)
    event = wire(karl_cal, private_meeting["id"])
    assert (
        karl_cal.title_of(event) == "Lönesamtal"
        and karl_cal.body_of(event).strip() == "Bonus och lön"
    )
    assert karl_cal.marked_private(event)
    appointment.refresh_from_db()
    assert_without_details(appointment, johan)
    assert appointment.outcome == "completed"


def test_a_time_change_in_the_calendar_still_reaches_the_appointment(
    provider, karl_conn, karl_cal, private_meeting, johan
):
    sync(karl_conn)
    karl_cal.update(private_meeting["id"], start=at(5), end=at(5, 11))
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.start == at(5) and appointment.details_hidden


def test_changing_the_setting_applies_to_what_is_logged_already(
    provider, karl, karl_conn, karl_cal, private_meeting, johan
):
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(karl_conn)
    assert Appointment.objects.get().title == "Lönesamtal"
    # normal -> private: scrubbed at once, and the re-read keeps it so
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.PRIVATE)
    assert_without_details(Appointment.objects.get(), johan)
    sync(karl_conn)
    assert_without_details(Appointment.objects.get(), johan)
    # private -> normal: the details come back from the calendar
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.NORMAL)
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert not appointment.details_hidden and appointment.title == "Lönesamtal"
    assert appointment.agenda == "Bonus och lön" and appointment.location == "Hemma hos Johan"
    assert STRANGER in {a.email for a in appointment.attendees.all()}
    # -> not logged: what is logged stays, without its details; nothing new is logged
    connection_set_private_events(connection=karl_conn, actor=karl, mode=PrivateEvents.NOT_LOGGED)
    sync(karl_conn)
    assert_without_details(Appointment.objects.get(), johan)


def test_a_meeting_booked_in_the_crm_as_private_is_private_in_the_calendar(
    provider, karl, karl_conn, karl_cal, johan, sync_type, django_capture_on_commit_callbacks
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
    event = wire(karl_cal, link.provider_event_id)
    assert karl_cal.marked_private(event) and karl_cal.title_of(event) == "Förhandling"
    # A re-read keeps the rep's own text (the setting hides calendar-born details only).
    sync(karl_conn)
    appointment.refresh_from_db()
    assert appointment.title == "Förhandling" and not appointment.details_hidden
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=karl, private=False)
    assert not karl_cal.marked_private(wire(karl_cal, link.provider_event_id))


def test_only_the_rep_changes_their_setting(provider, karl_conn, sync_user):
    eva = sync_user("eva.lind@exempel.se")
    with pytest.raises(PermissionDenied):
        connection_set_private_events(connection=karl_conn, actor=eva, mode=PrivateEvents.NORMAL)


def test_an_unknown_setting_is_refused_and_nothing_changes(provider, karl, karl_conn):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        connection_set_private_events(connection=karl_conn, actor=karl, mode="sometimes")
    karl_conn.refresh_from_db()
    assert karl_conn.private_events == PrivateEvents.PRIVATE
