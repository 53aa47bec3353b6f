from __future__ import annotations

from datetime import timedelta

import pytest

from appointments.models import Appointment, Outcome
from tests.api.conftest import client_for
from tests.factories import AppointmentTypeFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/appointments/"


def detail(appointment) -> str:
    return f"{URL}{appointment.pk}/"


def test_create_returns_the_full_appointment(
    as_organizer, now, meeting_type, contact, company, participant
):
    start = now + timedelta(days=3)
    response = as_organizer.post(
        URL,
        {
            "title": "Demo",
            "appointment_type": meeting_type.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "company": company.pk,
            "contacts": [contact.pk],
            "users": ["EVA.LIND@exempel.se"],
            "external_attendees": ["gast@partner.se"],
            "location": "Sveavägen 44",
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    data = response.data
    assert data["organizer"] == "karl.andersson@exempel.se"
    assert data["users"] == ["eva.lind@exempel.se"]
    assert data["contacts"] == [contact.pk]
    assert data["company"] == company.pk
    assert data["external_attendees"] == ["gast@partner.se"]
    assert [p["kind"] for p in data["participants"]] == ["organizer", "user", "contact", "external"]
    assert data["room"] is None
    assert data["cancelled"] is False
    assert data["outcome"] == "planned"
    assert data["source"] == "crm"


def test_create_with_end_before_start_is_400(as_organizer, now, meeting_type):
    response = as_organizer.post(
        URL,
        {
            "title": "x",
            "appointment_type": meeting_type.pk,
            "start": now.isoformat(),
            "end": (now - timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 400
    assert not Appointment.objects.exists()


def test_create_with_unknown_user_email_is_400(as_organizer, now, meeting_type):
    response = as_organizer.post(
        URL,
        {
            "title": "x",
            "appointment_type": meeting_type.pk,
            "start": now.isoformat(),
            "end": now.isoformat(),
            "users": ["nobody@nowhere.se"],
        },
        format="json",
    )
    assert response.status_code == 400


def test_list_filters_by_range_type_user_company_and_contact(
    as_organizer, upcoming, passed, now, company, contact
):
    def ids(query: str) -> list[int]:
        response = as_organizer.get(URL, query)
        assert response.status_code == 200, response.data
        return [a["id"] for a in response.data["results"]]

    assert ids({}) == [passed.pk, upcoming.pk]
    assert ids({"start": now.isoformat()}) == [upcoming.pk]
    assert ids({"end": now.isoformat()}) == [passed.pk]
    assert ids({"type": upcoming.appointment_type_id, "company": company.pk}) == [
        passed.pk,
        upcoming.pk,
    ]
    assert ids({"contact": contact.pk, "user": "eva.lind@exempel.se"}) == [passed.pk, upcoming.pk]
    lunch = AppointmentTypeFactory(name="Lunch")
    assert ids({"type": lunch.pk}) == []


def test_list_with_naive_start_is_400(as_organizer):
    assert as_organizer.get(URL, {"start": "2025-03-12T09:00:00"}).status_code == 400


def test_list_include_colleagues_shows_teammates_appointments(
    upcoming, outsider, team, as_outsider
):
    team.user_set.add(upcoming.organizer, outsider)
    assert len(as_outsider.get(URL).data["results"]) == 0
    assert len(as_outsider.get(URL, {"include_colleagues": "true"}).data["results"]) == 1
    assert as_outsider.get(detail(upcoming)).status_code == 200


def test_organizer_can_update_and_delete(as_organizer, upcoming):
    response = as_organizer.patch(detail(upcoming), {"location": "Teams"}, format="json")
    assert response.status_code == 200
    assert response.data["location"] == "Teams"
    assert as_organizer.delete(detail(upcoming)).status_code == 204
    assert not Appointment.objects.filter(pk=upcoming.pk).exists()


def test_organizer_can_put_the_whole_appointment(
    as_organizer, upcoming, contact, company, participant
):
    start = upcoming.start + timedelta(hours=1)
    body = {
        "title": "Nytt namn",
        "appointment_type": upcoming.appointment_type_id,
        "start": start.isoformat(),
        "end": (start + timedelta(hours=1)).isoformat(),
        "company": company.pk,
        "contacts": [contact.pk],
        "users": [participant.email],
    }
    response = as_organizer.put(detail(upcoming), body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["title"] == "Nytt namn"
    assert response.data["users"] == [participant.email]


def test_participant_cannot_change_start_of_organizers_appointment_via_api(
    as_participant, upcoming
):
    before = upcoming.start
    new_start = upcoming.start + timedelta(hours=1)
    response = as_participant.patch(
        detail(upcoming),
        {"start": new_start.isoformat(), "end": (new_start + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 403
    assert "Only the organizer" in response.data["detail"]
    upcoming.refresh_from_db()
    assert upcoming.start == before


@pytest.mark.parametrize(
    "body",
    [
        {"location": "Ute"},
        {"agenda": "Ny"},
        {"description": "Ny"},
        {"company": None},
        {"contacts": []},
    ],
)
def test_participant_gets_403_with_reason_for_organizer_only_fields(as_participant, upcoming, body):
    response = as_participant.patch(detail(upcoming), body, format="json")
    assert response.status_code == 403
    assert response.data["detail"]
    fresh = Appointment.objects.get(pk=upcoming.pk)
    assert (fresh.location, fresh.agenda, fresh.company_id) == (
        upcoming.location,
        upcoming.agenda,
        upcoming.company_id,
    )
    assert fresh.attendees.filter(kind="contact").exists()


def test_participant_cannot_delete(as_participant, upcoming):
    response = as_participant.delete(detail(upcoming))
    assert response.status_code == 403
    assert Appointment.objects.filter(pk=upcoming.pk).exists()


def test_passed_appointment_date_is_locked_but_outcome_and_follow_up_work(
    as_organizer, as_participant, passed, now
):
    moved = passed.start + timedelta(days=2)
    response = as_organizer.patch(
        detail(passed),
        {"start": moved.isoformat(), "end": (moved + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 403
    assert "passed" in response.data["detail"]

    response = as_participant.patch(detail(passed), {"outcome": "not_completed"}, format="json")
    assert response.status_code == 200
    assert response.data["outcome"] == Outcome.NOT_COMPLETED

    start = now + timedelta(days=7)
    response = as_organizer.post(
        f"{detail(passed)}follow-up/",
        {"start": start.isoformat(), "end": (start + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["follow_up_of"] == passed.pk
    assert response.data["title"] == passed.title
    assert response.data["contacts"] == [
        c.contact_id for c in passed.attendees.filter(kind="contact")
    ]


def test_locked_appointment_rejects_protected_changes_but_accepts_outcome(as_organizer, locked):
    response = as_organizer.patch(detail(locked), {"location": "Ny"}, format="json")
    assert response.status_code == 403
    assert "locked" in response.data["detail"]
    response = as_organizer.patch(detail(locked), {"outcome": "completed"}, format="json")
    assert response.status_code == 200
    assert response.data["locked"] is True
    assert response.data["lock_reason"] == "a contact invited you"


def test_room_is_exposed_as_name_and_email(as_organizer, upcoming):
    Appointment.objects.filter(pk=upcoming.pk).update(
        room_name="Rum Vasa", room_email="vasa@rum.se"
    )
    assert as_organizer.get(detail(upcoming)).data["room"] == {
        "name": "Rum Vasa",
        "email": "vasa@rum.se",
    }


def test_outsider_cannot_see_or_touch_someone_elses_appointment(as_outsider, upcoming, now):
    url = detail(upcoming)
    assert len(as_outsider.get(URL, {"include_colleagues": "1"}).data["results"]) == 0
    assert as_outsider.get(url).status_code == 404
    assert as_outsider.patch(url, {"outcome": "cancelled"}, format="json").status_code == 404
    assert as_outsider.put(url, {}, format="json").status_code == 404
    assert as_outsider.delete(url).status_code == 404
    response = as_outsider.post(
        f"{url}follow-up/", {"start": now.isoformat(), "end": now.isoformat()}
    )
    assert response.status_code == 404
    upcoming.refresh_from_db()
    assert upcoming.outcome == Outcome.PLANNED


def test_cannot_attach_a_contact_or_company_one_cannot_see(now, meeting_type, contact, company):
    stranger = UserFactory(sales_rep=False)
    from django.contrib.auth.models import Permission

    stranger.user_permissions.add(Permission.objects.get(codename="add_appointment"))
    client = client_for(stranger)
    base = {
        "title": "x",
        "appointment_type": meeting_type.pk,
        "start": now.isoformat(),
        "end": now.isoformat(),
    }
    assert client.post(URL, {**base, "contacts": [contact.pk]}, format="json").status_code == 400
    assert client.post(URL, {**base, "company": company.pk}, format="json").status_code == 400
    assert client.post(URL, base, format="json").status_code == 201


def test_list_is_a_constant_number_of_queries(
    as_organizer, organizer, participant, now, django_assert_max_num_queries
):
    from tests.appointments.conftest import make_appointment

    for day in range(8):
        make_appointment(
            organizer,
            start=now + timedelta(days=day),
            users=[participant],
            contacts=[ContactFactory()],
        )
    with django_assert_max_num_queries(8):
        assert len(as_organizer.get(URL).data["results"]) == 8
