"""The provider layer's errors: one status -> error mapping, and what a permanent error does to
the connection (it parks with a reason the rep can read), over the emulator's fault injection
for every provider."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from appointments.models import Appointment
from calendar_sync.providers.base import (
    AuthRevoked,
    CursorExpired,
    EventNotFound,
    PreconditionFailed,
    ProviderError,
    RateLimited,
)
from calendar_sync.providers.registry import get_provider
from calendar_sync.sync import engine, exporter
from provider_emulator.faults import Fault

from .actors import actor_class
from .conftest import PROVIDERS, PUSH_PROVIDERS

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = "karl.andersson@exempel.se"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


# --- the one mapping ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "kind", "permanent"),
    [
        (429, RateLimited, False),
        (500, ProviderError, False),
        (503, ProviderError, False),
        (401, AuthRevoked, True),
        (404, EventNotFound, True),
        (410, EventNotFound, True),
        (412, PreconditionFailed, False),
        (400, ProviderError, True),
        (403, ProviderError, True),
    ],
)
def test_from_status_maps_every_status_once(status, kind, permanent):
    error = ProviderError.from_status(status, "boom", retry_after="7")
    assert type(error) is kind and error.permanent is permanent and error.status == status
    if kind is RateLimited:
        assert error.retry_after == 7


def test_from_status_410_means_what_the_caller_says_and_a_hook_goes_first():
    assert type(ProviderError.from_status(410, "gone", gone=CursorExpired)) is CursorExpired
    hooked = ProviderError.from_status(
        503, "busy", retry_after="3", hook=lambda s, m, r: RateLimited(m, retry_after=float(r))
    )
    assert isinstance(hooked, RateLimited) and hooked.retry_after == 3
    assert type(ProviderError.from_status(503, "busy", hook=lambda s, m, r: None)) is ProviderError


# --- parking ---------------------------------------------------------------------------------------


@pytest.fixture
def karl_conn(provider, sync_user, sync_connect):
    return sync_connect(provider, sync_user(KARL, first_name="Karl"))


@pytest.fixture
def karl_cal(provider, karl_conn, sync_actor):
    return sync_actor(provider, KARL)


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_permanent_error_parks_the_connection_with_a_reason_the_rep_can_read(
    provider, karl_conn, karl_cal, emulator, client
):
    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    endpoint = actor_class(provider).list_endpoint
    emulator.state.faults.add(
        Fault(kind="403_forbidden", count=1, provider=provider, endpoint=endpoint)
    )
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error and "403" in run.error
    karl_conn.refresh_from_db()
    assert karl_conn.state == "needs_reconnect"
    label = get_provider(provider).label
    assert karl_conn.last_error.startswith(f"{label} refused the sync (")
    assert "403" in karl_conn.last_error and "Reconnect the calendar" in karl_conn.last_error
    assert engine.sync_connection(karl_conn.pk, trigger="test") is None  # parked: no retry loop
    client.force_login(karl_conn.user)
    page = client.get(reverse(get_provider(provider).url_name())).content.decode()
    assert f"{label} refused the sync" in page  # the rep reads why


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_transient_error_is_recorded_and_retried_without_parking(
    provider, karl_conn, karl_cal, emulator, adapter_retry_sleeps
):
    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    emulator.state.faults.add(Fault(kind="500", count=100, provider=provider))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    karl_conn.refresh_from_db()
    assert run.error and karl_conn.last_error
    assert karl_conn.state == "active"
    emulator.state.faults.clear()
    assert engine.sync_connection(karl_conn.pk, trigger="test").created == 1


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_permanent_error_writing_one_event_fails_that_export_not_the_connection(
    provider, karl_conn, emulator
):
    from appointments.services import appointment_create

    appointment = appointment_create(
        organizer=karl_conn.user,
        title="Demo",
        appointment_type=karl_conn.appointment_type,
        start=at(3),
        end=at(3, 11),
        external_emails=["kund@extern.se"],
    )
    endpoint = actor_class(provider).create_endpoint
    emulator.state.faults.add(
        Fault(kind="403_forbidden", count=1, provider=provider, endpoint=endpoint)
    )
    outcome = exporter.export_to(Appointment.objects.get(pk=appointment.pk), karl_conn)
    karl_conn.refresh_from_db()
    assert "403" in outcome or "failed" in outcome.lower()
    assert karl_conn.state == "active"
    assert "403" in karl_conn.last_error
    assert not appointment.event_links.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PUSH_PROVIDERS)
def test_a_permanent_push_error_is_recorded_and_polling_goes_on(provider, karl_conn, emulator):
    """Push is a bonus (an unreachable PUBLIC_BASE_URL fails the same way): the connection stays
    active, the polling backstop keeps it in sync, the next hourly renewal tries again."""
    from calendar_sync import tasks
    from calendar_sync.sync import push

    endpoint = actor_class(provider).watch_endpoint
    emulator.state.faults.add(
        Fault(kind="403_forbidden", count=1, provider=provider, endpoint=endpoint)
    )
    assert tasks.renew_channels() == 0  # the hourly task: a connection without a channel is due
    karl_conn.refresh_from_db()
    assert karl_conn.state == "active" and "403" in karl_conn.last_error
    assert not karl_conn.channel_id
    assert karl_conn in push.due_for_renewal()  # the next hourly renewal tries again
    assert engine.sync_connection(karl_conn.pk, trigger="test").error == ""  # polling goes on


@pytest.mark.django_db
@pytest.mark.parametrize("provider", PUSH_PROVIDERS)
def test_a_revoked_grant_found_by_push_work_parks_the_connection(provider, karl_conn, emulator):
    from calendar_sync import tasks

    actor_class(provider)(emulator, KARL).revoke_access()
    assert tasks.renew_channels() == 0
    karl_conn.refresh_from_db()
    assert karl_conn.state == "needs_reconnect"


# --- the provider layer is a leaf -----------------------------------------------------------------
FORBIDDEN = ("services", "pipeline", "views", "selectors", "webhooks", "tasks", "sync", "api")


def test_the_provider_layer_imports_no_services_pipeline_or_views():
    """``calendar_sync/providers`` may use models and conf, never the layers above it."""
    root = Path(__file__).resolve().parents[2] / "calendar_sync" / "providers"
    found = []
    for path in root.rglob("*.py"):
        package = path.relative_to(root.parent.parent).with_suffix("").parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = list(package[: len(package) - node.level + 1]) if node.level else []
                names = [".".join([*base, *(node.module or "").split(".")]).strip(".")]
                names += [f"{names[0]}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[:1] == ["calendar_sync"] and len(parts) > 1 and parts[1] in FORBIDDEN:
                    found.append(f"{path.name}: {name}")
    assert found == []
