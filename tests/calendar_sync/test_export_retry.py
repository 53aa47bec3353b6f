"""A first push that failed or was interrupted is retried by the next sweep (after every sync),
backing off while it keeps failing, and reads as failed/waiting until it lands; for Google and
Microsoft over the emulator."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_create
from calendar_sync import selectors, tasks
from calendar_sync.models import ExportFailure
from calendar_sync.selectors import SyncState

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl(sync_user):
    return sync_user("karl.andersson@exempel.se", first_name="Karl")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


@pytest.fixture
def cal(provider, conn, sync_actor):
    return sync_actor(provider, conn.account_email)


@pytest.fixture
def book(karl, sync_type, django_capture_on_commit_callbacks):
    def make(*, run_export: bool = True, **kw):
        fields = {"organizer": karl, "title": "Demo", "appointment_type": sync_type}
        fields |= {"start": at(2), "end": at(2, 11), **kw}
        with django_capture_on_commit_callbacks(execute=run_export):
            return appointment_create(**fields)

    return make


def fault(emulator, provider: str, count: int = 1000) -> None:
    requests.post(
        f"{emulator.url}/_emulator/faults",
        json={"kind": "429", "count": count, "provider": provider, "retry_after": 600},
        timeout=5,
    ).raise_for_status()


def clear_faults(emulator) -> None:
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=5).raise_for_status()


def state_of(appointment: Appointment) -> SyncState:
    return selectors.appointment_sync_state(Appointment.objects.get(pk=appointment.pk)).state


def sweep(conn) -> None:
    tasks.sync_connection(conn.pk, trigger="schedule")  # the 10-minute poll, then its sweep


def test_a_new_booking_whose_first_push_failed_is_sent_by_the_next_sweep(
    conn, cal, book, emulator, provider
):
    fault(emulator, provider)
    appointment = book()
    clear_faults(emulator)
    assert state_of(appointment) == SyncState.FAILED
    assert cal.events() == []
    sweep(conn)
    assert [e["id"] for e in cal.events()]  # the customer's invitation has gone out
    assert len(cal.events()) == 1
    assert state_of(appointment) == SyncState.SENT
    assert not ExportFailure.objects.exists()


def test_an_interrupted_first_push_is_waiting_and_sent_by_the_next_sweep(conn, cal, book):
    appointment = book(run_export=False)  # the worker died before the export task ran
    assert state_of(appointment) == SyncState.WAITING
    sweep(conn)
    assert len(cal.events()) == 1
    assert state_of(appointment) == SyncState.SENT


def test_a_push_that_keeps_failing_backs_off_and_lands_when_the_provider_is_back(
    conn, cal, book, emulator, provider
):
    fault(emulator, provider)
    appointment = book()
    sweep(conn)  # the first retry is at the next sweep
    failure = ExportFailure.objects.get(appointment=appointment)
    assert failure.attempts == 2
    assert failure.retry_at > timezone.now() + dt.timedelta(minutes=4)
    sweep(conn)  # not due: no third attempt yet
    assert ExportFailure.objects.get(appointment=appointment).attempts == 2
    assert state_of(appointment) == SyncState.FAILED
    clear_faults(emulator)
    ExportFailure.objects.update(retry_at=timezone.now() - dt.timedelta(seconds=1))  # 5 min on
    sweep(conn)
    assert len(cal.events()) == 1
    assert state_of(appointment) == SyncState.SENT


def test_a_calendar_invitation_without_its_event_is_never_created_by_the_sweep(
    conn, cal, book, sync_type
):
    from appointments.models import Source

    imported = book(run_export=False, title="Imported")
    Appointment.objects.filter(pk=imported.pk).update(source=Source.GOOGLE)
    sweep(conn)
    assert cal.events() == []
