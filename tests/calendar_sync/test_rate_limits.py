"""A Retry-After longer than the retry budget is not waited out early, for Google and Microsoft:
the call gives up at once with an error the rep can read, and the next poll picks it up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment
from calendar_sync import tasks
from calendar_sync.providers import base
from calendar_sync.sync import engine, exporter
from provider_emulator.faults import Fault

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl_conn(provider, sync_user, sync_connect):
    return sync_connect(provider, sync_user("karl.andersson@exempel.se"))


@pytest.fixture
def karl_cal(provider, karl_conn, sync_actor):
    return sync_actor(provider, karl_conn.account_email)


def test_long_retry_after_during_a_sync_is_recorded_not_retried_early(
    provider, karl_conn, karl_cal, emulator, adapter_retry_sleeps
):
    karl_cal.create(title="A", start=at(2), end=at(2, 11), attendees=["k@extern.se"])
    emulator.state.faults.add(Fault(kind="429", count=100, provider=provider, retry_after=120))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert all(wait <= base.RETRY_WAIT_CAP for wait in adapter_retry_sleeps)
    assert adapter_retry_sleeps == []  # no attempt is burnt before the provider allows it
    karl_conn.refresh_from_db()
    assert "rate limited, retry after 120 s" in run.error
    assert "rate limited, retry after 120 s" in karl_conn.last_error
    emulator.state.faults.clear()
    tasks.sync_connection(karl_conn.pk)  # the next poll
    assert Appointment.objects.count() == 1


def test_long_retry_after_during_an_export_is_recorded_and_pushed_later(
    provider, karl_conn, karl_cal, sync_type, emulator, adapter_retry_sleeps
):
    appointment = Appointment.objects.create(
        organizer=karl_conn.user, title="Demo", appointment_type=sync_type, start=at(2),
        end=at(2, 11),
    )  # fmt: skip
    emulator.state.faults.add(Fault(kind="429", count=100, provider=provider, retry_after=120))
    outcome = exporter.export_to(appointment, karl_conn, now=timezone.now())
    assert "rate limited, retry after 120 s" in outcome
    assert adapter_retry_sleeps == []
    emulator.state.faults.clear()
    tasks.refresh_window(karl_conn.pk)  # the daily sweep
    assert [e for e in karl_cal.events() if e.get("summary", e.get("subject")) == "Demo"]
