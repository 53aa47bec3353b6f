"""In Chromium (issue 9, item 3): a colleague's appointment opened by another rep offers no
Edit and says why; its edit page has no Save. Screenshots (desktop and 390 px, English and
Swedish) go to ``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import AppointmentFactory, AppointmentTypeFactory, AttendeeFactory, UserFactory

PASSWORD = "pw-for-tests-123"


def shoot(page, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    for label, width in (("desktop", 1280), ("mobile", 390)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "sv"])
def test_a_colleagues_appointment_is_read_only_with_the_reason(
    page, live_server, tmp_path, language
):
    eva = UserFactory(first_name="Eva", last_name="Lind", email="eva.lind@exempel.se")
    karl = UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")
    meeting = AppointmentFactory(
        organizer=eva, appointment_type=AppointmentTypeFactory(name="Meeting"), title="Evas möte"
    )
    AttendeeFactory(appointment=meeting, user=karl)

    page.goto(live_server.url + "/")
    page.fill("input[name=login]", karl.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/calendar/"))
    if language == "sv":
        page.context.add_cookies(
            [{"name": "django_language", "value": "sv", "url": live_server.url}]
        )

    page.goto(f"{live_server.url}/appointments/{meeting.pk}/")
    expect(page.locator("#read-only-reason")).to_be_visible()
    expect(page.locator(f'a[href="/appointments/{meeting.pk}/edit/"]')).to_have_count(0)
    shoot(page, tmp_path, f"{language}-colleague-read-only")

    page.goto(f"{live_server.url}/appointments/{meeting.pk}/edit/")
    expect(page.locator("#readonly-title")).to_be_visible()
    expect(page.locator("form#appointment-form button[type=submit]")).to_have_count(0)
    shoot(page, tmp_path, f"{language}-colleague-edit-without-save")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("language", ["en", "sv"])
def test_an_invitation_shows_its_organizer_and_the_reps_own_response(
    page, live_server, tmp_path, language
):
    from appointments.models import AttendeeKind
    from tests.factories import ContactFactory

    karl = UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")
    johan = ContactFactory(name="Johan Ek", emails=["johan.ek@acme.se"])
    meeting = AppointmentFactory(
        organizer=karl,
        appointment_type=AppointmentTypeFactory(name="Meeting"),
        title="Avstämning",
        locked=True,
        lock_invited_by="johan.ek@acme.se",
        invited_by_email="johan.ek@acme.se",
        invited_by_name="Johan Ek",
        own_response="tentative",
    )
    AttendeeFactory(
        appointment=meeting,
        kind=AttendeeKind.CONTACT,
        user=None,
        contact=johan,
        email="johan.ek@acme.se",
        response="accepted",
    )

    page.goto(live_server.url + "/")
    page.fill("input[name=login]", karl.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/calendar/"))
    if language == "sv":
        page.context.add_cookies(
            [{"name": "django_language", "value": "sv", "url": live_server.url}]
        )

    page.goto(f"{live_server.url}/appointments/{meeting.pk}/")
    organizer = page.locator("#invited-by")
    expect(organizer).to_contain_text("johan.ek@acme.se")
    expect(organizer.locator(f'a[href="{johan.get_absolute_url()}"]')).to_have_text("Johan Ek")
    expect(page.locator("#own-response")).to_have_text(
        "Tentative" if language == "en" else "Preliminärt"
    )
    expect(page.locator("ul.messages li.warning").first).to_contain_text(
        "Invited by johan.ek@acme.se: only the organizer can change it"
        if language == "en"
        else "Inbjuden av johan.ek@acme.se: bara organisatören kan ändra det"
    )
    shoot(page, tmp_path, f"{language}-invitation-organizer-and-response")
