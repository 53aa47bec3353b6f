"""Input PostgreSQL refuses (a NUL byte, an address longer than its column) answers 400 with a
clear message on the API and the pages, never 500. SQLite forgives both, so these tests matter
in CI's PostgreSQL leg, which runs them on PostgreSQL (asserted below)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client

from appointments.models import Appointment
from contacts.models import Contact

pytestmark = pytest.mark.django_db

LONG_ADDRESS = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".c.se"  # 255 characters, well-formed


def test_the_postgresql_leg_runs_these_tests_on_postgresql():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else None
    assert len(LONG_ADDRESS) == 255
    if expected:
        assert connection.vendor == expected


@pytest.fixture
def page_client(organizer):
    client = Client(raise_request_exception=False)
    client.force_login(organizer)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/companies/?q=%00",
        "/contacts/?q=ab%00cd",
        "/api/v1/companies/?search=%00",
        "/api/v1/contacts/?search=%00",
        "/api/v1/appointments/?start=%00",
        "/calendar/?x%00=1",
    ],
)
def test_a_nul_in_a_query_parameter_is_400_with_a_message(page_client, url):
    resp = page_client.get(url)
    assert resp.status_code == 400
    text = resp.json()["detail"] if url.startswith("/api/") else resp.content.decode()
    assert "control character" in text


def test_search_still_finds_ordinary_text(page_client):
    assert page_client.get("/companies/?q=Acme AB").status_code == 200


def test_an_over_long_external_address_is_400_on_the_api(as_organizer, now, meeting_type):
    start = now + timedelta(days=3)
    resp = as_organizer.post(
        "/api/v1/appointments/",
        {
            "title": "Demo",
            "appointment_type": meeting_type.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
            "external_attendees": [LONG_ADDRESS],
        },
        format="json",
    )
    assert resp.status_code == 400
    assert "254" in str(resp.data["external_attendees"])
    assert not Appointment.objects.exists()


def test_a_nul_in_a_title_is_400_on_the_api(as_organizer, now, meeting_type):
    start = now + timedelta(days=3)
    resp = as_organizer.post(
        "/api/v1/appointments/",
        {
            "title": "De\x00mo",
            "appointment_type": meeting_type.pk,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=1)).isoformat(),
        },
        format="json",
    )
    assert resp.status_code == 400
    assert "title" in resp.data


def test_an_over_long_address_on_the_contact_page_is_a_form_error(page_client):
    resp = page_client.post("/contacts/new/", {"name": "Kund", "emails": LONG_ADDRESS})
    assert resp.status_code == 200
    assert "longer than 254 characters" in resp.content.decode()
    assert not Contact.objects.exists()
