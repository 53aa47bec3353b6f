"""Retries are bounded by a time budget, not a small attempt count: a burst of 429/503 that the
provider clears well within the budget completes the sync, for Google and Microsoft, over the
emulator; only a spent budget or a permanent error gives up, and it is recorded."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from calendar_sync.providers import base
from calendar_sync.sync import engine
from provider_emulator.faults import Fault

from .conftest import PROVIDERS

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl_conn(provider, sync_user, sync_connect):
    return sync_connect(provider, sync_user("karl.andersson@exempel.se"))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", ["429", "503"])
def test_a_burst_of_rate_limits_cleared_within_the_budget_completes_the_sync(
    provider, kind, karl_conn, sync_actor, emulator, adapter_retry_sleeps
):
    sync_actor(provider, karl_conn.account_email).create(
        title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"]
    )
    # Eight refusals in a row (today's attempt count gave up after five), asking for 5 s each
    # (Google's 503 carries none: it is backed off exponentially), well within the budget.
    emulator.state.faults.add(Fault(kind=kind, count=8, provider=provider, retry_after=5))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error == ""
    assert Appointment.objects.filter(title="A").count() == 1
    assert len(adapter_retry_sleeps) == 8
    assert sum(adapter_retry_sleeps) <= base.RETRY_BUDGET_SECONDS


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rate_limiting_longer_than_the_budget_gives_up_and_is_recorded(
    provider, karl_conn, emulator, adapter_retry_sleeps
):
    emulator.state.faults.add(Fault(kind="429", count=1000, provider=provider, retry_after=20))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error
    karl_conn.refresh_from_db()
    assert karl_conn.last_error
    assert sum(adapter_retry_sleeps) <= base.RETRY_BUDGET_SECONDS
    assert sum(adapter_retry_sleeps) > base.RETRY_BUDGET_SECONDS - base.RETRY_WAIT_CAP


def test_retry_waits_are_jittered(adapter_retry_sleeps):
    calls: list[int] = []

    def throttled() -> None:
        calls.append(1)
        if len(calls) < 30:
            raise base.RateLimited("slow down", retry_after=2)

    base.call_with_retries(throttled)
    assert len(set(adapter_retry_sleeps)) > 1  # not every worker back at the same instant
    assert all(2 <= wait <= 2 + base.RETRY_JITTER for wait in adapter_retry_sleeps)


def test_a_permanent_error_is_not_retried(adapter_retry_sleeps):
    calls: list[int] = []

    def gone() -> None:
        calls.append(1)
        raise base.ProviderError("forbidden", permanent=True)

    with pytest.raises(base.ProviderError):
        base.call_with_retries(gone)
    assert calls == [1]
    assert adapter_retry_sleeps == []
