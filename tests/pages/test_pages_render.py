"""Every page renders for a signed-in rep and sends an anonymous visitor to sign in."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import AppointmentFactory, add_contact_attendee

pytestmark = pytest.mark.django_db


@pytest.fixture
def appointment(rep, meeting_type, company, contact):
    a = AppointmentFactory(organizer=rep, appointment_type=meeting_type, company=company)
    add_contact_attendee(a, contact)
    return a


def _urls(appointment, company, contact) -> list[str]:
    return [
        reverse("appointments:calendar"),
        reverse("appointments:calendar") + "?view=month",
        reverse("appointments:calendar") + "?colleagues=1&date=2026-01-15",
        reverse("appointments:list"),
        reverse("appointments:create"),
        reverse("appointments:create") + f"?contact={contact.pk}",
        reverse("appointments:create") + f"?company={company.pk}&start=2026-05-04T10:00",
        reverse("appointments:detail", args=[appointment.pk]),
        reverse("appointments:edit", args=[appointment.pk]),
        reverse("appointments:delete", args=[appointment.pk]),
        reverse("contacts:company_list"),
        reverse("contacts:company_list") + "?q=kund",
        reverse("contacts:company_create"),
        reverse("contacts:company_detail", args=[company.pk]),
        reverse("contacts:company_edit", args=[company.pk]),
        reverse("contacts:contact_list"),
        reverse("contacts:contact_list") + "?q=johanna",
        reverse("contacts:contact_create"),
        reverse("contacts:contact_detail", args=[contact.pk]),
        reverse("contacts:contact_edit", args=[contact.pk]),
        reverse("settings_profile"),
        reverse("settings_api_token"),
    ]


def test_every_page_renders_for_a_signed_in_rep(rep_client, appointment, company, contact):
    for url in _urls(appointment, company, contact):
        response = rep_client.get(url)
        assert response.status_code == 200, url
        assert b"Upsales CRM" in response.content, url


def test_every_page_redirects_an_anonymous_visitor_to_sign_in(
    client, appointment, company, contact
):
    login = reverse("account_login")
    for url in _urls(appointment, company, contact):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url


def test_home_redirects_to_calendar_or_sign_in(client, rep):
    assert client.get("/")["Location"] == reverse("account_login")
    client.force_login(rep)
    assert client.get("/")["Location"] == reverse("appointments:calendar")


def test_sign_in_page_uses_the_base_layout(client):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b"css/app.css" in response.content
    assert b'name="login"' in response.content
    assert b"sign up" not in response.content  # users are created by an administrator


def test_top_bar_has_nav_gear_and_language_switch(rep_client):
    html = rep_client.get(reverse("appointments:calendar")).content.decode()
    for url_name in ("appointments:list", "contacts:company_list", "contacts:contact_list"):
        assert f'href="{reverse(url_name)}"' in html
    assert f'class="gear" href="{reverse("settings_profile")}"' in html
    assert 'name="language" value="sv"' in html
    assert "Karl Andersson" in html


def test_mfa_page_uses_the_settings_menu(rep_client):
    response = rep_client.get(reverse("mfa_index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("settings_profile") in html
    assert reverse("settings_api_token") in html


def test_profile_lists_aliases(rep_client, rep):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=rep, email="karl@sthlm.exempel.se", verified=True)
    html = rep_client.get(reverse("settings_profile")).content.decode()
    assert "karl@sthlm.exempel.se" in html
    assert reverse("mfa_index") in html


def test_api_token_is_shown_once_after_create(rep_client):
    url = reverse("settings_api_token")
    assert "Create token" in rep_client.get(url).content.decode()
    html = rep_client.post(url).content.decode()
    assert 'id="api-token"' in html
    html = rep_client.get(url).content.decode()
    assert 'id="api-token"' not in html
    assert "Rotate token" in html


def test_api_token_page_is_never_cached(rep_client):
    url = reverse("settings_api_token")
    for response in (rep_client.get(url), rep_client.post(url)):
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"no-cache", "no-store", "must-revalidate", "private"} <= directives
        assert "Expires" in response


def test_missing_appointment_is_404(rep_client):
    assert rep_client.get(reverse("appointments:detail", args=[999999])).status_code == 404
