"""Settings → Exclusion list in Chromium, English and Swedish, desktop and a 390 px phone: a rep
adds an entry, sees what was already logged because of it, and removes that; offline, no
sideways scroll, no serious axe-core violation. Screenshots go to ``screenshots/``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from appointments.models import Appointment
from calendar_sync import services
from calendar_sync.sync import engine
from tests.booking.conftest import KARL, at, next_weekday
from tests.calendar_sync.conftest import *  # noqa: F403 - the emulator/sync fixtures
from tests.factories import UserFactory
from tests.pages.conftest import sign_in
from tests.pages.test_browser_everywhere import (
    SHOTS,
    no_sideways_scroll,
    offline_context,
    serious_axe_violations,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

TEXT = {
    "en": {
        "added": "@vard.test was added.",
        "offer": "1 appointment already logged would not be logged now",
        "removed": "1 appointment was removed from the CRM.",
        "others": "Excluded people are taken off 1 other appointment logged from your calendar.",
        "add": "Add",
    },
    "sv": {
        "added": "@vard.test lades till.",
        "offer": "1 redan loggat möte skulle inte loggas nu",
        "removed": "1 möte togs bort från CRM.",
        "others": "Uteslutna personer tas bort från 1 annat möte som loggats från din kalender.",
        "add": "Lägg till",
    },
}


@pytest.fixture
def logged(crm, karl, sync_connect, sync_actor):
    """Karl's Google calendar with a doctor's appointment and a customer meeting, both logged;
    the organisation's list has an entry an administrator added."""
    connection = sync_connect("google", karl)
    day = next_weekday(2)
    calendar = sync_actor("google", KARL)
    calendar.create(title="Läkarbesök", start=at(day, 8), end=at(day, 9),
                    attendees=["doktor@vard.test"])  # fmt: skip
    calendar.create(title="Avtalsmöte med Acme", start=at(day, 10), end=at(day, 11),
                    attendees=["johan.ek@acme.se", "doktor@vard.test"])  # fmt: skip
    engine.sync_connection(connection.pk, trigger="test")
    assert Appointment.objects.count() == 2
    admin = UserFactory(email="admin@exempel.se", is_staff=True, is_superuser=True)
    services.exclusion_add(actor=admin, value="*.bank.test", organisation=True)
    return connection


@pytest.mark.parametrize("language", ["en", "sv"])
def test_adding_an_entry_offers_to_remove_what_it_excludes(
    crm, browser, client, karl, logged, language
):
    SHOTS.mkdir(exist_ok=True)
    text, url = TEXT[language], f"{crm.url}/settings/calendar/exclusions/"
    phone = offline_context(browser, "mobile", language, crm.url)
    try:
        page = phone.new_page()
        sign_in(page, crm.url, karl, client)
        page.goto(url)
        expect(page.locator("#exclusions-logged")).to_have_count(0)
        expect(page.locator("#exclusions-organisation")).to_contain_text("*.bank.test")
        page.locator("#id_value").fill("@Vard.test ")
        page.get_by_role("button", name=text["add"], exact=True).click()
        expect(page.locator(".messages")).to_contain_text(text["added"])
        expect(page.locator("#exclusions-personal")).to_contain_text("@vard.test")
        offer = page.locator("#exclusions-logged")
        expect(offer).to_contain_text(text["offer"])
        expect(offer).to_contain_text("Läkarbesök")
        expect(offer).not_to_contain_text("Avtalsmöte med Acme")
        expect(offer).to_contain_text(text["others"])
        assert no_sideways_scroll(page) == 0
        page.screenshot(path=str(SHOTS / f"{language}-mobile-exclusions.png"), full_page=True)
        assert phone.outside == [], phone.outside
    finally:
        phone.close()

    desktop = offline_context(browser, "desktop", language, crm.url)
    try:
        page = desktop.new_page()
        sign_in(page, crm.url, karl, client)
        page.goto(url)
        expect(page.locator("#exclusions-logged")).to_contain_text(text["offer"])
        assert serious_axe_violations(page) == []
        assert no_sideways_scroll(page) == 0
        page.screenshot(path=str(SHOTS / f"{language}-desktop-exclusions.png"), full_page=True)
        page.locator("#exclusions-remove-logged").click()
        expect(page.locator(".messages")).to_contain_text(text["removed"])
        expect(page.locator("#exclusions-logged")).to_have_count(0)
        page.screenshot(
            path=str(SHOTS / f"{language}-desktop-exclusions-removed.png"), full_page=True
        )
        assert desktop.outside == [], desktop.outside
    finally:
        desktop.close()
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Avtalsmöte med Acme"]
    assert [a.email for a in Appointment.objects.get().attendees.all()] == ["johan.ek@acme.se"]
    engine.sync_connection(logged.pk, trigger="test", full=True)  # not logged again
    assert Appointment.objects.count() == 1
