"""The calendar in Chromium (FullCalendar): a synced meeting at its hour in the week grid,
click-to-book, drag to move (the update reaches the provider and the invitee over the
emulator) and a refusal with its reason for a locked meeting."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import requests
from playwright.sync_api import expect

from appointments import services
from appointments.models import Appointment
from calendar_sync.sync import engine
from tests.booking.conftest import KARL, at, next_weekday
from tests.calendar_sync.conftest import *  # noqa: F403 - the emulator/sync fixtures
from tests.factories import ContactFactory, UserFactory
from tests.pages.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def day():
    # A weekday at least two days ahead, so nothing has passed.
    return next_weekday(2)


def open_week(page, base: str, day: dt.date) -> None:
    page.goto(f"{base}/calendar/?date={day.isoformat()}")
    expect(page.locator(".fc-timegrid")).to_be_visible()
    page.wait_for_function("window.crmCalendar !== undefined")
    page.wait_for_load_state("networkidle")


def event(page, title: str):
    return page.locator(".fc-timegrid-event", has_text=title)


def slot_y(page, day: dt.date, hhmm: str) -> float:
    """The y of a time on the grid: the slot row's top."""
    row = page.locator(f"td.fc-timegrid-slot-lane[data-time='{hhmm}:00']")
    box = row.bounding_box()
    assert box is not None
    return box["y"]


def column_x(page, day: dt.date) -> float:
    box = page.locator(f"td.fc-timegrid-col[data-date='{day.isoformat()}']").bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2


def drag(page, locator, to_x: float, to_y: float) -> None:
    box = locator.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 6)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20, steps=4)
    page.mouse.move(to_x, to_y + 6, steps=12)
    page.mouse.up()


def test_a_synced_meeting_is_at_its_hour_and_refuses_to_move_with_the_lock_reason(
    crm, page, client, karl, sync_connect, sync_actor, day
):
    connection = sync_connect("google", karl)
    ContactFactory(name="Johan Ek", emails=["johan.ek@acme.se"])
    customer = sync_actor("google", "johan.ek@acme.se")
    customer.create(title="Avtalsmöte", start=at(day, 10), end=at(day, 11), attendees=[KARL])
    engine.sync_connection(connection.pk, trigger="test")
    appointment = Appointment.objects.get(title="Avtalsmöte")
    assert appointment.locked

    sign_in(page, crm.url, karl, client)
    open_week(page, crm.url, day)
    meeting = event(page, "Avtalsmöte")
    expect(meeting).to_have_count(1)
    expect(meeting).to_contain_text("Google")
    expect(meeting).to_have_attribute("title", re.compile("Source: Google Calendar"))
    expect(meeting).to_contain_text("Locked")
    top = meeting.bounding_box()["y"]
    assert abs(top - slot_y(page, day, "10:00")) < 4
    assert (
        page.locator(f"td.fc-timegrid-col[data-date='{day.isoformat()}']")
        .locator(".fc-timegrid-event", has_text="Avtalsmöte")
        .count()
        == 1
    )

    drag(page, meeting, column_x(page, day), slot_y(page, day, "14:00"))
    status = page.locator("#calendar-status")
    expect(status).to_contain_text("could not be moved")
    expect(status).to_contain_text("locked")
    expect(status).to_have_attribute("role", "alert")
    appointment.refresh_from_db()
    assert appointment.start == at(day, 10)
    assert abs(event(page, "Avtalsmöte").bounding_box()["y"] - slot_y(page, day, "10:00")) < 4


def test_dragging_a_meeting_moves_it_in_the_provider_and_tells_the_invitee(
    crm, page, client, karl, sync_connect, sync_actor, sync_type, day, emulator
):
    sync_connect("google", karl)
    contact = ContactFactory(name="Johanna Svensson", emails=["johanna@kund.se"])
    appointment = services.appointment_create(
        organizer=karl,
        title="Offertgenomgång",
        appointment_type=sync_type,
        start=at(day, 10),
        end=at(day, 11),
        contacts=[contact],
    )
    outbox = f"{emulator.url}/_emulator/outbox"
    sent_before = len(requests.get(outbox, timeout=10).json()["messages"])

    sign_in(page, crm.url, karl, client)
    open_week(page, crm.url, day)
    meeting = event(page, "Offertgenomgång")
    expect(meeting).to_contain_text("CRM")
    expect(meeting).to_contain_text("In the calendar")
    drag(page, meeting, column_x(page, day), slot_y(page, day, "14:00"))
    expect(page.locator("#calendar-status")).to_contain_text("The appointment was moved.")

    appointment.refresh_from_db()
    assert appointment.start == at(day, 14) and appointment.end == at(day, 15)
    [stored] = [e for e in sync_actor("google", KARL).events() if e["summary"] == "Offertgenomgång"]
    assert dt.datetime.fromisoformat(stored["start"]["dateTime"]) == at(day, 14)
    mails = requests.get(outbox, timeout=10).json()["messages"][sent_before:]
    assert [m["kind"] for m in mails if m["to"] == "johanna@kund.se"], mails
    expect(event(page, "Offertgenomgång")).to_contain_text("14:00")


def test_clicking_a_free_time_opens_the_form_at_that_time(crm, page, client, karl, day):
    sign_in(page, crm.url, karl, client)
    open_week(page, crm.url, day)
    page.mouse.click(column_x(page, day), slot_y(page, day, "13:00") + 5)
    page.wait_for_url(re.compile(r"/appointments/new/\?start="))
    assert page.input_value("#id_date") == day.isoformat()
    assert page.input_value("#id_start_time").startswith("13:00")
    assert page.input_value("#id_end_time").startswith("13:30")


def test_each_user_sees_the_zone_and_the_meeting_at_their_own_local_time(
    crm, page, browser, client, karl, sync_type, day
):
    from contacts.services import user_time_zone_set
    from tests.factories import add_user_attendee

    eva = UserFactory(email="eva.lind@exempel.se", first_name="Eva", last_name="Lind")
    user_time_zone_set(user=eva, time_zone="America/New_York")
    appointment = services.appointment_create(
        organizer=karl, title="Två zoner", appointment_type=sync_type,
        start=at(day, 15), end=at(day, 16),
    )  # fmt: skip
    add_user_attendee(appointment, eva)

    sign_in(page, crm.url, karl, client)
    open_week(page, crm.url, day)
    expect(page.locator("#calendar-time-zone")).to_have_text("Times in Europe/Stockholm")
    expect(event(page, "Två zoner")).to_contain_text("15:00")
    assert abs(event(page, "Två zoner").bounding_box()["y"] - slot_y(page, day, "15:00")) < 4

    # Eva's browser is in Los Angeles, her profile says New York: the profile wins, and the
    # profile page proposes the browser's zone.
    context = browser.new_context(locale="en-US", timezone_id="America/Los_Angeles")
    try:
        other = context.new_page()
        client.logout()
        sign_in(other, crm.url, eva, client)
        open_week(other, crm.url, day)
        expect(other.locator("#calendar-time-zone")).to_have_text("Times in America/New_York")
        expect(event(other, "Två zoner")).to_contain_text("09:00")
        shown = event(other, "Två zoner").bounding_box()["y"]
        assert abs(shown - slot_y(other, day, "09:00")) < 4
        other.goto(f"{crm.url}/settings/profile/")
        hint = other.locator("#browser-time-zone")
        expect(hint).to_contain_text("America/Los_Angeles")
        hint.locator("button").click()
        expect(other.locator("#user-time-zone")).to_have_text("America/Los_Angeles")
    finally:
        context.close()
