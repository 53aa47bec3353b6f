from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import Group

from tests.factories import (
    AppointmentFactory,
    AppointmentTypeFactory,
    CompanyFactory,
    ContactFactory,
    UserFactory,
    add_contact_attendee,
    add_user_attendee,
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NOW = datetime(2025, 3, 12, 9, 0, tzinfo=STOCKHOLM)  # a Wednesday morning


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def meeting_type():
    return AppointmentTypeFactory(name="Meeting")


@pytest.fixture
def organizer(db):
    return UserFactory(email="karl.andersson@exempel.se", first_name="Karl", last_name="Andersson")


@pytest.fixture
def participant(db):
    return UserFactory(email="eva.lind@exempel.se", first_name="Eva", last_name="Lind")


@pytest.fixture
def outsider(db):
    return UserFactory(email="olle.utanfor@exempel.se")


@pytest.fixture
def company(db):
    return CompanyFactory(name="Acme Sverige AB", email_domains="acme.se")


@pytest.fixture
def contact(company):
    return ContactFactory(name="Johan Ek", company=company, emails=["johan.ek@acme.se"])


def make_appointment(organizer, *, start, hours=1, users=(), contacts=(), **kwargs):
    appointment = AppointmentFactory(
        organizer=organizer, start=start, end=start + timedelta(hours=hours), **kwargs
    )
    for user in users:
        add_user_attendee(appointment, user)
    for c in contacts:
        add_contact_attendee(appointment, c)
    return appointment


@pytest.fixture
def upcoming(now, organizer, participant, contact, company, meeting_type):
    return make_appointment(
        organizer,
        start=now + timedelta(days=1),
        users=[participant],
        contacts=[contact],
        company=company,
        appointment_type=meeting_type,
        location="Sveavägen 44",
    )


@pytest.fixture
def passed(now, organizer, participant, contact, company, meeting_type):
    return make_appointment(
        organizer,
        start=now - timedelta(days=1),
        users=[participant],
        contacts=[contact],
        company=company,
        appointment_type=meeting_type,
        location="Sveavägen 44",
    )


@pytest.fixture
def locked(now, organizer, participant, contact, meeting_type):
    return make_appointment(
        organizer,
        start=now + timedelta(days=1),
        users=[participant],
        contacts=[contact],
        appointment_type=meeting_type,
        locked=True,
        lock_reason="a contact invited you",
        source="google",
    )


@pytest.fixture
def team():
    return Group.objects.create(name="Stockholm")
