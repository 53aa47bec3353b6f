"""In Chromium, a rep connects a calendar reps sign in to with a password (``connect_kind =
"credentials"``: CalDAV, against the real Radicale): a wrong password is refused with a clear
message, the right one links the account, the type is chosen and saved, and the status page
shows the connection. No video box in the booking form for such a provider. Screenshots
(desktop and 390 px, English and Swedish) go to ``$SCREENSHOT_DIR`` when set."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from calendar_sync.models import CalendarConnection
from calendar_sync.providers.registry import PROVIDERS
from tests.booking.test_browser_invitation_preview import shoot, use_swedish
from tests.factories import UserFactory

from .test_browser_connect import crm, sign_in  # noqa: F401 - the live CRM fixture

CREDENTIALS_PROVIDERS = [p for p, spec in PROVIDERS.items() if not spec.uses_oauth()]
KARL = "karl.andersson@exempel.se"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.mark.parametrize("provider", CREDENTIALS_PROVIDERS)
@pytest.mark.parametrize("language", ["en", "sv"])
def test_rep_connects_with_server_username_and_app_password(
    crm,  # noqa: F811
    page,
    radicale,
    provider,
    language,
    tmp_path,
):
    from .test_browser_connect import PASSWORD

    spec = PROVIDERS[provider]
    UserFactory(email=KARL, username=KARL, password=PASSWORD, first_name="Karl")
    app_password = radicale.account_create(KARL)
    sign_in(page, crm.url, KARL)
    if language == "sv":
        use_swedish(page, crm.url)
    page.goto(f"{crm.url}/settings/calendar/{spec.settings_slug}/")
    page.locator("#calendar-activate").click()
    form = page.locator("#credentials-form")
    expect(form).to_be_visible()
    page.fill("#id_server_url", radicale.url)
    page.fill("#id_username", KARL)
    page.fill("#id_password", "wrong-password")
    shoot(page, tmp_path, f"{provider}-{language}-connect-form")
    form.locator("button[type=submit]").click()
    refused = page.locator("#credentials-form .error").first
    expect(refused).to_be_visible()
    expect(refused).to_contain_text(
        "refused the username or password" if language == "en" else "godtog inte"
    )
    shoot(page, tmp_path, f"{provider}-{language}-connect-refused")
    page.fill("#id_password", app_password)
    page.locator("#credentials-form button[type=submit]").click()
    expect(page.locator("#calendar-type-form")).to_be_visible()
    page.select_option("#id_appointment_type", index=1)
    page.locator("#calendar-type-form button[type=submit]").click()
    expect(page.locator("#calendar-account")).to_contain_text(KARL)
    shoot(page, tmp_path, f"{provider}-{language}-connected")
    conn = CalendarConnection.objects.get()
    assert conn.provider == provider and conn.access_token == app_password
    page.goto(f"{crm.url}/appointments/new/")
    expect(page.locator("#id_title")).to_be_visible()
    expect(page.locator("#id_video_requested")).to_have_count(0)  # no video meetings
    expect(page.locator("#id_room")).to_have_count(0)  # no rooms
