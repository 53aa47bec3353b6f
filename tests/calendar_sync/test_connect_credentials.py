"""Connecting a provider reps sign in to with a server URL, username and app password
(``connect_kind = "credentials"``: CalDAV), against the real Radicale server."""

from __future__ import annotations

import pytest
from django.urls import reverse

from calendar_sync.models import CalendarApp, CalendarConnection
from calendar_sync.providers.registry import PROVIDERS
from tests.factories import UserFactory

CREDENTIALS_PROVIDERS = [p for p, spec in PROVIDERS.items() if not spec.uses_oauth()]
pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", CREDENTIALS_PROVIDERS)]
KARL = "karl.andersson@exempel.se"


@pytest.fixture
def rep_client(client):
    rep = UserFactory(email=KARL, username=KARL)
    client.force_login(rep)
    client.rep = rep
    return client


def connect(client, provider, **data):
    return client.post(reverse("calendar_sync:connect", args=[provider]), data)


def test_connect_with_the_app_password_stores_it_encrypted_and_finds_the_calendar(
    provider, rep_client, radicale
):
    CalendarApp.objects.create(provider=provider, installed=True)
    password = radicale.account_create(KARL)
    page = rep_client.get(reverse("calendar_sync:connect", args=[provider])).content.decode()
    assert 'id="credentials-form"' in page and 'type="password"' in page
    resp = connect(rep_client, provider, server_url=radicale.url, username=KARL, password=password)
    assert resp.status_code == 302
    conn = CalendarConnection.objects.get(user=rep_client.rep)
    assert conn.provider == provider and conn.account_email == KARL and conn.state == "active"
    assert conn.access_token == password and conn.calendar_url == radicale.calendar_url(KARL)
    from django.db import connection as db

    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM calendar_sync_calendarconnection")
        [(stored,)] = cursor.fetchall()
    assert password not in stored  # encrypted at rest, like tokens
    page = rep_client.get(reverse(PROVIDERS[provider].url_name())).content.decode()
    assert 'id="calendar-type-form"' in page  # next: choose the appointment type


def test_a_wrong_password_is_a_clear_error_and_stores_nothing(provider, rep_client, radicale):
    CalendarApp.objects.create(provider=provider, installed=True)
    radicale.account_create(KARL)
    resp = connect(rep_client, provider, server_url=radicale.url, username=KARL, password="nope")
    assert resp.status_code == 400
    assert "refused the username or password" in resp.content.decode()
    assert not CalendarConnection.objects.exists()


def test_a_wrong_url_is_a_clear_error(provider, rep_client, radicale):
    CalendarApp.objects.create(provider=provider, installed=True)
    password = radicale.account_create(KARL)
    for url, message in (
        (radicale.url + "nothing-here/", "No CalDAV calendar was found"),
        ("http://127.0.0.1:9/", "could not be reached"),
        ("http://calendar.example.com/", "must start with https://"),
        ("ftp://127.0.0.1/", "starting with https://"),
    ):
        resp = connect(rep_client, provider, server_url=url, username=KARL, password=password)
        assert resp.status_code == 400 and message in resp.content.decode(), url
    assert not CalendarConnection.objects.exists()


def test_the_oauth_flow_is_not_offered_and_disconnect_forgets_the_password(
    provider, rep_client, radicale, django_capture_on_commit_callbacks
):
    from calendar_sync import services

    CalendarApp.objects.create(provider=provider, installed=True)
    password = radicale.account_create(KARL)
    connect(rep_client, provider, server_url=radicale.url, username=KARL, password=password)
    conn = CalendarConnection.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_disconnect(connection=conn, actor=rep_client.rep)
    conn.refresh_from_db()
    assert conn.state == "disconnected" and conn.access_token == ""
