"""Invited meetings are shown as they are (issue 9, item 3), over the emulator for Google and
Microsoft: a meeting a contact organised is locked, and its calendar fields are read-only with
the reason instead of "saved" and then undone by the next sync."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from appointments.models import Appointment
from appointments.services import AppointmentPermissionDenied, appointment_update
from calendar_sync.sync import engine
from tests.factories import CompanyFactory, ContactFactory

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = "karl.andersson@exempel.se"
JOHAN = "johan.ek@acme.se"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl(sync_user):
    return sync_user(KARL, first_name="Karl", last_name="Andersson")


@pytest.fixture
def conn(provider, karl, sync_connect):
    return sync_connect(provider, karl)


@pytest.fixture
def johan():
    acme = CompanyFactory(name="Acme AB")
    return ContactFactory(name="Johan Ek", company=acme, emails=[JOHAN])


@pytest.fixture
def invitation(provider, conn, johan, sync_actor):
    """Johan (a contact, on the same provider) invites Karl; Karl's sync brings it in."""
    sync_actor(provider, JOHAN).create(
        title="Avstämning", start=at(3), end=at(3, 11), attendees=[KARL]
    )
    run = engine.sync_connection(conn.pk, trigger="test", full=True)
    assert run is not None and not run.error
    appointment = Appointment.objects.get()
    assert appointment.locked
    return appointment


def test_a_locked_meetings_title_cannot_be_saved_only_to_be_undone(
    provider, karl, conn, invitation, client
):
    with pytest.raises(AppointmentPermissionDenied):
        appointment_update(appointment=invitation, actor=karl, title="Min egen titel")
    client.force_login(karl)
    form = client.get(reverse("appointments:edit", args=[invitation.pk])).context["form"]
    assert "organizer's calendar" in form.readonly_reasons["title"]
    engine.sync_connection(conn.pk, trigger="test", full=True)
    invitation.refresh_from_db()
    assert invitation.title == "Avstämning"
