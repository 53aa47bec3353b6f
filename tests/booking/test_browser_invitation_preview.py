"""In Chromium, for Google and Microsoft (issue 9): the booking form's invitation preview shows
who is invited (each address once) and what they read (the agenda, never the internal
description), says when a back-dated booking sends nothing, and a disconnected rep reads why
agenda, room and video are gone. Screenshots (desktop and 390 px, English and Swedish) go to
``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import ContactFactory, UserFactory

from . import test_browser_booking
from .conftest import KARL, STOCKHOLM

crm = test_browser_booking.crm  # the live CRM against the emulator
sign_in = test_browser_booking.sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def shoot(page, tmp_path: Path, name: str) -> None:
    """Desktop and 390 px wide, full page."""
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in (("desktop", 1280), ("mobile", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def use_swedish(page, base: str) -> None:
    page.context.add_cookies([{"name": "django_language", "value": "sv", "url": base}])


@pytest.mark.parametrize("language", ["en", "sv"])
def test_the_invitation_preview_lists_each_invitee_once_with_what_they_read(
    provider,
    crm,
    page,
    sync_connect,
    day,
    tmp_path,
    language,
):
    karl = UserFactory(email=KARL, username=KARL, first_name="Karl", last_name="Andersson")
    sync_connect(provider, karl)
    anna = ContactFactory(name="Anna Berg", emails=["anna.berg@acme.se"])
    sign_in(page, crm.url)
    if language == "sv":
        use_swedish(page, crm.url)

    page.goto(f"{crm.url}/appointments/new/?start={day.isoformat()}T10:00&contact={anna.pk}")
    page.fill("#id_title", "Offertgenomgång")
    # Anna picked as a contact and typed again as an address (in capitals): invited once.
    page.fill("#id_external_emails", "ANNA.BERG@acme.se, gast@extern.se")
    page.fill("#id_agenda", "Hej Anna! Vi går igenom offerten.")
    page.fill("#id_description", "Intern anteckning: pris 40k")
    invitees = page.locator("#invitees li.invitee")
    expect(invitees).to_have_count(2)
    expect(invitees.nth(0)).to_have_text("Anna Berg <anna.berg@acme.se>")
    expect(invitees.nth(1)).to_have_text("gast@extern.se")
    text = page.locator("#invitation-text")
    expect(text).to_have_text("Hej Anna! Vi går igenom offerten.")
    expect(page.locator("#invitations")).not_to_contain_text("Intern anteckning")
    expect(page.locator("#no-invitation")).to_be_hidden()
    shoot(page, tmp_path, f"{provider}-{language}-invitation-preview")

    yesterday = (dt.datetime.now(STOCKHOLM).date() - dt.timedelta(days=1)).isoformat()
    page.fill("#id_date", yesterday)
    page.locator("#id_date").dispatch_event("change")
    expect(page.locator("#no-invitation")).to_be_visible()
    expect(page.locator("#invitation-preview")).to_be_hidden()
    if language == "en":
        expect(page.locator("#no-invitation")).to_contain_text("never sent to the calendar")
    shoot(page, tmp_path, f"{provider}-{language}-back-dated")


@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_disconnected_rep_reads_why_the_calendar_fields_are_gone(
    provider,
    crm,
    page,
    sync_connect,
    tmp_path,
    language,
):
    karl = UserFactory(email=KARL, username=KARL, first_name="Karl", last_name="Andersson")
    sync_connect(provider, karl)
    sign_in(page, crm.url)
    if language == "sv":
        use_swedish(page, crm.url)
    from calendar_sync.providers.registry import get_provider

    settings_page = get_provider(provider).settings_slug
    page.goto(f"{crm.url}/settings/calendar/{settings_page}/")
    page.locator("#calendar-disconnect a").click()
    expect(page.locator("#disconnect-confirm")).to_be_visible()
    shoot(page, tmp_path, f"{provider}-{language}-confirm-disconnect")
    page.locator("#disconnect-confirm button[type=submit]").click()
    expect(page.locator("#calendar-activate")).to_be_visible()

    page.goto(f"{crm.url}/appointments/new/")
    expect(page.locator("#calendar-off")).to_be_visible()
    expect(page.locator("#id_agenda")).to_have_count(0)
    expect(page.locator("#id_room")).to_have_count(0)
    if language == "en":
        expect(page.locator("#calendar-off")).to_contain_text("calendar is disconnected")
    shoot(page, tmp_path, f"{provider}-{language}-disconnected-form")

    from calendar_sync.models import CalendarApp
    from calendar_sync.services import calendar_app_uninstall

    calendar_app_uninstall(app=CalendarApp.objects.get(provider=provider))
    page.goto(f"{crm.url}/settings/calendar/{settings_page}/")
    expect(page.locator("#calendar-uninstalled-banner")).to_be_visible()
    expect(page.locator("#calendar-app-uninstalled")).to_be_visible()
    shoot(page, tmp_path, f"{provider}-{language}-uninstalled")
