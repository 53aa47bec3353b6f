"""In Chromium, for Google and Microsoft, in English and Swedish (issue 15, item 5): on the
connection's settings page the rep ticks another calendar of the account under "Calendars that
count as busy" and saves; the booking form's availability view then shows that calendar's event
as busy. A calendar deleted at the provider is dropped with a note, and a provider error is said
plainly. Screenshots (desktop and 390 px) go to ``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calendar_sync.providers.registry import get_provider
from provider_emulator.faults import Fault
from tests.calendar_sync.actors import actor_class
from tests.factories import UserFactory

from . import test_browser_booking
from .conftest import KARL, at
from .test_browser_invitation_preview import shoot, use_swedish

crm = test_browser_booking.crm  # the live CRM against the emulator
sign_in = test_browser_booking.sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TEXT = {
    "en": {
        "heading": "Calendars that count as busy",
        "saved": "Saved: the calendars that count as busy.",
        "dropped": "so no longer counted as busy: Privat.",
        "error": "Could not read your calendars from",
    },
    "sv": {
        "heading": "Kalendrar som räknas som upptagen tid",
        "saved": "Sparat: kalendrarna som räknas som upptagen tid.",
        "dropped": "räknas därför inte längre som upptagen tid: Privat.",
        "error": "Kunde inte läsa dina kalendrar från",
    },
}


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_ticked_calendar_counts_as_busy_in_the_availability_view(
    provider, crm, page, sync_connect, sync_actor, emulator, adapter_retry_sleeps, day, tmp_path,
    language,
):  # fmt: skip
    text = TEXT[language]
    karl = UserFactory(email=KARL, username=KARL, first_name="Karl", last_name="Andersson")
    sync_connect(provider, karl)
    calendar = sync_actor(provider, KARL)
    privat = calendar.add_calendar("Privat")
    calendar.add_calendar("Sidoprojekt")
    calendar.create_in(privat, title="Tandläkare", start=at(day, 10), end=at(day, 11))
    sign_in(page, crm.url)
    if language == "sv":
        use_swedish(page, crm.url)
    settings_url = f"{crm.url}/settings/calendar/{get_provider(provider).settings_slug}/"

    page.goto(settings_url)
    section = page.locator("#busy-calendars")
    expect(section.locator("h2")).to_have_text(text["heading"])
    box = section.get_by_label("Privat", exact=True)
    expect(box).not_to_be_checked()
    expect(section.get_by_label("Sidoprojekt", exact=True)).to_be_visible()
    box.check()
    section.locator("button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(text["saved"])
    expect(page.locator("#busy-calendars").get_by_label("Privat", exact=True)).to_be_checked()
    shoot(page, tmp_path, f"{provider}-{language}-busy-calendars")

    page.goto(f"{crm.url}/appointments/new/?start={day.isoformat()}T10:00")
    page.click("#availability-people button.person")
    block = page.locator("#availability-panel .busy-block")
    expect(block).to_have_count(1)
    expect(block).to_have_text("10:00–11:00")
    expect(page.locator("#book-anyway")).to_be_visible()  # 10–11 is busy in "Privat"
    shoot(page, tmp_path, f"{provider}-{language}-busy-calendars-availability")

    calendar.delete_calendar(privat)
    page.goto(settings_url)
    expect(page.locator("#busy-calendars-dropped")).to_contain_text(text["dropped"])
    expect(page.locator("#busy-calendars").get_by_label("Privat", exact=True)).to_have_count(0)
    shoot(page, tmp_path, f"{provider}-{language}-busy-calendars-dropped")

    emulator.state.faults.add(
        Fault(
            kind="500",
            count=1000,
            provider=provider,
            endpoint=actor_class(provider).calendar_list_endpoint,
        )
    )
    page.goto(settings_url)
    expect(page.locator("#busy-calendars-error")).to_contain_text(text["error"])
    expect(page.locator("#calendar-type-form")).to_be_visible()  # the rest of the page works
    shoot(page, tmp_path, f"{provider}-{language}-busy-calendars-error")
