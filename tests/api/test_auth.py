from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from contacts.services import api_token_create_or_rotate
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/companies/",
        "/api/v1/contacts/",
        "/api/v1/appointment-types/",
        "/api/v1/appointments/",
    ],
)
def test_anonymous_requests_get_401(url):
    assert APIClient().get(url).status_code == 401


def test_token_authentication_works_and_rotation_revokes_the_old_token():
    user = UserFactory()
    old = api_token_create_or_rotate(user=user)
    new = api_token_create_or_rotate(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/v1/appointments/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/appointments/").status_code == 401


def test_schema_and_docs_are_served():
    client = APIClient()
    client.force_authenticate(UserFactory())
    assert client.get("/api/v1/schema/").status_code == 200
    assert client.get("/api/v1/docs/").status_code == 200


def test_the_schema_describes_an_invitations_organizer_and_own_response():
    client = APIClient()
    client.force_authenticate(UserFactory())
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    appointment = schema["components"]["schemas"]["Appointment"]["properties"]
    assert {"invited_by", "own_response"} <= appointment.keys()
    invited_by = schema["components"]["schemas"]["InvitedBy"]["properties"]
    assert set(invited_by) == {"email", "name", "contact"}
