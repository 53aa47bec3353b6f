"""Booking fixtures: a rep (Karl) with an active calendar at the emulator, rooms, contacts.

The emulator and sync fixtures of tests/calendar_sync are reused as they are."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.calendar_sync.conftest import *  # noqa: F403 - reuse the emulator/sync fixtures
from tests.calendar_sync.conftest import PROVIDERS

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = "karl.andersson@exempel.se"
ROOMS = [
    ("rum.stora@exempel.se", "Stora rummet", 12, "HQ"),
    ("rum.lilla@exempel.se", "Lilla rummet", 4, "HQ"),
]


def next_weekday(days_ahead: int = 2) -> dt.date:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), STOCKHOLM)


@pytest.fixture(params=PROVIDERS)
def provider(request):
    return request.param


@pytest.fixture
def karl(sync_user):
    return sync_user(KARL, first_name="Karl", last_name="Andersson")


@pytest.fixture
def karl_conn(provider, karl, sync_connect):
    return sync_connect(provider, karl)


@pytest.fixture
def karl_cal(provider, karl_conn, sync_actor):
    """Karl acting directly in his own calendar at the provider (meetings the CRM never saw)."""
    return sync_actor(provider, KARL)


@pytest.fixture
def rooms(provider, emulator):
    return [
        emulator.state.account_create(
            provider=provider, email=email, name=name, is_room=True, capacity=cap, building=b
        )
        for email, name, cap, b in ROOMS
    ]


@pytest.fixture
def day():
    return next_weekday()
