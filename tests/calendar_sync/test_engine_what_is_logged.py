"""Calendar → CRM over the emulator, for every provider (issue 15): free-mail domains never make
colleagues, and what is not a meeting (status entries, events marked free) is not logged."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment, AttendeeKind
from calendar_sync import services
from calendar_sync.models import EventLink
from calendar_sync.sync import engine

from .actors import actor_class
from .conftest import KARL, PROVIDERS

pytestmark = pytest.mark.django_db
every_provider = pytest.mark.parametrize("provider", PROVIDERS)
# Providers whose calendars make status entries (iCalendar has none: CalDAV is not among them).
with_status_entries = pytest.mark.parametrize(
    "provider", [p for p in PROVIDERS if actor_class(p).status_kinds]
)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL_GMAIL = "karl.andersson@gmail.com"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


def sync(connection):
    run = engine.sync_connection(connection.pk, trigger="test")
    assert run is not None and not run.error, run and run.error
    return run


# --- free-mail domains are never "colleagues" -------------------------------------------------------
@pytest.fixture
def gmail_conn(provider, karl, sync_connect):
    """Karl connects his gmail.com account: as in the connect flow, it becomes his alias."""
    connection = sync_connect(provider, karl, email=KARL_GMAIL)
    assert services.connection_alias_add(connection=connection)
    return connection


@every_provider
def test_meeting_with_a_gmail_customer_of_a_rep_on_gmail_is_logged(
    provider, gmail_conn, sync_actor
):
    sync_actor(provider, KARL_GMAIL).create(
        title="Offert", start=at(2), end=at(2, 11), attendees=["kund.svensson@gmail.com"]
    )
    sync(gmail_conn)
    appointment = Appointment.objects.get()
    assert [(a.kind, a.email) for a in appointment.attendees.all()] == [
        (AttendeeKind.EXTERNAL, "kund.svensson@gmail.com")
    ]


@every_provider
def test_gmail_invitation_to_a_rep_on_gmail_is_logged(provider, gmail_conn, sync_actor):
    sync_actor(provider, "kund.svensson@gmail.com").create(
        title="Visning", start=at(3), end=at(3, 11), attendees=[KARL_GMAIL]
    )
    sync(gmail_conn)
    assert Appointment.objects.get().locked  # an external's invitation


@every_provider
def test_a_rep_on_gmail_meeting_only_a_colleague_is_still_not_logged(
    provider, gmail_conn, sync_actor
):
    sync_actor(provider, KARL_GMAIL).create(
        title="Internt", start=at(2), end=at(2, 11), attendees=["johanna.svennson@exempel.se"]
    )
    run = sync(gmail_conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"only_internal": 1}


@every_provider
def test_a_users_own_gmail_address_is_still_a_user(provider, gmail_conn, sync_actor, sync_user):
    eva = sync_user("eva.lind@exempel.se", "eva.lind@gmail.com")
    sync_actor(provider, KARL_GMAIL).create(
        title="Lunch", start=at(2), end=at(2, 11), attendees=["eva.lind@gmail.com"]
    )
    run = sync(gmail_conn)
    assert not Appointment.objects.exists()  # Karl and Eva only: internal
    assert run.skipped == {"only_internal": 1}
    sync_actor(provider, KARL_GMAIL).create(
        title="Kund", start=at(4), end=at(4, 11), attendees=["eva.lind@gmail.com", "kund@gmail.com"]
    )
    sync(gmail_conn)
    kinds = {a.email: (a.kind, a.user) for a in Appointment.objects.get().attendees.all()}
    assert kinds == {
        "eva.lind@gmail.com": (AttendeeKind.USER, eva),
        "kund@gmail.com": (AttendeeKind.EXTERNAL, None),
    }


# --- non-meetings are ignored -----------------------------------------------------------------------
@with_status_entries
def test_status_entries_are_not_logged(provider, karl_conn, karl_cal):
    for day, kind in enumerate(type(karl_cal).status_kinds, start=2):
        karl_cal.create_status(kind, start=at(day, 9), end=at(day, 12))
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"not_a_meeting": len(type(karl_cal).status_kinds)}
    assert set(EventLink.objects.values_list("skip_reason", flat=True)) == {"not_a_meeting"}


@every_provider
def test_meeting_with_a_customer_marked_free_is_not_logged(provider, karl_conn, karl_cal):
    karl_cal.create(title="Påminnelse", start=at(2), end=at(2, 11),
                    attendees=["kund@extern.se"], free=True)  # fmt: skip
    karl_cal.create(title="Möte", start=at(3), end=at(3, 11),
                    attendees=["kund@extern.se"], free=False)  # fmt: skip
    run = sync(karl_conn)
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Möte"]
    assert run.skipped == {"marked_free": 1}


@every_provider
def test_an_invitation_the_rep_marks_free_is_not_logged(provider, karl_conn, sync_actor):
    kund = sync_actor(provider, "kund@extern.se")
    kund.create(title="Webbinarium", start=at(2), end=at(2, 11), attendees=[KARL])
    karl_cal = sync_actor(provider, KARL)
    [copy] = karl_cal.events()
    karl_cal.update(copy["id"], free=True)  # Karl's own copy: show as free
    run = sync(karl_conn)
    assert not Appointment.objects.exists()
    assert run.skipped == {"marked_free": 1}


@every_provider
def test_a_logged_meeting_later_marked_free_stays_logged_and_follows_the_event(
    provider, karl_conn, karl_cal
):
    """As a logged meeting that becomes internal only: once an appointment, always followed."""
    created = karl_cal.create(
        title="Möte", start=at(2), end=at(2, 11), attendees=["kund@extern.se"]
    )
    sync(karl_conn)
    karl_cal.update(created["id"], free=True, title="Möte (preliminärt)")
    run = sync(karl_conn)
    appointment = Appointment.objects.get()
    assert appointment.title == "Möte (preliminärt)" and appointment.cancelled_at is None
    assert run.skipped == {}
    assert EventLink.objects.get().skip_reason == ""


@every_provider
def test_a_meeting_marked_free_is_logged_once_marked_busy(provider, karl_conn, karl_cal):
    created = karl_cal.create(title="Möte", start=at(2), end=at(2, 11),
                              attendees=["kund@extern.se"], free=True)  # fmt: skip
    sync(karl_conn)
    assert not Appointment.objects.exists()
    karl_cal.update(created["id"], free=False)
    run = sync(karl_conn)
    assert run.created == 1 and Appointment.objects.get().title == "Möte"
