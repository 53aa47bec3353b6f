"""Calendar → CRM over the emulator, through the real adapters, for Google and Microsoft."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, AttendeeKind
from calendar_sync.models import EventLink
from calendar_sync.sync import engine
from tests.factories import CompanyFactory, ContactFactory

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = ("karl.andersson@exempel.se", "karl@exempel.se", "karl@sthlm.exempel.se")
JOHANNA = ("johanna.svennson@exempel.se", "johanna@exempel.se", "johanna@gbg.exempel.se")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl(sync_user):
    return sync_user(KARL[0], *KARL[1:], first_name="Karl", last_name="Andersson")


@pytest.fixture
def karl_conn(provider, karl, sync_connect):
    return sync_connect(provider, karl, aliases=KARL[1:])


@pytest.fixture
def karl_cal(provider, karl_conn, sync_actor):
    return sync_actor(provider, KARL[0])


def sync(connection, **kw):
    run = engine.sync_connection(connection.pk, trigger="test", **kw)
    assert run is not None and not run.error, run and run.error
    return run


def test_faq_scenario_1_external_invites_karl_alias_and_colleague(provider, karl_conn, sync_actor):
    kund = sync_actor(provider, "kund@extern.se")
    kund.create(
        title="Offertgenomgång",
        start=at(2),
        end=at(2, 11),
        attendees=["karl@exempel.se", "johanna.svennson@exempel.se"],
    )
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.organizer == karl_conn.user
    assert appointment.locked
    assert appointment.lock_reason == "Invited by kund@extern.se: only the organizer can change it"
    assert appointment.source == provider
    assert appointment.appointment_type == karl_conn.appointment_type
    assert appointment.company is None
    emails = {a.email: a.kind for a in appointment.attendees.all()}
    assert emails == {"kund@extern.se": AttendeeKind.EXTERNAL}  # Johanna is not shown


def test_faq_scenario_2_johanna_gbg_is_an_external_contact(provider, karl_conn, karl_cal):
    company = CompanyFactory(name="Johannas AB")
    johanna = ContactFactory(name="Johanna", company=company, emails=["johanna@gbg.exempel.se"])
    karl_cal.create(title="Lunch", start=at(3), end=at(3, 11), attendees=["johanna@gbg.exempel.se"])
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert not appointment.locked
    assert appointment.company == company
    assert [a.contact for a in appointment.attendees.all()] == [johanna]


def test_faq_scenario_3_johanna_gbg_is_a_colleague_when_a_user_has_the_domain(
    provider, karl_conn, karl_cal, sync_user
):
    sync_user("per@gbg.exempel.se")
    ContactFactory(name="Johanna", emails=["johanna@gbg.exempel.se"])
    karl_cal.create(title="Lunch", start=at(3), end=at(3, 11), attendees=["johanna@gbg.exempel.se"])
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert EventLink.objects.get().skip_reason == "only_internal"
    assert run.skipped == {"only_internal": 1}
