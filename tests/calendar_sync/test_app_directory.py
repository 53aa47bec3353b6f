"""The App directory in the admin, and install_calendar_apps against the emulator."""

from __future__ import annotations

import io

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse

from calendar_sync.models import CalendarApp, CalendarConnection, ConnectionState
from calendar_sync.providers.registry import PROVIDERS
from tests.calendar_sync import test_connect as flow
from tests.factories import UserFactory

# Shared fixtures of the connect tests.
calendar_apps, rep, rep_client = flow.calendar_apps, flow.rep, flow.rep_client
connect = flow.connect


@pytest.fixture
def admin_client(db):
    from django.test import Client

    admin = UserFactory(email="admin@exempel.se", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


def _emulator(emulator, path: str) -> dict:
    return requests.get(f"{emulator.url}{path}", timeout=5).json()


def test_install_calendar_apps_is_idempotent_and_registers_clients(db, settings, emulator):
    settings.CALENDAR_EMULATOR_URL = emulator.url
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:8000"
    for _ in range(2):
        call_command("install_calendar_apps", stdout=io.StringIO())

    apps = {a.provider: a for a in CalendarApp.objects.all()}
    # Every app of the registry: CalDAV (reps connect with a password) has no client to set up.
    assert set(apps) == set(PROVIDERS) and all(a.installed for a in apps.values())
    assert apps["microsoft"].tenant == "common" and apps["google"].client_secret
    clients = {c["provider"]: c for c in _emulator(emulator, "/_emulator/clients")["clients"]}
    assert clients["google"]["redirect_uris"] == [
        "http://127.0.0.1:8000/oauth/complete/google-oauth2/",
        "http://localhost:8000/oauth/complete/google-oauth2/",
    ]
    assert clients["microsoft"]["client_id"] == apps["microsoft"].client_id
    accounts = _emulator(emulator, "/_emulator/accounts")["accounts"]
    by_key = {(a["provider"], a["email"]): a for a in accounts}
    assert len(accounts) == len(by_key)
    assert by_key[("google", "karl.andersson@exempel.se")]["two_step"] is True
    assert ("google", "karl.privat@gmail.example") in by_key
    assert ("microsoft", "eva.lind@exempel.se") in by_key
    room = by_key[("microsoft", "stora.rummet@exempel.se")]
    assert room["is_room"] and room["capacity"] == 10 and room["building"] == "HQ"
    assert by_key[("google", "lilla.rummet@exempel.se")]["capacity"] == 4


def test_install_with_real_credentials(db, settings, monkeypatch):
    settings.CALENDAR_EMULATOR_URL = ""
    monkeypatch.setenv("GOOGLE_CLIENT_ID", "real.apps.googleusercontent.com")
    monkeypatch.setenv("GOOGLE_CLIENT_SECRET", "GOCSPX-real")
    monkeypatch.delenv("MICROSOFT_CLIENT_ID", raising=False)
    call_command("install_calendar_apps", stdout=io.StringIO())
    app = CalendarApp.objects.get(provider="google")
    assert app.installed and app.client_secret == "GOCSPX-real"
    assert not CalendarApp.objects.filter(provider="microsoft", installed=True).exists()


def test_app_directory_admin_lists_apps_with_masked_secret(calendar_apps, admin_client):
    page = admin_client.get(reverse("admin:calendar_sync_calendarapp_changelist")).content.decode()
    assert "Google Calendar" in page and "Office365" in page
    app = CalendarApp.objects.get(provider="google")
    assert app.client_secret not in page
    change = admin_client.get(
        reverse("admin:calendar_sync_calendarapp_change", args=[app.pk])
    ).content.decode()
    assert app.client_secret not in change and "••••" not in change


def test_blank_secret_in_admin_keeps_the_stored_one(calendar_apps, admin_client):
    app = CalendarApp.objects.get(provider="microsoft")
    secret = app.client_secret
    resp = admin_client.post(
        reverse("admin:calendar_sync_calendarapp_change", args=[app.pk]),
        {
            "provider": "microsoft",
            "installed": "on",
            "client_id": app.client_id,
            "client_secret": "",
            "tenant": "contoso.onmicrosoft.com",
        },
    )
    assert resp.status_code == 302
    app.refresh_from_db()
    assert app.client_secret == secret and app.tenant == "contoso.onmicrosoft.com"


def test_admin_uninstall_action_disconnects_and_hides(
    calendar_apps, admin_client, rep_client, rep, django_capture_on_commit_callbacks
):
    connect(rep_client, "google")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:calendar_sync_calendarapp_changelist"),
            {
                "action": "uninstall",
                "_selected_action": [CalendarApp.objects.get(provider="google").pk],
            },
        )
    assert not CalendarApp.objects.get(provider="google").installed
    assert CalendarConnection.objects.get(user=rep).state == ConnectionState.DISCONNECTED
    hidden = rep_client.get(reverse("calendar_sync:google"))
    assert hidden.status_code == 200  # explains the uninstall to the rep, no 404
    assert b'id="calendar-app-uninstalled"' in hidden.content and b"Activate" not in hidden.content
    admin_client.post(
        reverse("admin:calendar_sync_calendarapp_changelist"),
        {"action": "install", "_selected_action": [CalendarApp.objects.get(provider="google").pk]},
    )
    assert b"Activate" in rep_client.get(reverse("calendar_sync:google")).content


def test_admin_lists_connections_without_tokens(calendar_apps, admin_client, rep_client, rep):
    connect(rep_client, "microsoft")
    conn = CalendarConnection.objects.get(user=rep)
    CalendarConnection.objects.filter(pk=conn.pk).update(
        state=ConnectionState.NEEDS_RECONNECT, last_error="invalid_grant: revoked"
    )
    page = admin_client.get(
        reverse("admin:calendar_sync_calendarconnection_changelist")
    ).content.decode()
    assert "eva.lind@exempel.se" in page and "Needs reconnect" in page
    assert "invalid_grant: revoked" in page
    detail = admin_client.get(
        reverse("admin:calendar_sync_calendarconnection_change", args=[conn.pk])
    ).content.decode()
    assert conn.access_token not in detail and conn.refresh_token not in detail
    assert conn.access_token not in page
