"""CRM → calendar over the emulator, through the real adapters, for Google and Microsoft."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_create, appointment_delete, appointment_update
from calendar_sync import tasks
from calendar_sync.models import EventLink
from calendar_sync.sync import engine, exporter, mapping
from tests.factories import ContactFactory

from .actors import actor_class
from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def eva(sync_user):
    return sync_user("eva.lind@exempel.se", first_name="Eva")


@pytest.fixture
def karl_activated_at():
    """Karl's calendar connection here was activated a day ago."""
    return timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def contact():
    return ContactFactory(name="Kund Kundsson", emails=["kund@extern.se"])


@pytest.fixture
def book(karl, sync_type, django_capture_on_commit_callbacks):
    """Book through the CRM service; the signal's export task runs inline (Q sync)."""

    def make(**kw):
        fields = {
            "organizer": karl,
            "title": "Demo",
            "appointment_type": sync_type,
            "start": at(2),
            "end": at(2, 11),
            **kw,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return appointment_create(**fields)

    return make


def attendee_emails(provider: str, event: dict) -> set[str]:
    return actor_class(provider).attendee_emails(event)


def title_of(provider: str, event: dict) -> str:
    return actor_class(provider).title_of(event)


def body_of(provider: str, event: dict) -> str:
    return actor_class(provider).body_of(event)


def test_crm_appointment_becomes_an_event_with_invitations(
    provider, karl_conn, karl_cal, book, contact, eva
):
    appointment = book(
        agenda="Välkomna!",
        description="Genomgång av offerten",
        location="Sveavägen 44",
        contacts=[contact],
        users=[eva],
        external_emails=["extra@annan.se"],
    )
    [event] = karl_cal.events()
    assert title_of(provider, event) == "Demo"
    assert attendee_emails(provider, event) == {"kund@extern.se", "eva.lind@exempel.se",
                                                "extra@annan.se"}  # fmt: skip
    assert body_of(provider, event).strip() == "Välkomna!"  # never the internal description
    link = EventLink.objects.get(appointment=appointment)
    assert link.connection == karl_conn and link.synced_hash


def test_export_does_not_echo_back_and_is_not_re_exported(
    provider, karl_conn, karl_cal, book, contact
):
    appointment = book(contacts=[contact])
    before = Appointment.objects.get().updated_at
    run = engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    assert run.created == 0 and run.updated == 0
    assert Appointment.objects.get().updated_at == before
    assert exporter.export_appointment(appointment.pk) == "unchanged"
    assert len(karl_cal.events()) == 1


def test_crm_change_updates_the_event(provider, karl_conn, karl_cal, book, karl):
    appointment = book()
    appointment_update(appointment=appointment, actor=karl, title="Demo v2")
    assert exporter.export_appointment(appointment.pk) == "updated"
    [event] = karl_cal.events()
    assert title_of(provider, event) == "Demo v2"


def test_rep_change_in_the_calendar_flows_back(provider, karl_conn, karl_cal, book):
    appointment = book()
    [event] = karl_cal.events()
    karl_cal.update(event["id"], title="Ändrat i kalendern")
    engine.sync_connection(karl_conn.pk, trigger="test")
    appointment.refresh_from_db()
    assert appointment.title == "Ändrat i kalendern"
    assert exporter.export_appointment(appointment.pk) == "unchanged"  # no echo either way


def test_conflict_last_writer_wins(provider, karl_conn, karl_cal, book, karl):
    appointment = book()
    [event] = karl_cal.events()
    karl_cal.update(event["id"], title="Kalendern först")
    # The CRM writes later (its export is not run yet): the import must not overwrite it.
    Appointment.objects.filter(pk=appointment.pk).update(
        title="CRM sist", updated_at=timezone.now() + dt.timedelta(seconds=5)
    )
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    appointment.refresh_from_db()
    assert appointment.title == "CRM sist"
    assert karl_conn.sync_runs.first().pk == run.pk
    assert exporter.export_appointment(appointment.pk) == "updated"
    assert title_of(provider, karl_cal.events()[0]) == "CRM sist"


def test_back_dated_appointment_is_never_pushed(provider, karl_conn, karl_cal, book):
    appointment = book(start=at(-2), end=at(-2, 11))
    assert not karl_cal.events()
    assert exporter.export_appointment(appointment.pk) == "back-dated or passed"


def test_organizer_without_connection_pushes_nothing(provider, karl_conn, karl_cal, book, eva):
    appointment = book(organizer=eva)
    assert (
        exporter.export_appointment(appointment.pk) == "organizer has no active calendar connection"
    )
    assert not karl_cal.events()


def test_delete_in_the_crm_keeps_the_calendar_event(provider, karl_conn, karl_cal, book, karl):
    appointment = book()
    appointment_delete(appointment=appointment, actor=karl)
    assert len(karl_cal.events()) == 1


def test_locked_appointment_is_never_pushed(provider, karl_conn, karl_cal, karl, sync_type):
    appointment = Appointment.objects.create(
        organizer=karl, title="Inbjudan", appointment_type=sync_type, start=at(2),
        end=at(2, 11), locked=True, lock_reason="Invited by k@x.se",
    )  # fmt: skip
    assert "locked" in exporter.export_appointment(appointment.pk)
    assert not karl_cal.events()


def test_appointment_beyond_the_window_is_pushed_when_it_enters(
    provider, karl_conn, karl_cal, book, settings
):
    appointment = book(start=at(100), end=at(100, 11))
    assert not karl_cal.events()
    settings.SYNC_WINDOW_DAYS = 120  # time passes: the window now reaches it
    tasks.export_window_entries()
    assert EventLink.objects.filter(appointment=appointment).exists()
    assert len(karl_cal.events()) == 1


def test_activation_pushes_existing_appointments_without_attendees(
    provider, karl, sync_type, sync_connect, sync_actor, contact
):
    appointment = Appointment.objects.create(
        organizer=karl, title="Före appen", appointment_type=sync_type, start=at(3), end=at(3, 11)
    )
    appointment.attendees.create(kind="contact", contact=contact, email="kund@extern.se")
    karl_conn = sync_connect(provider, karl, activated_at=timezone.now() + dt.timedelta(seconds=1))
    tasks.connection_activated(karl_conn.pk)
    [event] = sync_actor(provider, karl_conn.account_email).events()
    assert title_of(provider, event) == "Före appen"
    assert attendee_emails(provider, event) == set()
    karl_conn.refresh_from_db()
    assert karl_conn.last_sync_summary["exported"] == 1  # the rep's status page counts it
    assert karl_conn.sync_runs.get(trigger="activation").exported == 1


def test_crash_between_provider_write_and_commit_leaves_no_duplicate(
    provider, karl_conn, karl_cal, karl, sync_type, monkeypatch
):
    appointment = Appointment.objects.create(
        organizer=karl, title="Krasch", appointment_type=sync_type, start=at(2), end=at(2, 11)
    )
    real_save_link = exporter.save_link
    calls = {"n": 0}

    def crash_once(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return real_save_link(*args, **kw)

    monkeypatch.setattr(exporter, "save_link", crash_once)
    with pytest.raises(RuntimeError):
        exporter.export_appointment(appointment.pk)
    assert len(karl_cal.events()) == 1  # written at the provider, not recorded here
    assert exporter.export_appointment(appointment.pk) == "created"  # the retry
    assert len(karl_cal.events()) == 1
    assert EventLink.objects.filter(appointment=appointment).count() == 1


def test_idempotency_key_is_stable_per_appointment_and_connection(provider, karl_conn, book):
    appointment = book()
    draft = exporter.build_draft(appointment, karl_conn)
    assert draft.idempotency_key == mapping.idempotency_key(appointment.pk, karl_conn.pk)
    assert draft.crm_id == str(appointment.pk)


# --- updates merge attendees; CRM-only changes stay in the CRM ----------------------------------
def provider_requests(emulator) -> int:
    return emulator.state.request_summary()["total"]


def update_in_crm(django_capture_on_commit_callbacks, appointment, actor, **changes):
    """Through the service, so the signal (with its changed_fields) runs the export inline."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=actor, **changes)


def test_colleague_added_in_the_calendar_survives_a_crm_agenda_edit(
    provider, karl_conn, karl_cal, karl, contact, django_capture_on_commit_callbacks
):
    karl_cal.create(title="Offertgenomgång", start=at(3), end=at(3, 11),
               attendees=["kund@extern.se", "johanna@exempel.se"])  # fmt: skip
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    appointment = Appointment.objects.get()
    assert {a.email for a in appointment.attendees.all()} == {"kund@extern.se"}  # Johanna hidden
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, agenda="Ny text")
    [event] = karl_cal.events()
    assert "Ny text" in body_of(provider, event)
    assert attendee_emails(provider, event) == {"kund@extern.se", "johanna@exempel.se"}


def test_outcome_change_makes_no_provider_request(
    provider, karl_conn, karl_cal, book, karl, contact, emulator, django_capture_on_commit_callbacks
):
    appointment = book(contacts=[contact])
    before = provider_requests(emulator)
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, outcome="completed")
    assert provider_requests(emulator) == before
    # Nothing is left pending for the sweep either.
    assert exporter.export_appointment(appointment.pk) == "unchanged"
    assert provider_requests(emulator) == before


def test_removing_a_contact_in_the_crm_removes_only_that_attendee(
    provider, karl_conn, karl_cal, book, karl, contact, django_capture_on_commit_callbacks
):
    other = ContactFactory(name="Andra Kund", emails=["andra@extern.se"])
    appointment = book(contacts=[contact, other])
    [event] = karl_cal.events()
    karl_cal.update(
        event["id"], attendees=[*attendee_emails(provider, event), "johanna@exempel.se"]
    )
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, contacts=[contact])
    [event] = karl_cal.events()
    assert attendee_emails(provider, event) == {"kund@extern.se", "johanna@exempel.se"}


def test_change_from_the_calendar_is_not_pushed_back(
    provider, karl_conn, karl_cal, book, monkeypatch, django_capture_on_commit_callbacks
):
    from appointments.signals import appointment_changed

    appointment = book()
    [event] = karl_cal.events()
    karl_cal.update(event["id"], title="Ändrad i kalendern")
    announced, tasks_queued = [], []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *a, **k: tasks_queued.append(a))

    def listen(sender, **kw):
        announced.append((kw["appointment_id"], kw["origin"], kw["changed_fields"]))

    appointment_changed.connect(listen, dispatch_uid="test_listen")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            run = engine.sync_connection(karl_conn.pk, trigger="test")
    finally:
        appointment_changed.disconnect(dispatch_uid="test_listen")
    assert run.updated == 1
    appointment.refresh_from_db()
    assert appointment.title == "Ändrad i kalendern"
    # The import announced its change, as from the calendar, and nothing queued its export.
    assert announced == [(appointment.pk, "calendar", ["title"])]
    assert tasks_queued == []


# --- updates are not limited by the window; failed pushes heal ----------------------------------
def start_of(provider: str, event: dict) -> dt.datetime:
    return actor_class(provider).start_of(event)


def test_exported_appointment_moved_beyond_the_window_moves_the_event(
    provider, karl_conn, karl_cal, book, karl, django_capture_on_commit_callbacks
):
    appointment = book(start=at(10), end=at(10, 11))
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl,
                  start=at(100), end=at(100, 11))  # fmt: skip
    [event] = karl_cal.events()
    assert start_of(provider, event) == at(100)
    link = EventLink.objects.get(appointment=appointment)
    assert link.crm_updated_at == Appointment.objects.get().updated_at  # nothing pending


def test_update_that_failed_with_a_500_is_pushed_by_the_next_sweep(
    provider, karl_conn, karl_cal, book, karl, emulator, adapter_retry_sleeps,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    import requests

    appointment = book()
    requests.post(
        f"{emulator.url}/_emulator/faults",
        json={"kind": "500", "count": 20, "provider": provider},
        timeout=5,
    ).raise_for_status()
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, title="Demo v2")
    requests.delete(f"{emulator.url}/_emulator/faults", timeout=5).raise_for_status()
    [event] = karl_cal.events()
    assert title_of(provider, event) == "Demo"  # the push failed (and was recorded)
    karl_conn.refresh_from_db()
    assert karl_conn.last_error
    tasks.sync_connection(karl_conn.pk, trigger="schedule")  # the 10-minute poll
    [event] = karl_cal.events()
    assert title_of(provider, event) == "Demo v2"
    assert exporter.export_appointment(appointment.pk) == "unchanged"


def test_adding_a_contact_to_an_imported_appointment_keeps_the_colleague(
    provider, karl_conn, karl_cal, karl, contact, django_capture_on_commit_callbacks
):
    karl_cal.create(title="Offertgenomgång", start=at(3), end=at(3, 11),
               attendees=["kund@extern.se", "johanna@exempel.se"])  # fmt: skip
    engine.sync_connection(karl_conn.pk, trigger="test", full=True)
    appointment = Appointment.objects.get()
    other = ContactFactory(name="Andra Kund", emails=["andra@extern.se"])
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, contacts=[contact, other])
    [event] = karl_cal.events()
    assert attendee_emails(provider, event) == {
        "kund@extern.se", "johanna@exempel.se", "andra@extern.se"
    }  # fmt: skip


def test_edit_of_an_activation_pushed_appointment_keeps_people_added_in_the_calendar(
    provider, karl, sync_type, sync_connect, sync_actor, contact, django_capture_on_commit_callbacks
):
    appointment = Appointment.objects.create(
        organizer=karl, title="Före appen", appointment_type=sync_type, start=at(3), end=at(3, 11)
    )
    appointment.attendees.create(kind="contact", contact=contact, email="kund@extern.se")
    karl_conn = sync_connect(provider, karl, activated_at=timezone.now() + dt.timedelta(seconds=1))
    tasks.connection_activated(karl_conn.pk)
    karl_cal = sync_actor(provider, karl_conn.account_email)
    [event] = karl_cal.events()
    karl_cal.update(event["id"], attendees=["johanna@exempel.se"])
    update_in_crm(django_capture_on_commit_callbacks, appointment, karl, title="Efter appen")
    [event] = karl_cal.events()
    assert title_of(provider, event) == "Efter appen"
    assert attendee_emails(provider, event) == {"johanna@exempel.se"}
