"""The Django admin's login goes through allauth, so staff with a second factor must give it."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.test import Client

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def staff_with_totp():
    user = UserFactory(
        email="boss@exempel.se", username="boss@exempel.se", is_staff=True, is_superuser=True
    )
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return user, secret


def _signed_in(client: Client) -> bool:
    return client.get("/api/v1/appointments/").status_code == 200


def test_admin_login_with_password_only_does_not_sign_in_a_user_with_totp(staff_with_totp):
    user, _ = staff_with_totp
    client = Client()
    resp = client.post("/admin/login/?next=/admin/", {"username": user.email, "password": PASSWORD})
    # Sent to allauth's login (which asks for the code), not signed in by the admin form.
    assert resp.status_code == 302
    target = urlsplit(resp["Location"])
    assert target.path == "/accounts/login/"
    assert parse_qs(target.query)["next"] == ["/admin/"]
    assert "_auth_user_id" not in client.session
    assert client.get("/api/v1/appointments/").status_code in (401, 403)
    assert client.get("/settings/api-token/").status_code == 302
    assert client.get("/admin/").status_code == 302


def test_admin_login_page_sends_anonymous_visitors_to_the_allauth_login():
    resp = Client().get("/admin/login/?next=/admin/appointments/")
    assert resp.status_code == 302
    target = urlsplit(resp["Location"])
    assert target.path == "/accounts/login/"
    assert parse_qs(target.query)["next"] == ["/admin/appointments/"]


def test_staff_reach_the_admin_after_password_and_totp_code(staff_with_totp):
    user, secret = staff_with_totp
    client = Client()
    resp = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert resp.status_code == 302 and "/2fa/" in resp["Location"]
    assert not _signed_in(client)  # the password alone is not enough
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    resp = client.post(resp["Location"], {"code": code})
    assert resp.status_code == 302
    assert _signed_in(client)
    assert client.get("/admin/").status_code == 200
    # A signed-in staff user visiting the admin login is sent on to the admin.
    assert client.get("/admin/login/").status_code == 302
