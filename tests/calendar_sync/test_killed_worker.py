"""A worker killed between the provider write and our commit leaves no duplicate: the event we
created comes back recognised by the idempotency key its create carried (Graph transactionId,
Google's event id and private property), joins its appointment, and the retried export merges
into that link. For Google and Microsoft over the emulator."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from appointments.models import Appointment
from appointments.services import appointment_create
from calendar_sync import tasks
from calendar_sync.models import EventLink
from calendar_sync.sync import exporter

from .conftest import PROVIDERS

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


class WorkerKilled(BaseException):
    """The process died: nothing after the provider's answer ran."""


@pytest.fixture
def conn(provider, sync_user, sync_connect):
    karl = sync_user("karl.andersson@exempel.se")
    return sync_connect(provider, karl, activated_at=timezone.now() - dt.timedelta(days=1))


def book_and_die(conn, sync_type, django_capture_on_commit_callbacks):
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        appointment_create(
            organizer=conn.user, title="Demo", appointment_type=sync_type,
            start=at(2), end=at(2, 11), external_emails=["kund@extern.se"],
        )  # fmt: skip
    return Appointment.objects.get()


def test_the_event_of_a_killed_export_joins_its_appointment_at_the_next_sync(
    conn, sync_type, sync_actor, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(exporter, "save_link", _die)
    appointment = book_and_die(conn, sync_type, django_capture_on_commit_callbacks)
    monkeypatch.undo()
    calendar = sync_actor(conn.provider, conn.account_email)
    assert len(calendar.events()) == 1  # written at the provider, never recorded here
    assert not EventLink.objects.exists()

    tasks.sync_connection(conn.pk, trigger="schedule")  # the import, then the sweep

    assert list(Appointment.objects.values_list("pk", flat=True)) == [appointment.pk]
    [link] = EventLink.objects.all()
    assert link.appointment_id == appointment.pk and link.skip_reason == ""
    assert len(calendar.events()) == 1
    tasks.sync_connection(conn.pk, trigger="schedule")  # and it stays that way
    assert Appointment.objects.count() == 1 and len(calendar.events()) == 1


def test_the_retried_export_of_a_killed_worker_merges_into_the_same_event(
    conn, sync_type, sync_actor, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(exporter, "save_link", _die)
    appointment = book_and_die(conn, sync_type, django_capture_on_commit_callbacks)
    monkeypatch.undo()
    assert tasks.export_appointment(appointment.pk) == "created"  # q2 runs the task again
    calendar = sync_actor(conn.provider, conn.account_email)
    assert len(calendar.events()) == 1
    tasks.sync_connection(conn.pk, trigger="schedule")
    assert Appointment.objects.count() == 1 and len(calendar.events()) == 1
    assert EventLink.objects.get().appointment_id == appointment.pk


def test_the_event_of_a_killed_export_stays_out_once_the_appointment_is_deleted(
    conn, sync_type, sync_actor, django_capture_on_commit_callbacks, monkeypatch
):
    from appointments.services import appointment_delete
    from calendar_sync.sync.rules import SkipReason

    monkeypatch.setattr(exporter, "save_link", _die)
    appointment = book_and_die(conn, sync_type, django_capture_on_commit_callbacks)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_delete(appointment=appointment, actor=conn.user)
    tasks.sync_connection(conn.pk, trigger="schedule")
    assert not Appointment.objects.exists()  # deleted in the CRM stays deleted
    assert EventLink.objects.get().skip_reason == SkipReason.DELETED_IN_CRM
    assert len(sync_actor(conn.provider, conn.account_email).events()) == 1  # the event stays


def _die(*args, **kwargs):
    raise WorkerKilled
