from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.http import Http404

from appointments import selectors
from tests.appointments.conftest import make_appointment
from tests.factories import AppointmentTypeFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_list_shows_own_appointments_as_organizer_and_attendee(upcoming, organizer, participant):
    assert list(selectors.appointment_list(user=organizer)) == [upcoming]
    assert list(selectors.appointment_list(user=participant)) == [upcoming]


def test_list_hides_other_reps_appointments_even_with_colleagues(upcoming, outsider):
    assert not selectors.appointment_list(user=outsider, include_colleagues=True).exists()


def test_teammates_see_each_others_appointments_only_with_colleagues(upcoming, outsider, team):
    team.user_set.add(upcoming.organizer, outsider)
    assert not selectors.appointment_list(user=outsider).exists()
    assert list(selectors.appointment_list(user=outsider, include_colleagues=True)) == [upcoming]


def test_sharing_the_sales_reps_role_is_not_a_team(upcoming, outsider):
    assert outsider.groups.filter(name="Sales reps").exists()
    with pytest.raises(Http404):
        selectors.appointment_get(user=outsider, pk=upcoming.pk)


def test_view_all_permission_sees_everything(upcoming, outsider):
    outsider.user_permissions.add(Permission.objects.get(codename="view_all_appointments"))
    outsider = type(outsider).objects.get(pk=outsider.pk)
    assert selectors.appointment_get(user=outsider, pk=upcoming.pk) == upcoming


def test_list_filters_by_overlapping_range(now, organizer):
    inside = make_appointment(organizer, start=now + timedelta(hours=1))
    overlapping_start = make_appointment(organizer, start=now - timedelta(minutes=30))
    make_appointment(organizer, start=now - timedelta(days=1))
    make_appointment(organizer, start=now + timedelta(days=1))
    result = selectors.appointment_list(user=organizer, start=now, end=now + timedelta(hours=8))
    assert set(result) == {inside, overlapping_start}


def test_list_filters_by_type_company_contact_and_participant(
    upcoming, organizer, participant, company, contact, now
):
    other = make_appointment(
        organizer, start=now, appointment_type=AppointmentTypeFactory(name="Lunch")
    )
    assert list(selectors.appointment_list(user=organizer, company=company)) == [upcoming]
    assert list(selectors.appointment_list(user=organizer, contact=contact)) == [upcoming]
    assert list(selectors.appointment_list(user=organizer, participant=participant)) == [upcoming]
    lunch = selectors.appointment_list(user=organizer, appointment_type=other.appointment_type)
    assert list(lunch) == [other]


def test_calendar_list_uses_a_constant_number_of_queries(
    now, organizer, participant, contact, django_assert_max_num_queries
):
    for day in range(10):
        make_appointment(
            organizer, start=now + timedelta(days=day), users=[participant], contacts=[contact]
        )
    with django_assert_max_num_queries(4):
        for a in selectors.appointment_list(user=organizer):
            selectors.appointment_participants(a)
            _ = (a.appointment_type.name, a.organizer.email, a.company)


def test_get_is_404_for_an_invisible_appointment(upcoming, outsider):
    with pytest.raises(Http404):
        selectors.appointment_get(user=outsider, pk=upcoming.pk)


def test_timeline_for_contact_is_newest_first(upcoming, passed, organizer, contact):
    timeline = selectors.appointment_timeline_for_contact(user=organizer, contact=contact)
    assert list(timeline) == [upcoming, passed]


def test_company_appointments_split_into_upcoming_and_past(upcoming, passed, organizer, company):
    by_contact_only = make_appointment(
        organizer,
        start=passed.start - timedelta(days=1),
        contacts=[ContactFactory(company=company)],
    )
    upcoming_qs, past_qs = selectors.appointments_for_company(user=organizer, company=company)
    assert list(upcoming_qs) == [upcoming]
    assert list(past_qs) == [passed, by_contact_only]


def test_participants_list_the_organizer_first_as_accepted(upcoming, organizer, contact):
    upcoming.attendees.create(kind="external", email="gast@partner.se")
    people = selectors.appointment_participants(upcoming)
    assert people[0] == {
        "email": organizer.email,
        "name": "Karl Andersson",
        "kind": "organizer",
        "response": "accepted",
    }
    assert [(p["kind"], p["email"]) for p in people[1:]] == [
        ("user", "eva.lind@exempel.se"),
        ("contact", "johan.ek@acme.se"),
        ("external", "gast@partner.se"),
    ]
    assert people[2]["name"] == contact.name


def test_inactive_user_sees_nothing(upcoming, organizer):
    organizer.is_active = False
    organizer.save()
    assert not selectors.appointment_list(user=organizer).exists()
