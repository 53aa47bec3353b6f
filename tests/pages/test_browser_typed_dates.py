"""In Chromium set to US English (the browser's own date picker would show 12/09/2030 and
9:30 AM): a Swedish page's booking form asks for 2030-12-09 and 09:30, tidies what was typed
the short way, and books the time typed; the English page keeps the browser's pickers.
Screenshots (desktop and 390 px, English and Swedish) go to ``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from tests.booking.test_browser_invitation_preview import shoot
from tests.factories import AppointmentTypeFactory
from tests.pages.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def us_browser_page(browser, live_server):
    context = browser.new_context(locale="en-US", timezone_id="Europe/Stockholm")
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_swedish_page_asks_for_swedish_dates_whatever_the_browser_locale(
    us_browser_page, live_server, client, rep, language, tmp_path
):
    page = us_browser_page
    AppointmentTypeFactory(name="Kundmöte")
    sign_in(page, live_server.url, rep, client)
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/appointments/new/")
    date, start, end = (page.locator(f"#id_{n}") for n in ("date", "start_time", "end_time"))
    if language == "en":
        expect(date).to_have_attribute("type", "date")
        expect(start).to_have_attribute("type", "time")
        shoot(page, tmp_path, "en-booking-dates")
        return

    expect(date).to_have_attribute("type", "text")
    expect(date).to_have_attribute("placeholder", "ÅÅÅÅ-MM-DD")
    expect(start).to_have_attribute("placeholder", "TT:MM")
    page.fill("#id_title", "Genomgång")
    date.fill("20301209")
    start.fill("930")
    end.fill("10.45")
    page.locator("#id_title").click()  # leaving the field: the change is tidied
    expect(date).to_have_value("2030-12-09")
    expect(start).to_have_value("09:30")
    expect(end).to_have_value("10:45")
    shoot(page, tmp_path, "sv-booking-dates")
    page.locator("form.stacked button[type=submit]").click()
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    appointment = Appointment.objects.get(title="Genomgång")
    assert appointment.start == datetime(2030, 12, 9, 9, 30, tzinfo=STOCKHOLM)
    assert appointment.end == datetime(2030, 12, 9, 10, 45, tzinfo=STOCKHOLM)

    page.goto(f"{live_server.url}/appointments/{appointment.pk}/edit/")
    expect(page.locator("#id_date")).to_have_value("2030-12-09")
    expect(page.locator("#id_end_time")).to_have_value("10:45")
    shoot(page, tmp_path, "sv-edit-dates")
