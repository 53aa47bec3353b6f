"""In Chromium, for Google and Microsoft: open the form, open the availability view, see a busy
block made directly in the calendar, pick a free slot, pick a free room, tick the video link,
save, and see the link and the room on the appointment page (the export runs inline on commit)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import VIDEO_ROOM_PROVIDERS
from tests.calendar_sync.test_browser_connect import _sales_reps_group
from tests.factories import UserFactory

from .conftest import KARL, ROOMS, at

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pw-for-tests-123"


@pytest.fixture
def crm(live_server, settings, emulator):
    _sales_reps_group()
    settings.CALENDAR_EMULATOR_URL = emulator.url
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


def sign_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", KARL)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/calendar.*|.*/$"))


@pytest.mark.parametrize("provider", VIDEO_ROOM_PROVIDERS)
def test_book_with_availability_room_and_video(
    provider, crm, page, sync_connect, sync_actor, rooms, day
):
    karl = UserFactory(email=KARL, username=KARL, first_name="Karl", last_name="Andersson")
    sync_connect(provider, karl)
    sync_actor(provider, KARL).create(
        title="Tandläkare", start=at(day, 10), end=at(day, 11), attendees=[]
    )
    sign_in(page, crm.url)

    page.goto(f"{crm.url}/appointments/new/?start={day.isoformat()}T10:00")
    page.fill("#id_title", "Offertgenomgång")
    label = actor_class(provider).video_label
    expect(page.locator("label[for=id_video_requested]")).to_have_text(label)

    page.click("#availability-people button.person")
    block = page.locator("#availability-panel .busy-block")
    expect(block).to_have_count(1)
    expect(block).to_have_text("10:00–11:00")
    expect(
        page.locator(f'.daycol.chosen-day[data-date="{day.isoformat()}"] .busy-block')
    ).to_be_visible()
    expect(page.locator("#book-anyway")).to_be_visible()  # 10–11 is busy

    slot = page.locator("#availability-panel button.slot").first
    expect(slot).to_have_attribute("data-start", "08:00")
    slot.click()
    expect(page.locator("#id_start_time")).to_have_value("08:00")
    expect(page.locator("#id_end_time")).to_have_value("09:00")
    expect(page.locator("#id_date")).to_have_value(day.isoformat())

    stora = ROOMS[0][0]
    expect(page.locator(f'#id_room option[value="{stora}"]')).to_have_attribute("data-free", "1")
    page.select_option("#id_room", stora)
    page.check("#id_video_requested")
    page.click("form#appointment-form button[type=submit]")

    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    appointment = Appointment.objects.get()
    assert appointment.start == at(day, 8)
    expect(page.locator("#video-link a")).to_contain_text(actor_class(provider).meeting_host)
    expect(page.locator("#room")).to_contain_text("Stora rummet")
