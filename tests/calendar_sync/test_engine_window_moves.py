"""Events moved across the edge of the sync window, for Google and Microsoft over the emulator.

Graph's calendarView/delta reports an event that left its fixed window as ``@removed``, the same
as a deleted one: the adapter must tell the two apart, or a moved meeting gets cancelled."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from calendar_sync.sync import engine

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


def test_event_moved_out_of_the_window_is_moved_not_cancelled(provider, karl_conn, karl_cal):
    created = karl_cal.create(title="Kvartalsmöte", start=at(80), end=at(80, 11),
                              attendees=["kund@extern.se"])  # fmt: skip
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    assert Appointment.objects.get().start == at(80)
    karl_cal.update(created["id"], start=at(100), end=at(100, 11))
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert not run.error
    appointment = Appointment.objects.get()
    assert appointment.cancelled_at is None
    assert appointment.start == at(100)


def test_event_deleted_in_the_calendar_is_still_cancelled(provider, karl_conn, karl_cal):
    created = karl_cal.create(title="Lunch", start=at(5), end=at(5, 11),
                              attendees=["kund@extern.se"])  # fmt: skip
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    karl_cal.delete(created["id"])
    engine.sync_connection(karl_conn.pk, trigger="test")
    assert Appointment.objects.get().cancelled_at is not None
