"""Booking fixtures: rooms, contacts; the rep (Karl: ``karl``, ``karl_conn``, ``karl_cal``) with an
active calendar at the emulator comes from tests/calendar_sync.

The emulator and sync fixtures of tests/calendar_sync are reused as they are."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.calendar_sync.conftest import *  # noqa: F403 - reuse the emulator/sync fixtures
from tests.calendar_sync.conftest import (  # noqa: F401 - KARL: for the booking and page tests
    KARL,
    PROVIDERS,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
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
