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
