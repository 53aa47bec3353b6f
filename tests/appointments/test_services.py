from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from appointments import services
from appointments.calendar_changes import AppointmentUpdate, CalendarChanges
from appointments.models import Appointment, AttendeeKind, Outcome, Response
from appointments.services import AppointmentPermissionDenied
from appointments.signals import appointment_changed
from tests.factories import AppointmentTypeFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signals():
    received = []

    def listener(sender, **kwargs):
        received.append(kwargs)

    appointment_changed.connect(listener)
    yield received
    appointment_changed.disconnect(listener)


def _snapshot(appointment: Appointment) -> dict:
    fresh = Appointment.objects.get(pk=appointment.pk)
    attendees = sorted(fresh.attendees.values_list("kind", "user_id", "contact_id", "email"))
    return {
        **{f: getattr(fresh, f) for f in ("title", "start", "end", "location", "outcome")},
        "company_id": fresh.company_id,
        "attendees": attendees,
    }


# --- create ---------------------------------------------------------------------------------


def test_create_adds_user_contact_and_external_attendees_but_not_the_organizer(
    now, organizer, participant, contact, meeting_type
):
    appointment = services.appointment_create(
        organizer=organizer,
        title="Demo",
        appointment_type=meeting_type,
        start=now + timedelta(days=1),
        end=now + timedelta(days=1, hours=1),
        contacts=[contact],
        users=[participant, organizer],
        external_emails=["Extern@Partner.se"],
    )
    rows = {(a.kind, a.email) for a in appointment.attendees.all()}
    assert rows == {
        (AttendeeKind.USER, "eva.lind@exempel.se"),
        (AttendeeKind.CONTACT, "johan.ek@acme.se"),
        (AttendeeKind.EXTERNAL, "extern@partner.se"),
    }


def test_create_gives_a_contact_without_email_a_blank_address(now, organizer, meeting_type):
    silent = ContactFactory(emails=[])
    appointment = services.appointment_create(
        organizer=organizer,
        title="Besök",
        appointment_type=meeting_type,
        start=now,
        end=now,
        contacts=[silent],
    )
    assert appointment.attendees.get().email == ""


def test_create_refuses_an_end_before_the_start(now, organizer, meeting_type):
    with pytest.raises(ValidationError):
        services.appointment_create(
            organizer=organizer,
            title="Bakvänt",
            appointment_type=meeting_type,
            start=now,
            end=now - timedelta(minutes=1),
        )
    assert not Appointment.objects.exists()


def test_create_refuses_an_inactive_type(now, organizer):
    old = AppointmentTypeFactory(name="Fax", active=False)
    with pytest.raises(ValidationError):
        services.appointment_create(
            organizer=organizer, title="x", appointment_type=old, start=now, end=now
        )


def test_create_refuses_a_user_without_add_permission(now, meeting_type):
    nobody = UserFactory(sales_rep=False)
    with pytest.raises(PermissionDenied):
        services.appointment_create(
            organizer=nobody, title="x", appointment_type=meeting_type, start=now, end=now
        )


def test_create_sends_created_signal_after_commit(
    now, organizer, meeting_type, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = services.appointment_create(
            organizer=organizer, title="x", appointment_type=meeting_type, start=now, end=now
        )
    assert signals == [
        {
            "signal": appointment_changed,
            "appointment_id": appointment.pk,
            "action": "created",
            "changed_fields": [],
            "actor_id": organizer.pk,
            "origin": "crm",
        }
    ]


# --- organizer-only fields ----------------------------------------------------------------


def test_organizer_can_move_an_upcoming_appointment(upcoming, organizer, now):
    new_start = upcoming.start + timedelta(hours=2)
    services.appointment_update(
        appointment=upcoming, actor=organizer, start=new_start, end=new_start + timedelta(hours=1)
    )
    upcoming.refresh_from_db()
    assert upcoming.start == new_start


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("location", "Någon annanstans"),
        ("agenda", "Ny agenda"),
        ("description", "Ny beskrivning"),
        ("title", "Nytt namn"),
        ("company", None),
        ("external_emails", ["ny@partner.se"]),
    ],
)
def test_participant_cannot_change_organizer_only_fields(upcoming, participant, field, value):
    before = _snapshot(upcoming)
    with pytest.raises(AppointmentPermissionDenied) as excinfo:
        services.appointment_update(appointment=upcoming, actor=participant, **{field: value})
    assert "Only the organizer" in excinfo.value.reason
    assert _snapshot(upcoming) == before


def test_participant_cannot_change_start_of_organizers_appointment(upcoming, participant):
    before = _snapshot(upcoming)
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_update(
            appointment=upcoming, actor=participant, start=upcoming.start + timedelta(hours=1)
        )
    assert _snapshot(upcoming) == before


def test_participant_cannot_remove_contacts(upcoming, participant):
    before = _snapshot(upcoming)
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_update(appointment=upcoming, actor=participant, contacts=[])
    assert _snapshot(upcoming) == before


def test_participant_may_resubmit_unchanged_values_with_a_new_outcome(upcoming, participant):
    services.appointment_update(
        appointment=upcoming,
        actor=participant,
        title=upcoming.title,
        start=upcoming.start,
        location=upcoming.location,
        users=[participant],
        outcome=Outcome.COMPLETED,
    )
    upcoming.refresh_from_db()
    assert upcoming.outcome == Outcome.COMPLETED


def test_a_forbidden_field_in_a_mixed_update_changes_nothing(upcoming, participant):
    before = _snapshot(upcoming)
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_update(
            appointment=upcoming, actor=participant, outcome=Outcome.COMPLETED, location="Ute"
        )
    assert _snapshot(upcoming) == before


def test_update_signals_only_the_changed_fields(
    upcoming, organizer, signals, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_update(
            appointment=upcoming, actor=organizer, title=upcoming.title, location="Ny plats"
        )
    assert [(s["action"], s["changed_fields"]) for s in signals] == [("updated", ["location"])]


def test_organizer_replacing_users_keeps_remaining_attendees_responses(
    upcoming, organizer, participant
):
    upcoming.attendees.filter(user=participant).update(response=Response.DECLINED)
    newcomer = UserFactory()
    services.appointment_update(
        appointment=upcoming, actor=organizer, users=[participant, newcomer]
    )
    responses = dict(upcoming.attendees.filter(kind="user").values_list("user_id", "response"))
    assert responses == {participant.pk: Response.DECLINED, newcomer.pk: Response.NO_ANSWER}


# --- passed appointments ------------------------------------------------------------------


def test_organizer_cannot_change_the_date_of_a_passed_appointment(passed, organizer):
    before = _snapshot(passed)
    with pytest.raises(AppointmentPermissionDenied) as excinfo:
        services.appointment_update(
            appointment=passed, actor=organizer, start=passed.start + timedelta(days=3)
        )
    assert "passed" in excinfo.value.reason
    assert _snapshot(passed) == before


@pytest.mark.parametrize("outcome", [Outcome.NOT_COMPLETED, Outcome.COMPLETED])
def test_participant_can_set_the_outcome_of_a_passed_appointment(passed, participant, outcome):
    services.appointment_set_outcome(appointment=passed, actor=participant, outcome=outcome)
    passed.refresh_from_db()
    assert passed.outcome == outcome


def test_outsider_cannot_set_the_outcome(passed, outsider):
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_set_outcome(
            appointment=passed, actor=outsider, outcome=Outcome.NOT_COMPLETED
        )


def test_unknown_outcome_is_refused(passed, organizer):
    with pytest.raises(ValidationError):
        services.appointment_set_outcome(appointment=passed, actor=organizer, outcome="maybe")


def test_follow_up_of_a_passed_appointment_is_created_in_one_step(
    passed, participant, organizer, contact, now
):
    passed.attendees.create(kind=AttendeeKind.EXTERNAL, email="gast@partner.se")
    services.appointment_set_outcome(
        appointment=passed, actor=organizer, outcome=Outcome.NOT_COMPLETED
    )
    start = now + timedelta(days=7)
    follow_up = services.appointment_create_follow_up(
        appointment=passed, actor=organizer, start=start, end=start + timedelta(hours=1)
    )
    assert follow_up.follow_up_of == passed
    assert follow_up.organizer == organizer
    assert (follow_up.title, follow_up.appointment_type, follow_up.company) == (
        passed.title,
        passed.appointment_type,
        passed.company,
    )
    assert follow_up.location == passed.location
    assert {(a.kind, a.email) for a in follow_up.attendees.all()} == {
        ("user", participant.email),
        ("contact", contact.primary_email),
        ("external", "gast@partner.se"),
    }


def test_participant_creating_a_follow_up_becomes_organizer_and_invites_the_old_one(
    passed, participant, organizer, now
):
    start = now + timedelta(days=7)
    follow_up = services.appointment_create_follow_up(
        appointment=passed, actor=participant, start=start, end=start, title="Ny tid"
    )
    assert follow_up.organizer == participant
    assert follow_up.title == "Ny tid"
    users = set(follow_up.attendees.filter(kind="user").values_list("user_id", flat=True))
    assert users == {organizer.pk}


def test_outsider_cannot_create_a_follow_up(passed, outsider, now):
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_create_follow_up(
            appointment=passed, actor=outsider, start=now, end=now
        )


# --- locked appointments ------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"location": "Ny plats"},
        {"agenda": "Ny agenda"},
        {"description": "x"},
        {"contacts": []},
        {"external_emails": ["ny@partner.se"]},
    ],
)
def test_nobody_can_change_protected_fields_of_a_locked_appointment(locked, organizer, changes):
    before = _snapshot(locked)
    with pytest.raises(AppointmentPermissionDenied) as excinfo:
        services.appointment_update(appointment=locked, actor=organizer, **changes)
    assert "locked" in excinfo.value.reason
    assert _snapshot(locked) == before


def test_locked_appointment_date_cannot_be_moved(locked, organizer):
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_update(
            appointment=locked, actor=organizer, start=locked.start + timedelta(hours=1)
        )


def test_outcome_of_a_locked_appointment_can_still_be_set(locked, participant):
    services.appointment_set_outcome(
        appointment=locked, actor=participant, outcome=Outcome.CANCELLED
    )
    locked.refresh_from_db()
    assert locked.outcome == Outcome.CANCELLED


# --- delete and responses -----------------------------------------------------------------


def test_only_the_organizer_can_delete(
    upcoming, organizer, participant, signals, django_capture_on_commit_callbacks
):
    with pytest.raises(AppointmentPermissionDenied):
        services.appointment_delete(appointment=upcoming, actor=participant)
    pk = upcoming.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_delete(appointment=upcoming, actor=organizer)
    assert not Appointment.objects.filter(pk=pk).exists()
    assert signals[-1]["action"] == "deleted"
    assert signals[-1]["appointment_id"] == pk


def test_declining_keeps_the_attendee_on_the_appointment(upcoming, participant):
    row = upcoming.attendees.get(user=participant)
    services.appointment_apply_calendar_changes(
        changes=CalendarChanges(responses={row.pk: Response.DECLINED})
    )
    assert upcoming.attendees.get(user=participant).response == Response.DECLINED


def test_calendar_changes_bypass_the_lock_and_are_signalled_with_calendar_origin(
    locked, signals, django_capture_on_commit_callbacks
):
    new_start = locked.start + timedelta(hours=2)
    values = {
        "start": new_start,
        "end": new_start + timedelta(hours=1),
        "location": "Flyttat",
        "cancelled_at": new_start,
        "title": locked.title,  # unchanged: not announced
    }
    with django_capture_on_commit_callbacks(execute=True):
        services.appointment_apply_calendar_changes(
            changes=CalendarChanges(update=[AppointmentUpdate(locked, values)])
        )
    locked.refresh_from_db()
    assert (locked.start, locked.location) == (new_start, "Flyttat")
    assert signals[-1]["origin"] == "calendar"
    assert signals[-1]["actor_id"] is None
    assert set(signals[-1]["changed_fields"]) == {"start", "end", "location", "cancelled_at"}


def test_calendar_changes_still_validate_times(locked):
    update = AppointmentUpdate(locked, {"end": locked.start - timedelta(hours=1)})
    with pytest.raises(ValidationError):
        services.appointment_apply_calendar_changes(changes=CalendarChanges(update=[update]))
