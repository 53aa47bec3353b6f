"""Live status in Chromium, without reloading the page: an appointment "waiting to be sent"
turns "in the calendar" once the worker has pushed it; a failed push shows why and "Retry"
sends it; the connection page shows the sync's state and counts and follows a sync."""

from __future__ import annotations

import pytest
from django_q.conf import Conf
from playwright.sync_api import expect

from appointments import services
from calendar_sync import tasks
from calendar_sync.providers import base
from provider_emulator.faults import Fault
from tests.booking.conftest import KARL, at, next_weekday
from tests.calendar_sync.conftest import *  # noqa: F403 - the emulator/sync fixtures
from tests.pages.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def mark_page(page) -> None:
    """A flag that a reload would lose."""
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def test_waiting_turns_sent_and_a_failed_push_is_retried_without_reload(
    crm, page, client, karl, sync_connect, sync_type, emulator, monkeypatch
):
    sync_connect("google", karl)
    day = next_weekday(3)
    appointment = services.appointment_create(
        organizer=karl, title="Uppföljning", appointment_type=sync_type,
        start=at(day, 9), end=at(day, 10),
    )  # fmt: skip
    # The worker is busy: the next change waits in the queue.
    monkeypatch.setattr(Conf, "SYNC", False)
    services.appointment_update(appointment=appointment, actor=karl, title="Uppföljning 2")

    sign_in(page, crm.url, karl, client)
    page.goto(f"{crm.url}{appointment.get_absolute_url()}")
    status = page.locator("#appointment-sync")
    expect(status).to_contain_text("Waiting to be sent")
    mark_page(page)
    tasks.export_appointment(appointment.pk)  # what the worker does with the queued task
    expect(status).to_contain_text("In the calendar", timeout=10_000)
    assert not_reloaded(page)

    # The calendar refuses the next push (every retry): failed, with the reason.
    monkeypatch.setattr(base, "RETRY_SLEEP", lambda seconds: None)
    emulator.state.faults.add(Fault(kind="500", count=1000, provider="google", account=KARL))
    services.appointment_update(appointment=appointment, actor=karl, title="Uppföljning 3")
    tasks.export_appointment(appointment.pk)
    page.reload()
    mark_page(page)
    expect(status).to_contain_text("Failed")
    expect(status.locator(".sync-error")).not_to_be_empty()
    emulator.state.faults.clear()
    monkeypatch.setattr(Conf, "SYNC", True)  # the worker is back
    status.locator("#appointment-sync-retry").click()
    expect(page.locator("#appointment-sync")).to_contain_text("In the calendar", timeout=10_000)
    assert not_reloaded(page)


def test_the_connection_page_shows_state_counts_and_follows_a_sync(
    crm, page, client, karl, sync_connect, sync_actor
):
    connection = sync_connect("google", karl)
    day = next_weekday(2)
    colleague = sync_actor("google", "lena@exempel.se")
    colleague.create(title="Internt", start=at(day, 8), end=at(day, 9), attendees=[KARL])

    sign_in(page, crm.url, karl, client)
    page.goto(f"{crm.url}/settings/calendar/google/")
    box = page.locator("#connection-status")
    expect(box.locator("#calendar-last-sync")).to_have_text("Not yet")
    expect(box.locator("#calendar-push")).to_be_visible()
    mark_page(page)
    tasks.sync_connection(connection.pk)  # the first sync, as the worker runs it
    expect(box.locator("#calendar-last-sync")).not_to_have_text("Not yet", timeout=10_000)
    expect(box.locator("#calendar-counts")).to_contain_text("1 upcoming event not logged")
    expect(box.locator("#calendar-skipped-events")).to_contain_text("Internt")
    assert not_reloaded(page)
