"""Hardening: MFA for staff in the admin, a Content-Security-Policy on every page, a deploy check
for the encryption keys, secrets redacted from every log, login throttling per client."""

from __future__ import annotations

import logging

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from upsales_crm.logging import redact

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-123"


# --- MFA for staff ---------------------------------------------------------------------------------
@pytest.fixture
def staff(db):
    return UserFactory(email="boss@exempel.se", is_staff=True, is_superuser=True)


def test_mfa_is_required_for_staff_by_production_defaults():
    import subprocess
    import sys

    code = "from upsales_crm import settings as s; print(s.MFA_REQUIRED_FOR_STAFF)"
    env = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(  # noqa: S603 - our own interpreter, a fixed command
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "True"


def test_admin_sends_staff_without_a_second_factor_to_set_one_up(settings, staff):
    settings.MFA_REQUIRED_FOR_STAFF = True
    client = Client()
    client.force_login(staff)
    for path in ("/admin/", "/admin/appointments/appointment/"):
        resp = client.get(path)
        assert resp.status_code == 302
        assert resp["Location"] == reverse("mfa_activate_totp")
    TOTP.activate(staff, generate_totp_secret())
    assert client.get("/admin/").status_code == 200


def test_reps_pages_and_the_setting_off_are_not_affected(settings, staff):
    client = Client()
    client.force_login(staff)
    settings.MFA_REQUIRED_FOR_STAFF = False
    assert client.get("/admin/").status_code == 200
    settings.MFA_REQUIRED_FOR_STAFF = True
    resp = client.get(reverse("mfa_activate_totp"), follow=True)  # no redirect loop
    assert resp.status_code == 200
    assert client.get("/calendar/").status_code == 200  # only the admin asks for it


# --- Content-Security-Policy -------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/admin/login/", "/api/v1/docs/", "/webhooks/calendar/google/"]
)
def test_every_page_has_a_content_security_policy_without_inline_script(path):
    resp = Client().get(path)
    policy = resp["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy  # nothing from another origin


def test_pages_have_no_inline_script(client, staff):
    """Every <script> is a file from our static files, or a JSON data block (never executed)."""
    client.force_login(staff)
    for path in ("/", "/calendar/", "/api/v1/docs/", "/settings/profile/"):
        html = client.get(path, follow=True).content.decode()
        for tag in html.split("<script")[1:]:
            attributes = tag.split(">", 1)[0]
            assert " src=" in attributes or 'type="application/json"' in attributes, attributes
        assert " onclick=" not in html and " onload=" not in html


# --- check --deploy ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keys", "error"),
    [([], "calendar_sync.E001"), (["not-a-fernet-key"], "calendar_sync.E002")],
)
def test_deploy_check_fails_without_valid_encryption_keys(settings, keys, error):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = keys
    with pytest.raises(SystemCheckError, match=error):
        call_command("check", "--deploy", "--tag", "security")


def test_deploy_check_passes_with_a_valid_key(settings):
    from cryptography.fernet import Fernet

    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")


# --- redaction -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ('"GET /oauth/complete/google-oauth2/?state=abc&code=4%2F0AfJohXk HTTP/1.1" 302 0', "0AfJ"),
        ('malformed graph notification: b\'{"clientState": "s3cret-Graph"}\'', "s3cret-Graph"),
        ("headers {'X-Goog-Channel-Token': 'chan-s3cret'}", "chan-s3cret"),
        ("X-Goog-Channel-Token: chan-s3cret", "chan-s3cret"),
        ("watch body {'id': 'c1', 'token': 'chan-s3cret', 'type': 'web_hook'}", "chan-s3cret"),
    ],
)
def test_secrets_are_redacted_from_log_lines(line, secret):
    assert secret not in redact(line)
    assert "[redacted]" in redact(line)


def test_the_access_log_is_redacted():
    """runserver's access log (django.server) has its own handler: it redacts too."""
    from django.utils.log import ServerFormatter

    server = logging.getLogger("django.server")
    ours = [h for h in server.handlers if isinstance(h.formatter, ServerFormatter)]
    assert ours and not server.propagate
    record = server.makeRecord(
        "django.server", logging.INFO, __file__, 1, '"%s" %s %s',
        ("GET /oauth/complete/google-oauth2/?code=4%2F0Secret&state=x HTTP/1.1", "302", "0"),
        None, extra={"status_code": 302},
    )  # fmt: skip
    for handler in ours:
        assert handler.filter(record)
        line = handler.format(record)
        assert "0Secret" not in line and "code=[redacted]" in line


def test_redaction_leaves_ordinary_lines_alone():
    line = "sync of connection 4 finished: 3 created, statuscode=200 csrfmiddlewaretoken seen"
    assert redact(line) == line


# --- login throttling by client ----------------------------------------------------------------
def _login(ip: str, email: str, password: str):
    return Client(REMOTE_ADDR=ip).post("/accounts/login/", {"login": email, "password": password})


def test_a_stranger_guessing_cannot_lock_the_rep_out(db):
    rep = UserFactory(email="karl.andersson@exempel.se")
    for _ in range(8):
        _login("203.0.113.66", rep.email, "guess")
    blocked = _login("203.0.113.66", rep.email, PASSWORD)
    assert blocked.status_code == 200  # the stranger's client is throttled, even when right
    resp = _login("198.51.100.5", rep.email, PASSWORD)
    assert resp.status_code == 302  # the rep, from the rep's own computer, signs in
