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

from .conftest import KARL, PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
JOHAN = "johan.ek@acme.se"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def johan():
    acme = CompanyFactory(name="Acme AB")
    return ContactFactory(name="Johan Ek", company=acme, emails=[JOHAN])


@pytest.fixture
def invitation(provider, karl_conn, johan, sync_actor):
    """Johan (a contact, on the same provider) invites Karl; Karl's sync brings it in."""
    sync_actor(provider, JOHAN).create(
        title="Avstämning", start=at(3), end=at(3, 11), attendees=[KARL]
    )
    run = engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    assert run is not None and not run.error
    appointment = Appointment.objects.get()
    assert appointment.locked
    return appointment


def test_a_locked_meetings_title_cannot_be_saved_only_to_be_undone(
    provider, karl, karl_conn, invitation, client
):
    with pytest.raises(AppointmentPermissionDenied):
        appointment_update(appointment=invitation, actor=karl, title="Min egen titel")
    client.force_login(karl)
    form = client.get(reverse("appointments:edit", args=[invitation.pk])).context["form"]
    assert "organizer's calendar" in form.readonly_reasons["title"]
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    invitation.refresh_from_db()
    assert invitation.title == "Avstämning"


def _karls_copy(provider, sync_actor) -> str:
    """The invitation's id in Karl's own calendar."""
    (event,) = [e for e in sync_actor(provider, KARL).events() if "Avst" in str(e)]
    return event["id"]


def test_an_invitation_shows_its_organizer_and_the_reps_own_response(
    provider, karl, karl_conn, johan, invitation, sync_actor, client
):
    assert invitation.invited_by_email == JOHAN
    assert invitation.own_response == "no_answer"  # needs action
    karl_event = _karls_copy(provider, sync_actor)
    client.force_login(karl)
    for answer in ("accepted", "tentative"):
        sync_actor(provider, KARL).respond(karl_event, answer)
        run = engine.sync_connection(karl_conn.pk, trigger="test", full=False)
        assert run is not None and not run.error
        invitation.refresh_from_db()
        assert invitation.own_response == answer
        page = client.get(reverse("appointments:detail", args=[invitation.pk])).content.decode()
        assert f'<a href="{johan.get_absolute_url()}">' in page.split('id="invited-by"')[1]
        assert JOHAN in page.split('id="invited-by"')[1].split("</dd>")[0]
        own = page.split('id="own-response"')[1].split("</dd>")[0]
        assert answer.capitalize() in own
        api = client.get(f"/api/v1/appointments/{invitation.pk}/").json()
        assert api["invited_by"] == {"email": JOHAN, "name": "Johan Ek", "contact": johan.pk}
        assert api["own_response"] == answer
        karl_row = api["participants"][0]
        assert (karl_row["email"], karl_row["kind"], karl_row["response"]) == (KARL, "user", answer)
        assert {"email": JOHAN, "kind": "contact"}.items() <= next(
            p for p in api["participants"] if p["email"] == JOHAN
        ).items()


def test_a_meeting_the_rep_organises_has_no_invited_by(
    provider, karl, karl_conn, sync_actor, client
):
    sync_actor(provider, KARL).create(title="Eget", start=at(4), end=at(4, 11), attendees=[JOHAN])
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    appointment = Appointment.objects.get()
    assert (appointment.invited_by_email, appointment.own_response) == ("", "")
    client.force_login(karl)
    api = client.get(f"/api/v1/appointments/{appointment.pk}/").json()
    assert api["invited_by"] is None and api["own_response"] is None
    assert api["participants"][0]["kind"] == "organizer"
