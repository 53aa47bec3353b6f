from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.booking.conftest import KARL
from tests.calendar_sync.test_browser_connect import _sales_reps_group
from tests.factories import (
    AppointmentTypeFactory,
    CompanyFactory,
    ContactFactory,
    UserFactory,
)

# The machine running CI is shared and slow at times: browser assertions wait up to 15 s.
expect.set_options(timeout=15_000)


@pytest.fixture
def rep(db):
    return UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def meeting_type(db):
    return AppointmentTypeFactory(name="Meeting")


@pytest.fixture
def company(db):
    return CompanyFactory(name="Kund AB", email_domains="kund.se")


@pytest.fixture
def contact(company):
    return ContactFactory(name="Johanna Svensson", company=company, emails=["johanna@kund.se"])


# --- browser tests: the CRM on a live server, calendars at the emulator -------------------------
@pytest.fixture
def crm(live_server, settings, emulator):
    _sales_reps_group()
    settings.CALENDAR_EMULATOR_URL = emulator.url
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server


@pytest.fixture
def karl(db):
    return UserFactory(email=KARL, username=KARL, first_name="Karl", last_name="Andersson")


def sign_in(page, base: str, user, client) -> None:
    """Sign in by session cookie (the login form has its own tests)."""
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    page.context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": base}])
