"""End to end in Chromium: sign in, book an appointment with a contact through the form, and
find it on the calendar, the contact's timeline and the customer card."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import AppointmentTypeFactory, CompanyFactory, ContactFactory, UserFactory

PASSWORD = "pw-for-tests-123"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_book_appointment_with_contact_and_see_it_everywhere(page, live_server):
    UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")
    AppointmentTypeFactory(name="Meeting")
    company = CompanyFactory(name="Kund AB")
    contact = ContactFactory(name="Johanna Svensson", company=company, emails=["johanna@kund.se"])
    today = timezone.localdate().isoformat()

    page.goto(live_server.url + "/")
    page.fill("input[name=login]", "karl.andersson@exempel.se")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/calendar/"))

    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    page.click("text=New appointment")
    page.wait_for_url(re.compile(r"/appointments/new/"))
    assert page.locator("#id_contacts option:checked").inner_text().startswith("Johanna Svensson")
    page.fill("#id_title", "Quarterly review")
    page.fill("#id_date", today)
    page.fill("#id_start_time", "10:00")
    page.fill("#id_end_time", "11:00")
    page.fill("#id_location", "Kungsgatan 1")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/appointments/\d+/$"))
    assert page.locator("h1").inner_text().startswith("Quarterly review")
    assert "Johanna Svensson" in page.locator("table.participants").inner_text()

    page.click("nav.main >> text=Calendar")
    appt = page.locator(".fc-event", has_text="Quarterly review")
    expect(appt).to_have_count(1)
    expect(appt).to_contain_text("10:00")
    assert "Kund AB" in (appt.get_attribute("title") or "")

    page.goto(f"{live_server.url}/contacts/{contact.pk}/")
    assert "Quarterly review" in page.locator("#timeline").inner_text()

    page.goto(f"{live_server.url}/companies/{company.pk}/")
    appointments_on_card = " ".join(page.locator("#upcoming, #past").all_inner_texts())
    assert "Quarterly review" in appointments_on_card
