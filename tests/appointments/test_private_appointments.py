"""Private appointments in the CRM (issue 15, item 3): a private meeting shows its details to
its organizer and participating users only; everyone else (and everyone, for a private event
logged without its details) sees "Private appointment" with its time, company and participants,
on every page, in the calendar feed and in the API, and the hidden values are never saved."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from appointments import rules, selectors
from appointments.models import Appointment
from tests.api.conftest import client_for

from .conftest import make_appointment

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(outsider):
    """Someone who sees every appointment, but neither organises nor attends this one."""
    outsider.user_permissions.add(Permission.objects.get(codename="view_all_appointments"))
    return outsider.__class__.objects.get(pk=outsider.pk)


@pytest.fixture
def private(now, organizer, participant, contact, company, meeting_type):
    return make_appointment(
        organizer,
        start=now + timedelta(days=1),
        users=[participant],
        contacts=[contact],
        company=company,
        appointment_type=meeting_type,
        title="Lönesamtal",
        location="Hemma",
        agenda="Bonus",
        description="Min anteckning",
        private=True,
    )


def test_hides_details_from_everyone_but_the_organizer_and_participants(
    private, organizer, participant, boss
):
    assert not rules.hides_details(private, organizer)
    assert not rules.hides_details(private, participant)
    assert rules.hides_details(private, boss)
    private.details_hidden = True
    assert rules.hides_details(private, organizer)


def test_a_colleague_sees_private_appointment_with_time_company_and_people(
    client, private, boss, company, contact
):
    client.force_login(boss)
    page = client.get(reverse("appointments:detail", args=[private.pk]))
    html = page.content.decode()
    assert "Private appointment" in html and "Acme Sverige AB" in html and "Johan Ek" in html
    for secret in ("Lönesamtal", "Hemma", "Bonus", "Min anteckning"):
        assert secret not in html
    listing = client.get(reverse("appointments:list"), {"user": ""}).content.decode()
    assert "Private appointment" in listing and "Lönesamtal" not in listing
    card = client.get(company.get_absolute_url()).content.decode()
    assert "Private appointment" in card and "Lönesamtal" not in card


def test_the_organizer_sees_their_own_private_meeting_in_full(client, private, organizer):
    client.force_login(organizer)
    html = client.get(reverse("appointments:detail", args=[private.pk])).content.decode()
    assert "Lönesamtal" in html and "Min anteckning" in html
    assert 'id="private-badge"' in html


def test_the_api_says_so(private, boss, organizer):
    data = client_for(boss).get(f"/api/v1/appointments/{private.pk}/").data
    assert data["title"] == "Private appointment"
    assert data["is_private"] is True and data["details_hidden"] is True
    assert data["location"] == data["agenda"] == data["description"] == ""
    assert data["company"] == private.company_id and data["contacts"]
    own = client_for(organizer).get(f"/api/v1/appointments/{private.pk}/").data
    assert own["title"] == "Lönesamtal" and own["details_hidden"] is False


def test_the_calendar_feed_says_private_appointment(client, private, boss, now):
    client.force_login(boss)
    feed = client.get(
        reverse("appointments:calendar_events"),
        {
            "start": now.date().isoformat(),
            "end": (now + timedelta(days=7)).date().isoformat(),
            "people": str(private.organizer_id),
        },
    )
    assert feed.status_code == 200
    assert "Private appointment" in feed.content.decode()
    assert "Lönesamtal" not in feed.content.decode()


def test_a_masked_appointment_is_never_saved_over_the_real_one(private, boss):
    masked = selectors.appointment_get(user=boss, pk=private.pk)
    assert masked.title == "Private appointment"
    with pytest.raises(RuntimeError):
        masked.save()
    masked.outcome = "completed"
    masked.save(update_fields=["outcome"])  # what is not hidden still saves
    private.refresh_from_db()
    assert private.title == "Lönesamtal" and private.outcome == "completed"


def test_a_private_event_logged_without_details_reads_private_appointment_for_everyone(
    private, organizer, client
):
    Appointment.objects.filter(pk=private.pk).update(
        title="", location="", agenda="", details_hidden=True
    )
    client.force_login(organizer)
    html = client.get(reverse("appointments:detail", args=[private.pk])).content.decode()
    assert "Private appointment" in html and 'id="private-note"' in html
    assert str(Appointment.objects.get(pk=private.pk)) == "Private appointment"
    data = client_for(organizer).get(f"/api/v1/appointments/{private.pk}/").data
    assert data["title"] == "Private appointment" and data["details_hidden"] is True


def test_booking_form_and_api_mark_a_meeting_private(client, organizer, meeting_type, now):
    client.force_login(organizer)
    start = now + timedelta(days=2)
    response = client.post(
        reverse("appointments:create"),
        {
            "title": "Förhandling",
            "appointment_type": meeting_type.pk,
            "date": start.date().isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
            "private": "on",
            "book_anyway": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Appointment.objects.get(title="Förhandling").private
    api = client_for(organizer).post(
        "/api/v1/appointments/",
        {
            "title": "Via API",
            "appointment_type": meeting_type.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "is_private": True,
        },
        format="json",
    )
    assert api.status_code == 201 and api.data["is_private"] is True
    changed = client_for(organizer).patch(
        f"/api/v1/appointments/{api.data['id']}/", {"is_private": False}, format="json"
    )
    assert changed.status_code == 200 and changed.data["is_private"] is False


def test_a_follow_up_of_a_private_meeting_is_private(private, organizer, now):
    from appointments.services import appointment_create_follow_up

    later = now + timedelta(days=9)
    follow_up = appointment_create_follow_up(
        appointment=private, actor=organizer, start=later, end=later + timedelta(hours=1)
    )
    assert follow_up.private and follow_up.title == "Lönesamtal"
