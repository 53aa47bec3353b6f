"""Google Calendar: everything the CRM needs to know of Google, in one class."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..spec import CalendarProvider, PushCapability


class GoogleCalendar(CalendarProvider):
    id = "google"
    label = _("Google Calendar")
    connect_label = _("Connect to Google Calendar")
    video_label = _("Add Google Meet link")
    settings_slug = "google"
    has_rooms = True  # the Admin Directory's calendar resources
    connect_kind = "oauth"

    oauth_backend = "calendar_sync.providers.google.oauth.GoogleCalendarOAuth2"
    backend_name = "google-oauth2"
    scopes = (
        "openid",
        "email",
        "profile",
        "https://www.googleapis.com/auth/calendar.events",
        "https://www.googleapis.com/auth/calendar.freebusy",
        "https://www.googleapis.com/auth/calendar.readonly",
        "https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly",
    )
    oauth_module = "calendar_sync.providers.google.oauth"
    trusts_email_claim = True  # Google says so itself (``email_verified``)

    adapter_factory = "calendar_sync.providers.google.adapter:adapter_for_connection"
    # Watch channels live up to a week and cannot be extended (a renewal is a new channel).
    push = PushCapability(kind="channel", channel_ttl_seconds=7 * 24 * 3600)
    webhook_handler = "calendar_sync.webhooks:channel_notification"
    # The spec, of Google only: deleting a recurring series removes its appointments, and
    # all-day recurring events are not imported.
    recurring_delete_removes = True
    all_day_recurring_supported = False
    poll_minutes = 10

    uses_tenant = False
    env_prefix = "GOOGLE"

    demo_client = {
        "client_id": "upsales-crm-demo.apps.googleusercontent.com",
        "client_secret": "demo-google-client-secret",
        "tenant": "",
    }
    demo_accounts = (
        # The seeded rep Karl, with his aliases from the FAQ, and two-step verification on.
        {
            "email": "karl.andersson@exempel.se",
            "name": "Karl Andersson",
            "aliases": ["karl@exempel.se", "karl@sthlm.exempel.se"],
            "two_step": True,
        },
        # A second Google account, so the account chooser has a choice.
        {"email": "karl.privat@gmail.example", "name": "Karl Andersson"},
        # A customer (a contact from seed_demo): play him to invite a rep.
        {"email": "johan.ek@acme.se", "name": "Johan Ek"},
    )
    emulator_sign_in = "calendar_sync.providers.google.emulator_login:sign_in"
    emulator_auth_params = {"access_type": "offline", "prompt": "consent"}
