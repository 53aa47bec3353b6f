"""When a calendar stops syncing the rep and the admins get one e-mail per incident; admins see
every rep's connection health and can sync them now. Over the emulator, real adapters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from calendar_sync import services
from calendar_sync.models import CalendarConnection, SyncRun
from calendar_sync.providers.base import Tokens
from calendar_sync.selectors import provider_url_name
from calendar_sync.sync import engine

from .conftest import PROVIDERS

pytestmark = pytest.mark.django_db

CONNECTIONS_URL = "/admin/calendar_sync/calendarconnection/"


def with_perms(user, *codenames: str):
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return type(user).objects.get(pk=user.pk)


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def karl(sync_user):
    return sync_user("karl.andersson@exempel.se", first_name="Karl", last_name="Andersson")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def admin_user(sync_user):
    return with_perms(sync_user("admin@exempel.se", is_staff=True), "view_calendarconnection")


def park_by_revoking(provider, conn, sync_actor, capture) -> None:
    """The rep revokes the app at the provider; the next sync finds out."""
    sync_actor(provider, conn.account_email).revoke_access()
    with capture(execute=True):
        run = engine.sync_connection(conn.pk, trigger="schedule")
    assert run.error
    conn.refresh_from_db()
    assert conn.state == "needs_reconnect"


def test_a_revoked_grant_emails_the_rep_and_the_admins_once(
    provider, conn, karl, admin_user, sync_actor, django_capture_on_commit_callbacks
):
    park_by_revoking(provider, conn, sync_actor, django_capture_on_commit_callbacks)
    to_rep, to_admins = mail.outbox
    assert to_rep.to == [karl.email] and "needs reconnecting" in to_rep.subject
    assert f"http://127.0.0.1:8000{reverse(provider_url_name(provider))}" in to_rep.body
    assert to_admins.to == ["admin@exempel.se"] and "Karl Andersson" in to_admins.subject
    assert CONNECTIONS_URL in to_admins.body
    # The same incident again (a token refresh that fails too, another run): no more mail.
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_mark_needs_reconnect(connection=conn, reason="invalid_grant")
        assert engine.sync_connection(conn.pk, trigger="schedule") is None  # parked
    assert len(mail.outbox) == 2


def test_a_reconnect_ends_the_incident_and_the_next_one_is_told_again(
    provider, conn, karl, admin_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_mark_needs_reconnect(connection=conn, reason="revoked")
    assert len(mail.outbox) == 2
    tokens = Tokens(access_token="new", refresh_token="new-refresh", expires_at=None)
    with django_capture_on_commit_callbacks(execute=False):
        services.connection_link(
            user=karl,
            provider=provider,
            account_email=conn.account_email,
            account_id="",
            tokens=tokens,
        )
    conn.refresh_from_db()
    assert conn.state == "active" and conn.attention_alerted_at is None
    with django_capture_on_commit_callbacks(execute=True):
        services.connection_mark_needs_reconnect(connection=conn, reason="revoked again")
    assert len(mail.outbox) == 4
    assert "revoked again" in mail.outbox[2].body


def test_a_mail_server_that_fails_does_not_break_the_sync(
    provider, conn, karl, sync_actor, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.calendar_sync.test_alerts_and_admin_status.BrokenBackend"
    park_by_revoking(provider, conn, sync_actor, django_capture_on_commit_callbacks)
    assert conn.attention_alerted_at is not None


class BrokenBackend:
    def __init__(self, *args, **kwargs) -> None:
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


# --- the admin's view of every rep's connection ---------------------------------------------------
def test_admin_lists_every_connection_with_health_and_filters_needs_attention(
    client, provider, conn, sync_connect, sync_user, admin_user
):
    eva = sync_connect(provider, sync_user("eva.lind@exempel.se"))
    services.connection_mark_needs_reconnect(connection=eva, reason="Access was revoked.")
    client.force_login(admin_user)
    page = client.get(CONNECTIONS_URL).content.decode()
    assert "karl.andersson@exempel.se" in page and "eva.lind@exempel.se" in page
    assert "column-failed" in page and "column-waiting" in page and "column-attention" in page
    attention = client.get(CONNECTIONS_URL, {"needs_attention": "yes"}).content.decode()
    assert "eva.lind@exempel.se" in attention and "karl.andersson@exempel.se" not in attention
    assert "Access was revoked." in attention


def test_bulk_sync_now_needs_the_change_permission(
    client, provider, conn, sync_connect, sync_user, admin_user
):
    eva = sync_connect(provider, sync_user("eva.lind@exempel.se"))
    services.connection_mark_needs_reconnect(connection=eva, reason="revoked")
    client.force_login(admin_user)  # view only
    assert 'value="sync_now"' not in client.get(CONNECTIONS_URL).content.decode()
    client.post(CONNECTIONS_URL, {"action": "sync_now", "_selected_action": [conn.pk]})
    assert not SyncRun.objects.exists()
    changer = with_perms(admin_user, "change_calendarconnection")
    client.force_login(changer)
    response = client.post(
        CONNECTIONS_URL,
        {"action": "sync_now", "_selected_action": [conn.pk, eva.pk]},
        follow=True,
    )
    text = response.content.decode()
    assert "1 queued." in text and "1 not active" in text
    assert SyncRun.objects.get().connection_id == conn.pk  # ran inline (tasks are sync in tests)
    assert CalendarConnection.objects.get(pk=eva.pk).state == "needs_reconnect"
