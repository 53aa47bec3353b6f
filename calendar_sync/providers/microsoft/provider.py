"""Office365 (Microsoft Graph): everything the CRM needs to know of Microsoft, in one class."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from ..spec import CalendarProvider, PushCapability


class Office365(CalendarProvider):
    id = "microsoft"
    label = _("Office365")
    connect_label = _("Connect to Office365")
    video_label = _("Add Teams meeting")
    settings_slug = "office365"
    has_rooms = True  # Graph places
    connect_kind = "oauth"

    oauth_backend = "calendar_sync.providers.microsoft.oauth.MicrosoftCalendarOAuth2"
    backend_name = "microsoft-graph"
    scopes = (
        "openid",
        "email",
        "profile",
        "offline_access",
        "User.Read",
        "Calendars.ReadWrite",
        "Place.Read.All",
    )
    oauth_module = "calendar_sync.providers.microsoft.oauth"
    # ``mail`` is set by the account's tenant administrator and not verified ("nOAuth").
    trusts_email_claim = False

    adapter_factory = "calendar_sync.providers.microsoft.adapter:adapter_for_connection"
    # Graph caps event subscriptions at 4230 minutes; they are extended in place.
    push = PushCapability(kind="subscription", channel_ttl_seconds=4200 * 60)
    webhook_handler = "calendar_sync.webhooks:subscription_notification"
    # The spec's general rules: a deleted series leaves its appointments (marked cancelled),
    # all-day recurring events are imported.
    recurring_delete_removes = False
    all_day_recurring_supported = True
    poll_minutes = 10

    uses_tenant = True
    env_prefix = "MICROSOFT"
    default_tenant = "common"

    demo_client = {
        "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "client_secret": "demo-microsoft-client-secret",
        "tenant": "common",
    }
    demo_accounts = (
        {"email": "eva.lind@exempel.se", "name": "Eva Lind", "two_step": True},
        # A customer (a contact from seed_demo): play her to invite a rep.
        {"email": "anna.berg@nordisklogistik.se", "name": "Anna Berg"},
    )
    emulator_sign_in = "calendar_sync.providers.microsoft.emulator_login:sign_in"
    emulator_auth_params = {"prompt": "select_account"}

    @classmethod
    def email_claim_checked(cls, email: str, response: dict[str, Any]) -> bool:
        """Trusted only on the domain of the ``userPrincipalName``, which the tenant must have
        verified."""
        upn = str(response.get("userPrincipalName") or "").strip().lower()
        return "@" in upn and upn.rsplit("@", 1)[1] == email.rsplit("@", 1)[1]
