"""Exclusion lists over the emulator, through the real adapters, for Google and Microsoft: an
event whose externals are all excluded is not logged, excluded people are never matched or
shown, and removing what was logged because of a new entry keeps it out."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from appointments.models import Appointment, AttendeeKind, Source
from calendar_sync import selectors, services, tasks
from calendar_sync.models import EventLink, SyncRun
from tests.factories import CompanyFactory, ContactFactory, UserFactory

from .conftest import PROVIDERS
from .test_engine_import import KARL, at, sync

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]


@pytest.fixture
def karl_aliases():
    """Karl has two more addresses (allauth aliases, and at his provider account)."""
    return KARL[1:]


@pytest.fixture
def admin(db):
    return UserFactory(email="admin@exempel.se", is_staff=True, is_superuser=True)


def test_event_whose_externals_are_all_on_the_reps_list_is_not_logged(
    provider, karl, karl_conn, karl_cal
):
    services.exclusion_add(actor=karl, value="doktor@vard.test")
    services.exclusion_add(actor=karl, value="@advokat.test")
    karl_cal.create(
        title="Privat", start=at(2), end=at(2, 11),
        attendees=["doktor@vard.test", "partner@advokat.test"],
    )  # fmt: skip
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    link = EventLink.objects.get()
    assert link.skip_reason == "excluded"
    assert run.skipped == {"excluded": 1}
    assert [e.reason for e in selectors.skipped_events(karl_conn)] == [
        "Only people on an exclusion list (yours or the organisation's)"
    ]


def test_invitation_from_a_subdomain_of_an_organisation_entry_is_not_logged(
    provider, karl_conn, sync_actor, admin
):
    services.exclusion_add(actor=admin, value="*.bank.test", organisation=True)
    sync_actor(provider, "vd@privat.bank.test").create(
        title="Bolån", start=at(3), end=at(3, 11), attendees=[KARL[1]]
    )
    sync(karl_conn)
    assert not Appointment.objects.exists()
    assert EventLink.objects.get().skip_reason == "excluded"


def test_excluded_person_is_neither_matched_nor_shown_but_the_meeting_is_logged(
    provider, karl, karl_conn, karl_cal
):
    private = CompanyFactory(name="Vårdcentralen")
    ContactFactory(name="Doktorn", company=private, emails=["doktor@vard.test"])
    acme = CompanyFactory(name="Acme")
    johan = ContactFactory(name="Johan", company=acme, emails=["johan@acme.test"])
    services.exclusion_add(actor=karl, value="doktor@vard.test")
    karl_cal.create(
        title="Möte", start=at(4), end=at(4, 11), attendees=["doktor@vard.test", "johan@acme.test"]
    )
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert [(a.kind, a.email) for a in appointment.attendees.all()] == [
        (AttendeeKind.CONTACT, "johan@acme.test")
    ]
    assert appointment.attendees.get().contact == johan
    assert appointment.company == acme  # not the excluded contact's company


def test_excluded_organizer_is_not_shown_as_who_invited(provider, karl, karl_conn, sync_actor):
    services.exclusion_add(actor=karl, value="@advokat.test")
    sync_actor(provider, "partner@advokat.test").create(
        title="Avtal", start=at(5), end=at(5, 11), attendees=[KARL[0], "kund@acme.test"]
    )
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.locked  # still an invitation from outside
    assert (appointment.invited_by_email, appointment.invited_by_name) == ("", "")
    assert {a.email for a in appointment.attendees.all()} == {"kund@acme.test"}


def test_another_reps_personal_list_does_not_apply(provider, karl_conn, karl_cal, sync_user):
    eva = sync_user("eva.lind@exempel.se")
    services.exclusion_add(actor=eva, value="kund@acme.test")
    karl_cal.create(title="Möte", start=at(2), end=at(2, 11), attendees=["kund@acme.test"])
    sync(karl_conn)
    assert Appointment.objects.get().attendees.get().email == "kund@acme.test"


def test_a_changed_event_drops_a_newly_excluded_participant(provider, karl, karl_conn, karl_cal):
    created = karl_cal.create(
        title="Möte", start=at(2), end=at(2, 11), attendees=["kund@acme.test", "vd@bank.test"]
    )
    sync(karl_conn)
    services.exclusion_add(actor=karl, value="*.bank.test")
    karl_cal.update(created["id"], title="Möte (flyttat)")
    sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.title == "Möte (flyttat)"
    assert {a.email for a in appointment.attendees.all()} == {"kund@acme.test"}


def test_removing_what_was_logged_because_of_a_new_entry(
    provider, karl, karl_conn, karl_cal, sync_actor
):
    kind = karl_conn.appointment_type
    created = karl_cal.create(
        title="Privat", start=at(2), end=at(2, 11), attendees=["doktor@vard.test"]
    )
    karl_cal.create(title="Kund", start=at(3), end=at(3, 11), attendees=["kund@acme.test"])
    karl_cal.create(
        title="Båda", start=at(4), end=at(4, 11), attendees=["doktor@vard.test", "kund@acme.test"]
    )
    sync(karl_conn)
    booked = Appointment.objects.create(  # booked in the CRM: never removed
        organizer=karl, title="Bokat", appointment_type=kind, start=at(6), end=at(6, 11),
        source=Source.CRM,
    )  # fmt: skip
    booked.attendees.create(kind="external", email="doktor@vard.test")
    assert Appointment.objects.count() == 4

    services.exclusion_add(actor=karl, value="doktor@vard.test")
    offered = selectors.excluded_logged_appointments(user=karl)
    assert [a.title for a in offered] == ["Privat"]
    assert services.exclusion_remove_logged(actor=karl) == (1, 1)
    assert set(Appointment.objects.values_list("title", flat=True)) == {"Kund", "Båda", "Bokat"}
    both = Appointment.objects.get(title="Båda")
    assert {a.email for a in both.attendees.all()} == {"kund@acme.test"}  # taken off
    assert {a.email for a in booked.attendees.all()} == {"doktor@vard.test"}  # CRM's: kept
    assert created["id"] in {e["id"] for e in karl_cal.events()}  # the calendar keeps its event

    sync(karl_conn, full=True)  # and the sync does not bring it back
    assert not Appointment.objects.filter(title="Privat").exists()
    assert EventLink.objects.get(provider_event_id=created["id"]).skip_reason == "deleted_in_crm"
    assert {a.email for a in both.attendees.all()} == {"kund@acme.test"}
    assert not selectors.excluded_logged(user=karl)


def test_unchanged_poll_with_entries_costs_no_extra_query(provider, karl, karl_conn, karl_cal):
    services.exclusion_add(actor=karl, value="@advokat.test")
    karl_cal.create(title="Möte", start=at(5), end=at(5, 11), attendees=["kund@extern.se"])
    sync(karl_conn)
    tasks.sync_connection(karl_conn.pk)  # the first incremental run (tokens, caches)
    runs = SyncRun.objects.count()
    with CaptureQueriesContext(db) as queries:
        assert tasks.sync_connection(karl_conn.pk) is None
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) <= 4, sql
    assert not [q for q in sql if "exclusionentry" in q.lower()]
    assert SyncRun.objects.count() == runs
