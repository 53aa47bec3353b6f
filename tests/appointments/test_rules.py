from __future__ import annotations

from datetime import timedelta

import pytest

from appointments import rules
from appointments.models import Appointment
from calendar_sync.providers.registry import PROVIDERS

pytestmark = pytest.mark.django_db


def test_protected_fields_cover_date_time_place_agenda_company_participants_description():
    expected = {"start", "end", "all_day", "location", "agenda", "company", "description"}
    expected |= {"contacts", "users", "external_emails", "room_name", "room_email"}
    assert expected == rules.PROTECTED_FIELDS


def test_is_passed_once_the_end_is_before_now(upcoming, now):
    assert not rules.is_passed(upcoming, now)
    assert rules.is_passed(upcoming, upcoming.end + timedelta(seconds=1))
    assert not rules.is_passed(upcoming, upcoming.end)


def test_is_organizer_only_for_the_organizer(upcoming, organizer, participant):
    assert rules.is_organizer(upcoming, organizer)
    assert not rules.is_organizer(upcoming, participant)


def test_can_change_field_allows_the_organizer_to_move_an_upcoming_appointment(
    upcoming, organizer, now
):
    assert rules.can_change_field(upcoming, organizer, "start", now).allowed


@pytest.mark.parametrize("field", sorted(rules.ORGANIZER_ONLY_FIELDS))
def test_can_change_field_refuses_a_participant_every_organizer_only_field(
    upcoming, participant, now, field
):
    decision = rules.can_change_field(upcoming, participant, field, now)
    assert not decision.allowed
    assert "Only the organizer" in decision.reason


def test_can_change_field_refuses_date_of_a_passed_appointment_even_to_the_organizer(
    passed, organizer, now
):
    decision = rules.can_change_field(passed, organizer, "end", now)
    assert not decision.allowed
    assert "passed" in decision.reason


def test_can_change_field_allows_place_of_a_passed_appointment_to_the_organizer(
    passed, organizer, now
):
    assert rules.can_change_field(passed, organizer, "location", now).allowed


def test_can_change_field_refuses_protected_fields_of_a_locked_appointment_to_everyone(
    locked, organizer, now
):
    decision = rules.can_change_field(locked, organizer, "location", now)
    assert not decision.allowed
    assert "locked" in decision.reason


def test_can_set_outcome_allows_participants_but_not_outsiders(
    passed, organizer, participant, outsider, now
):
    assert rules.can_set_outcome(passed, organizer, now).allowed
    assert rules.can_set_outcome(passed, participant, now).allowed
    assert not rules.can_set_outcome(passed, outsider, now).allowed


def test_can_create_follow_up_for_participants_only(passed, participant, outsider, now):
    assert rules.can_create_follow_up(passed, participant, now).allowed
    assert not rules.can_create_follow_up(passed, outsider, now).allowed


def _sees(user, appointment) -> bool:
    wanted = rules.visible_filter(user)
    qs = Appointment.objects.all() if wanted is None else Appointment.objects.filter(wanted)
    return qs.filter(pk=appointment.pk).exists()


def test_visible_filter_for_participants_teammates_and_view_all_holders(
    upcoming, organizer, participant, outsider, team
):
    assert _sees(organizer, upcoming)
    assert _sees(participant, upcoming)
    assert not _sees(outsider, upcoming)
    team.user_set.add(organizer, outsider)
    assert _sees(outsider, upcoming)


def test_visible_filter_with_view_all_appointments_permission(upcoming, outsider):
    from django.contrib.auth.models import Permission

    outsider.user_permissions.add(Permission.objects.get(codename="view_all_appointments"))
    outsider = type(outsider).objects.get(pk=outsider.pk)  # fresh permission cache
    assert rules.visible_filter(outsider) is None
    assert _sees(outsider, upcoming)


def test_visible_filter_a_shared_role_is_not_a_team(upcoming, organizer, outsider):
    from appointments.services import sales_reps_group_ensure

    role = sales_reps_group_ensure()  # a group that grants permissions
    role.user_set.add(organizer, outsider)
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert not _sees(outsider, upcoming)


def test_can_delete_only_for_the_organizer(upcoming, organizer, participant):
    assert rules.can_delete(upcoming, organizer).allowed
    assert not rules.can_delete(upcoming, participant).allowed


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_can_request_video_only_from_a_calendar_that_makes_video_meetings(provider):
    spec = PROVIDERS[provider]
    decision = rules.can_request_video(spec)
    assert decision.allowed is spec.has_video()
    if not decision.allowed:
        assert str(spec.label) in decision.reason


def test_can_request_video_refused_without_a_calendar():
    decision = rules.can_request_video(None)
    assert not decision.allowed
    assert decision.reason == (
        "The organizer has no calendar connected, so no video meeting can be added."
    )


def test_takes_time_of(db):
    from appointments.models import Outcome, Response
    from tests.factories import AppointmentFactory, AttendeeFactory, UserFactory

    eva = UserFactory()
    meeting = AppointmentFactory()
    attendance = AttendeeFactory(appointment=meeting, user=eva)
    assert rules.takes_time_of(meeting, meeting.organizer_id)
    assert rules.takes_time_of(meeting, eva.pk)
    assert not rules.takes_time_of(meeting, UserFactory().pk)
    attendance.response = Response.DECLINED
    attendance.save()
    assert not rules.takes_time_of(meeting, eva.pk)
    assert rules.takes_time_of(meeting, meeting.organizer_id)
    for outcome in (Outcome.CANCELLED, Outcome.REBOOKED):
        meeting.outcome = outcome
        assert not rules.takes_time_of(meeting, meeting.organizer_id)
    meeting.outcome = Outcome.PLANNED
    meeting.all_day = True
    assert not rules.takes_time_of(meeting, meeting.organizer_id)


def test_end_day_offset():
    from datetime import time

    assert rules.end_day_offset(time(10), time(11)) == 0
    assert rules.end_day_offset(time(23), time(0)) == 1  # the late-evening default
    assert rules.end_day_offset(time(22), time(1)) == 1
    assert rules.end_day_offset(time(14), time(13)) is None  # a mistake, not 23 hours
    assert rules.end_day_offset(time(10), time(11), span_days=2) == 2  # a multi-day import
    assert rules.end_day_offset(time(22), time(1), span_days=1) == 1
