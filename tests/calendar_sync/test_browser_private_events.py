"""In Chromium (issue 15, item 3): the rep finds "Private events in your calendar" on their
calendar's settings page; a private event is logged as "Private appointment" by default, and
switching to "Logged like any other meeting" brings its details back from the calendar.
Screenshots (desktop and 390 px, English and Swedish) go to ``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from appointments.models import Appointment
from calendar_sync.models import CalendarConnection
from calendar_sync.sync import engine
from tests.calendar_sync.test_browser_connect import _sales_reps_group
from tests.factories import CompanyFactory, ContactFactory

from .conftest import PROVIDERS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

expect.set_options(timeout=15_000)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
KARL = "karl.andersson@exempel.se"
JOHAN = "johan.ek@acme.se"
LABELS = {
    "en": ("Private events in your calendar", "Private appointment", "Saved."),
    "sv": ("Privata händelser i din kalender", "Privat möte", "Sparat."),
}


def shoot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in (("desktop", 1280), ("mobile", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_rep_chooses_what_happens_to_private_events(
    page, live_server, client, sync_user, sync_connect, sync_actor, tmp_path, language
):
    _sales_reps_group()
    provider = PROVIDERS[0]
    karl = sync_user(KARL, first_name="Karl", last_name="Andersson")
    conn = sync_connect(provider, karl)
    ContactFactory(name="Johan Ek", company=CompanyFactory(name="Acme AB"), emails=[JOHAN])
    day = timezone.localdate() + dt.timedelta(days=3)
    start = dt.datetime.combine(day, dt.time(10), STOCKHOLM)
    sync_actor(provider, KARL).create(
        title="Lönesamtal",
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=[JOHAN],
        location="Hemma",
        marked="private",
    )
    engine.sync_connection(conn.pk, trigger="test", full=True)
    appointment = Appointment.objects.get()
    assert appointment.details_hidden

    client.force_login(karl)
    page.context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            },
            {"name": "django_language", "value": language, "url": live_server.url},
        ]
    )
    heading, label, saved = LABELS[language]
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    expect(page.locator("h1")).to_contain_text(label)
    expect(page.locator("#private-note")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("Lönesamtal")
    shoot(page, tmp_path, f"{language}-private-appointment-without-details")

    page.goto(live_server.url + reverse(conn.spec.url_name()))
    field = page.locator("#field-private_events")
    expect(field).to_contain_text(heading)
    expect(field.locator("input[value=private]")).to_be_checked()
    shoot(page, tmp_path, f"{language}-private-events-setting")
    field.locator("input[value=normal]").check()
    page.locator("#calendar-type-form button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(saved)
    assert CalendarConnection.objects.get(pk=conn.pk).private_events == "normal"

    # The change applied to what was logged already: the calendar was read again.
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    expect(page.locator("h1")).to_contain_text("Lönesamtal")
    expect(page.locator("#private-badge")).to_be_visible()
