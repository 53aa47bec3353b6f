"""Tokens at rest and in logs: encrypted with a rotatable key, never in dumps or log lines."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command
from django.db import connection as db_connection

from calendar_sync import crypto, services
from calendar_sync.models import CalendarApp, CalendarConnection
from tests.calendar_sync import test_connect as flow
from tests.calendar_sync.conftest import OAUTH_PROVIDERS
from tests.factories import UserFactory
from upsales_crm.logging import RedactSecretsFilter

# Shared fixtures of the connect tests.
calendar_apps, rep, rep_client = flow.calendar_apps, flow.rep, flow.rep_client
connect = flow.connect

ACCESS = "ya29.a0-plaintext-access-token-0123456789"
REFRESH = "1//0-plaintext-refresh-token-abcdefghij"
KEY_OLD = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="
KEY_NEW = "0uDcXZcTO3b1vCXqHn5GvS2kP6yq1oU5bY0pq0b0x5A="


def _raw(table: str, column: str, pk: int) -> str:
    with db_connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.fixture
def stored(db):
    user = UserFactory()
    app = CalendarApp.objects.create(
        provider="google", installed=True, client_id="cid", client_secret="GOCSPX-plain-secret"
    )
    conn = CalendarConnection.objects.create(
        user=user,
        provider="google",
        account_email="karl@exempel.se",
        access_token=ACCESS,
        refresh_token=REFRESH,
    )
    return app, conn


def test_tokens_are_encrypted_in_the_database(stored):
    app, conn = stored
    raw = _raw("calendar_sync_calendarconnection", "access_token", conn.pk)
    assert ACCESS not in raw and raw.startswith("gAAAAA")
    assert REFRESH not in _raw("calendar_sync_calendarconnection", "refresh_token", conn.pk)
    assert "plain-secret" not in _raw("calendar_sync_calendarapp", "client_secret", app.pk)
    conn.refresh_from_db()
    assert conn.access_token == ACCESS and conn.refresh_token == REFRESH


def test_database_dump_contains_no_plaintext_token(stored):
    out = io.StringIO()
    call_command("dumpdata", "calendar_sync", "social_django", stdout=out)
    dump = out.getvalue()
    assert ACCESS not in dump and REFRESH not in dump and "plain-secret" not in dump
    assert "gAAAAA" in dump  # the ciphertext is there


def test_dump_loads_back_without_double_encryption(stored, tmp_path):
    _app, conn = stored
    path = tmp_path / "dump.json"
    call_command("dumpdata", "calendar_sync.calendarconnection", output=str(path))
    CalendarConnection.objects.all().delete()
    call_command("loaddata", str(path), verbosity=0)
    assert CalendarConnection.objects.get(pk=conn.pk).access_token == ACCESS


def test_rotate_encryption_keys_reencrypts_with_the_newest_key(stored, settings):
    app, conn = stored
    settings.FIELD_ENCRYPTION_KEYS = [KEY_OLD]
    before = _raw("calendar_sync_calendarconnection", "access_token", conn.pk)

    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW, KEY_OLD]
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]  # the old key is gone

    after = _raw("calendar_sync_calendarconnection", "access_token", conn.pk)
    assert after != before
    conn.refresh_from_db()
    app.refresh_from_db()
    assert conn.access_token == ACCESS and conn.refresh_token == REFRESH
    assert app.client_secret == "GOCSPX-plain-secret"


def test_without_the_key_tokens_cannot_be_read(stored, settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = [KEY_NEW]
    with pytest.raises(ImproperlyConfigured):
        CalendarConnection.objects.get(pk=stored[1].pk)


def test_production_refuses_to_run_without_keys(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.FIELD_ENCRYPTION_KEYS = []
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_redact_filter_hides_tokens_in_log_lines(caplog):
    caplog.handler.addFilter(RedactSecretsFilter())
    log = logging.getLogger("calendar_sync.test")
    with caplog.at_level(logging.INFO):
        log.info("token response access_token=%s refresh_token=%s", ACCESS, REFRESH)
        log.info("Authorization: Bearer %s", ACCESS)
        log.info('{"refresh_token": "%s"}', REFRESH)
    assert ACCESS not in caplog.text and REFRESH not in caplog.text
    assert "[redacted]" in caplog.text


@pytest.mark.parametrize("provider", OAUTH_PROVIDERS)
def test_connect_and_refresh_log_no_token(provider, calendar_apps, rep_client, rep, caplog):
    caplog.handler.addFilter(RedactSecretsFilter())
    with caplog.at_level(logging.DEBUG):
        connect(rep_client, provider)
        conn = CalendarConnection.objects.get(user=rep)
        services.connection_refresh_tokens(connection=conn)
    conn.refresh_from_db()
    text = caplog.text
    for token in (conn.access_token, conn.refresh_token):
        assert token and token not in text
