"""In Chromium: a rep links Google Calendar / Office365 exactly as the help article says.

Sign in → gear → My Profile → Google Calendar → Activate → Connect to Google Calendar → choose the
account → two-step code → Allow → choose the type → Save; then Disconnect; and Reconnect after the
grant was revoked at the provider.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from calendar_sync import services
from calendar_sync.management.commands.install_calendar_apps import install_demo
from calendar_sync.models import CalendarConnection, ConnectionState
from calendar_sync.providers.base import AuthRevoked
from tests.calendar_sync.actors import actor_class
from tests.calendar_sync.conftest import OAUTH_PROVIDERS
from tests.factories import AppointmentTypeFactory, UserFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pw-for-tests-123"
CASES = {
    "google": {
        "user": "karl.andersson@exempel.se",
        "account": "karl.andersson@exempel.se",
        "menu": "Google Calendar",
        "connect": "Connect to Google Calendar",
    },
    "microsoft": {
        "user": "eva.lind@exempel.se",
        "account": "eva.lind@exempel.se",
        "menu": "Office365",
        "connect": "Connect to Office365",
    },
}


def _sales_reps_group() -> None:
    """A transactional test flushes the group its data migration made; put it back."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    group, _ = Group.objects.get_or_create(name="Sales reps")
    wanted = Q()
    for app_label, model in (
        ("contacts", "company"),
        ("contacts", "contact"),
        ("appointments", "appointment"),
    ):
        wanted |= Q(content_type__app_label=app_label, content_type__model=model)
    group.permissions.add(
        *Permission.objects.filter(wanted).exclude(codename__startswith="delete_")
    )


@pytest.fixture
def crm(live_server, settings, emulator):
    _sales_reps_group()
    settings.CALENDAR_EMULATOR_URL = emulator.url
    settings.PUBLIC_BASE_URL = live_server.url
    install_demo(live_server.url)
    AppointmentTypeFactory(name="Meeting")
    AppointmentTypeFactory(name="Demo")
    return live_server


def sign_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r".*/calendar.*|.*/$"))


def provider_sign_in(page, provider: str, account: str) -> None:
    """The emulator's account chooser, two-step verification and consent."""
    actor_class(provider).sign_in(page, account)


@pytest.mark.parametrize("provider", OAUTH_PROVIDERS)
def test_rep_connects_disconnects_and_reconnects_after_revocation(crm, page, emulator, provider):
    case = CASES[provider]
    rep = UserFactory(email=case["user"], first_name="Rep", last_name="Demo")
    base = crm.url

    # 1. Settings (gear) → My Profile → the app in the left menu.
    sign_in(page, base, rep.email)
    page.click("a.gear")
    expect(page.get_by_role("heading", name="My Profile")).to_be_visible()
    page.get_by_role("link", name=case["menu"]).click()
    # 2. Activate → 3. Connect
    page.get_by_role("link", name="Activate").click()
    page.get_by_role("button", name=case["connect"]).click()
    # 4. choose the account (the chooser lists several) → two-step → 5. Allow
    provider_sign_in(page, provider, case["account"])
    # 6. choose the type → 7. Save
    page.wait_for_url(f"{base}/settings/calendar/**")
    page.select_option("select[name=appointment_type]", label="Meeting")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#calendar-account")).to_have_text(case["account"])
    expect(page.locator("#id_appointment_type option:checked")).to_have_text("Meeting")
    connection = CalendarConnection.objects.get(user=rep)
    assert connection.is_active

    # Disconnect: back to "Activate", appointments kept.
    page.get_by_role("link", name="Disconnect").click()
    expect(page.locator("#disconnect-confirm")).to_contain_text("Your appointments stay")
    assert CalendarConnection.objects.get(pk=connection.pk).state == ConnectionState.ACTIVE
    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("link", name="Activate")).to_be_visible()
    connection.refresh_from_db()
    assert connection.state == ConnectionState.DISCONNECTED

    # Connect again, then the user revokes the app's access at the provider.
    page.get_by_role("link", name="Activate").click()
    page.get_by_role("button", name=case["connect"]).click()
    provider_sign_in(page, provider, case["account"])
    # The same account resumes its connection (type kept); the rep may still change the type.
    expect(page.locator("#id_appointment_type option:checked")).to_have_text("Meeting")
    page.select_option("select[name=appointment_type]", label="Demo")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#calendar-account")).to_have_text(case["account"])
    requests.post(
        f"{emulator.url}/_emulator/accounts/{provider}/{case['account']}/revoke", timeout=5
    ).raise_for_status()
    live = CalendarConnection.objects.get(user=rep, state=ConnectionState.ACTIVE)
    with pytest.raises(AuthRevoked):  # the next token refresh finds the grant gone
        services.connection_refresh_tokens(connection=live)

    # The banner shows on every page; Reconnect goes through the provider again.
    page.goto(f"{base}/appointments/")
    banner = page.locator("#calendar-reconnect-banner")
    expect(banner).to_be_visible()
    banner.get_by_role("button", name="Reconnect").click()
    provider_sign_in(page, provider, case["account"])
    expect(page.locator("#calendar-state")).to_have_text("Active")
    expect(page.locator("#calendar-reconnect-banner")).to_have_count(0)
    live.refresh_from_db()
    assert live.state == ConnectionState.ACTIVE and live.appointment_type.name == "Demo"
