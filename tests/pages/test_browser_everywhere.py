"""Every main page in Chromium, in English and Swedish, on a desktop and a 390 px phone: nothing
scrolls sideways, nothing is fetched from anywhere but the app (offline), axe-core finds no
serious or critical violation, the header folds into a menu on the phone, the calendar becomes
an agenda there, and the API docs (Swagger UI) render from the app's own files.
Screenshots of each go to ``screenshots/`` (see the README) for a reviewer to look at."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import expect

from appointments import services
from calendar_sync.sync import engine
from tests.booking.conftest import KARL, at, next_weekday
from tests.calendar_sync.conftest import *  # noqa: F403 - the emulator/sync fixtures
from tests.factories import CompanyFactory, ContactFactory
from tests.pages.conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe-core" / "axe.min.js"
SHOTS = Path(settings.BASE_DIR) / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@pytest.fixture
def demo(crm, karl, sync_connect, sync_actor, sync_type):
    """Karl with Google connected, a customer, a synced (locked) meeting, a booked one."""
    connection = sync_connect("google", karl)
    company = CompanyFactory(name="Acme AB", email_domains="acme.se")
    johan = ContactFactory(name="Johan Ek", company=company, emails=["johan.ek@acme.se"])
    day = next_weekday(2)
    customer = sync_actor("google", "johan.ek@acme.se")
    customer.create(
        title="Avtalsmöte med Acme", start=at(day, 10), end=at(day, 11), attendees=[KARL]
    )
    sync_actor("google", "lena@exempel.se").create(
        title="Internt möte", start=at(day, 13), end=at(day, 14), attendees=[KARL]
    )
    engine.sync_connection(connection.pk, trigger="test")
    booked = services.appointment_create(
        organizer=karl, title="Offertgenomgång", appointment_type=sync_type,
        start=at(day, 14), end=at(day, 15), company=company, contacts=[johan],
        location="Kungsgatan 1", agenda="Vi går igenom offerten.",
        external_emails=["anna.berg@extern.se"],  # no account at the emulator: mailed
    )  # fmt: skip
    long_one = services.appointment_create(
        organizer=karl, title="Kvartalsgenomgång" + "med" * 40, appointment_type=sync_type,
        start=at(day, 16), end=at(day, 17), company=company, contacts=[johan],
        location="Drottning Kristinas väg " + "1" * 90 + ", Stockholm",
        video_link="https://meet.exempel.se/" + "a1b2c3" * 30,
        agenda="Genomgång" * 40, description="Anteckning" * 40,
        external_emails=["mycket.langt.namn." + "x" * 40 + "@extern-foretag.se"],
    )  # fmt: skip
    return {
        "day": day, "company": company, "contact": johan, "appointment": booked,
        "long": long_one,
    }  # fmt: skip


def pages(demo) -> dict[str, str]:
    a, company, contact = demo["appointment"], demo["company"], demo["contact"]
    return {
        "calendar": f"/calendar/?date={demo['day']}",
        "appointments": "/appointments/",
        "appointment": a.get_absolute_url(),
        "appointment-long-content": demo["long"].get_absolute_url(),
        "appointment-form": "/appointments/new/",
        "appointment-edit": f"/appointments/{a.pk}/edit/",
        "companies": "/companies/",
        "company": company.get_absolute_url(),
        "contacts": "/contacts/",
        "contact": contact.get_absolute_url(),
        "profile": "/settings/profile/",
        "api-token": "/settings/api-token/",
        "calendar-connection": "/settings/calendar/google/",
    }


def offline_context(browser, viewport: str, language: str, base: str):
    """A browser context that may reach only loopback; what it tried elsewhere is recorded."""
    context = browser.new_context(
        locale="sv-SE" if language == "sv" else "en-US",
        timezone_id="Europe/Stockholm",
        viewport=VIEWPORTS[viewport],
        bypass_csp=True,  # axe-core is injected as a script tag (test tooling, not the app)
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    context.outside = []

    def guard(route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK:
            route.continue_()
        else:
            context.outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return context


def no_sideways_scroll(page) -> int:
    """How many pixels the page is wider than the window (0 = nothing scrolls sideways)."""
    return page.evaluate(
        "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
        " - document.documentElement.clientWidth"
    )


def serious_axe_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => JSON.stringify(await axe.run(document))")
    violations = json.loads(result)["violations"]
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def settle(page) -> None:
    page.wait_for_load_state("networkidle")
    if page.locator("#calendar").count():
        expect(page.locator("#calendar .fc-view-harness")).to_be_visible()


@pytest.mark.parametrize("language", ["en", "sv"])
def test_every_page_fits_a_phone_works_offline_is_accessible_and_is_photographed(
    crm, browser, client, karl, demo, emulator, language
):
    SHOTS.mkdir(exist_ok=True)
    problems: list[str] = []
    for viewport in VIEWPORTS:
        context = offline_context(browser, viewport, language, crm.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, crm.url, karl, client)
        try:
            for name, path in pages(demo).items():
                page.goto(crm.url + path)
                settle(page)
                if (wide := no_sideways_scroll(page)) > 0:
                    problems.append(f"{language}/{viewport} {name}: {wide}px sideways")
                if viewport == "desktop" or name == "calendar":
                    for v in serious_axe_violations(page):
                        problems.append(f"{language}/{viewport} {name}: axe {v}")
                page.screenshot(
                    path=str(SHOTS / f"{language}-{viewport}-{name}.png"), full_page=True
                )
            assert context.outside == [], context.outside
        finally:
            context.close()
    assert problems == [], "\n".join(problems)


def test_the_phone_header_is_a_menu_and_the_calendar_an_agenda(crm, browser, client, karl, demo):
    context = offline_context(browser, "mobile", "en", crm.url)
    try:
        page = context.new_page()
        sign_in(page, crm.url, karl, client)
        page.goto(f"{crm.url}/calendar/?date={demo['day']}")
        nav = page.locator("nav.main")
        expect(nav).to_be_hidden()
        toggle = page.locator("#menu-toggle")
        toggle.focus()
        page.keyboard.press("Enter")  # reachable and usable by keyboard
        expect(nav).to_be_visible()
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(page.locator(".fc-list")).to_be_visible()  # the agenda, not the week grid
        expect(page.locator(".fc-list-event", has_text="Offertgenomgång")).to_be_visible()
        expect(page.locator(".fc-timegrid")).to_have_count(0)
    finally:
        context.close()


def test_the_api_docs_render_offline(crm, browser, client, karl, emulator, demo):
    context = offline_context(browser, "desktop", "en", crm.url)
    try:
        page = context.new_page()
        sign_in(page, crm.url, karl, client)
        page.goto(f"{crm.url}/api/v1/docs/")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("Upsales CRM API")
        expect(page.locator(".swagger-ui .opblock-tag", has_text="appointments")).to_be_visible()
        page.screenshot(path=str(SHOTS / "en-desktop-api-docs.png"))
        expect(page.get_by_text("Time zones").first).to_be_visible()
        assert context.outside == [], context.outside
        # The emulator's outbox: the mails the demo's bookings sent, to read.
        page.goto(f"{emulator.url}/_emulator/outbox")
        expect(page.locator("h1")).to_contain_text("Outbox")
        expect(page.locator("body")).to_contain_text("Offertgenomgång")
        expect(page.locator("body")).to_contain_text("to anna.berg@extern.se")
        page.screenshot(path=str(SHOTS / "emulator-outbox.png"), full_page=True)
    finally:
        context.close()
