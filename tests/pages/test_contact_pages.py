"""Company and contact pages: forms go through the services, search, timeline, customer card."""

from __future__ import annotations

import sys
import types

import pytest
from django.urls import reverse

from contacts.models import Company, Contact
from tests.factories import AppointmentFactory, CompanyFactory, add_contact_attendee

pytestmark = pytest.mark.django_db


def test_create_company_then_contact_with_emails(rep_client):
    response = rep_client.post(
        reverse("contacts:company_create"),
        {"name": "Nordkust AB", "website": "nordkust.se", "email_domains": "nordkust.se"},
    )
    company = Company.objects.get(name="Nordkust AB")
    assert response["Location"] == company.get_absolute_url()
    assert company.website == "https://nordkust.se"
    response = rep_client.post(
        reverse("contacts:contact_create"),
        {
            "name": "Lena Ström",
            "company": company.pk,
            "emails": "Lena@Nordkust.se\nlena.s@nordkust.se",
        },
    )
    contact = Contact.objects.get(name="Lena Ström")
    assert response["Location"] == contact.get_absolute_url()
    assert contact.primary_email == "lena@nordkust.se"
    assert contact.emails.count() == 2


def test_invalid_email_is_a_form_error(rep_client):
    response = rep_client.post(
        reverse("contacts:contact_create"), {"name": "X", "emails": "not-an-address"}
    )
    assert response.status_code == 200
    assert "not a valid e-mail address" in response.content.decode()
    assert not Contact.objects.exists()


def test_edit_contact(rep_client, contact):
    url = reverse("contacts:contact_edit", args=[contact.pk])
    assert "johanna@kund.se" in rep_client.get(url).content.decode()
    rep_client.post(url, {"name": "Johanna S", "emails": "johanna@kund.se"})
    contact.refresh_from_db()
    assert contact.name == "Johanna S"


def test_company_search(rep_client, company):
    CompanyFactory(name="Annat Bolag AB")
    html = rep_client.get(reverse("contacts:company_list"), {"q": "kund"}).content.decode()
    assert "Kund AB" in html and "Annat Bolag" not in html


def test_contact_page_timeline_newest_first_with_type_and_outcome(rep_client, rep, contact):
    from datetime import timedelta

    from django.utils import timezone

    older = AppointmentFactory(
        organizer=rep,
        title="First call",
        start=timezone.now() - timedelta(days=10),
        end=timezone.now() - timedelta(days=10) + timedelta(hours=1),
        outcome="completed",
    )
    newer = AppointmentFactory(organizer=rep, title="Second meeting")
    for a in (older, newer):
        add_contact_attendee(a, contact)
    html = rep_client.get(reverse("contacts:contact_detail", args=[contact.pk])).content.decode()
    assert html.index("Second meeting") < html.index("First call")
    assert "Completed" in html and "Meeting" in html
    assert f"{reverse('appointments:create')}?contact={contact.pk}" in html


def test_company_page_shows_contacts_and_appointments(rep_client, rep, company, contact):
    a = AppointmentFactory(organizer=rep, title="Customer visit")
    add_contact_attendee(a, contact)  # on the card through its contact
    html = rep_client.get(reverse("contacts:company_detail", args=[company.pk])).content.decode()
    assert "Johanna Svensson" in html and "Customer visit" in html
    assert f"{reverse('appointments:create')}?company={company.pk}" in html


def test_rep_without_permissions_gets_404_for_a_company(client, company):
    from tests.factories import UserFactory

    client.force_login(UserFactory(sales_rep=False))
    assert client.get(reverse("contacts:company_detail", args=[company.pk])).status_code == 404


def test_settings_menu_includes_calendar_sync_entries(rep_client, monkeypatch):
    fake = types.ModuleType("calendar_sync.views")
    fake.settings_menu_entries = lambda request: [("Google Calendar", "settings_profile", False)]
    monkeypatch.setitem(sys.modules, "calendar_sync.views", fake)
    html = rep_client.get(reverse("settings_api_token")).content.decode()
    assert "Google Calendar" in html
    assert "My Profile" in html and "Two-factor authentication" in html
