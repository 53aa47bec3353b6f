"""The rep's status page says which calendar events were not logged in the CRM, and why."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from appointments.models import Appointment
from calendar_sync.models import CalendarApp
from calendar_sync.sync import engine

from .actors import actor_class
from .conftest import PROVIDERS
from .test_engine_import import KARL, at

pytestmark = pytest.mark.django_db
every_provider = pytest.mark.parametrize("provider", PROVIDERS)
# Providers whose calendars make status entries (iCalendar has none: CalDAV is not among them).
with_status_entries = pytest.mark.parametrize(
    "provider", [p for p in PROVIDERS if actor_class(p).status_kinds]
)


@pytest.fixture
def karl(sync_user):
    return sync_user(KARL[0], *KARL[1:], first_name="Karl", last_name="Andersson")


@every_provider
def test_the_status_page_lists_skipped_events_with_a_readable_reason(
    provider, karl, sync_connect, sync_actor, sync_user, client
):
    CalendarApp.objects.filter(provider=provider).update(installed=True)
    conn = sync_connect(provider, karl, aliases=KARL[1:])
    sync_user("per@gbg.exempel.se")
    cal = sync_actor(provider, KARL[0])
    cal.create(
        title="Intern planering", start=at(2), end=at(2, 11), attendees=["per@gbg.exempel.se"]
    )
    cal.create(title="Fokustid", start=at(3), end=at(3, 11), attendees=[])
    run = engine.sync_connection(conn.pk, trigger="test")
    assert run is not None and not run.error
    assert not Appointment.objects.exists()

    client.force_login(karl)
    page = client.get(reverse(f"calendar_sync:{provider}")).content.decode()
    assert "Only users and/or colleagues: 1" in page
    assert "No other participants: 1" in page
    assert "Intern planering" in page and "Fokustid" in page
    assert "only_internal" not in page  # no internal codes shown to the rep

    with translation.override("sv"):
        client.cookies["django_language"] = "sv"
        swedish = client.get(
            reverse(f"calendar_sync:{provider}"), HTTP_ACCEPT_LANGUAGE="sv"
        ).content.decode()
    assert "Endast användare och/eller kollegor: 1" in swedish


@with_status_entries
def test_the_status_page_says_why_status_entries_and_free_events_are_not_logged(
    provider, karl, sync_connect, sync_actor, client
):
    CalendarApp.objects.filter(provider=provider).update(installed=True)
    conn = sync_connect(provider, karl, aliases=KARL[1:])
    cal = sync_actor(provider, KARL[0])
    cal.create_status("out_of_office", start=at(2, 8), end=at(2, 17), title="Semester")
    cal.create(title="Påminnelse", start=at(3), end=at(3, 11), attendees=["kund@extern.se"],
               free=True)  # fmt: skip
    run = engine.sync_connection(conn.pk, trigger="test")
    assert run is not None and not run.error

    client.force_login(karl)
    page = client.get(reverse(f"calendar_sync:{provider}")).content.decode()
    assert "Not a meeting (focus time, out of office or working location): 1" in page
    assert "Marked as free in the calendar: 1" in page
    with translation.override("sv"):
        client.cookies["django_language"] = "sv"
        swedish = client.get(
            reverse(f"calendar_sync:{provider}"), HTTP_ACCEPT_LANGUAGE="sv"
        ).content.decode()
    assert "Inte ett möte (fokustid, frånvaro eller arbetsplats): 1" in swedish
    assert "Markerad som ledig i kalendern: 1" in swedish
