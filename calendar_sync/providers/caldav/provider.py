"""CalDAV (iCloud, Fastmail, Nextcloud; Radicale in the demo and the tests): everything the CRM
needs to know of it, in one class."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ..spec import CalendarProvider


class CalDAV(CalendarProvider):
    id = "caldav"
    label = _("CalDAV calendar")
    connect_label = _("Connect CalDAV calendar")
    video_label = None  # CalDAV makes no video meetings: the form does not offer one
    settings_slug = "caldav"
    has_rooms = False  # no room directory

    # A server URL, username and app-specific password (stored encrypted like tokens).
    connect_kind = "credentials"
    credentials_connect = "calendar_sync.providers.caldav.connect:discover"

    adapter_factory = "calendar_sync.providers.caldav.adapter:adapter_for_connection"
    # No push in CalDAV: polled, an unchanged calendar costing one sync-collection REPORT.
    push = None
    webhook_handler = None
    poll_minutes = 3  # iCloud-like: every few minutes
    # The spec's general rules (as Office365): a deleted series leaves its appointments, marked
    # cancelled; all-day recurring events are imported.
    recurring_delete_removes = False
    all_day_recurring_supported = True

    # Demo accounts on the demo's Radicale (`make run`), passwords as the demo signs in.
    demo_accounts = (
        {"email": "karl.andersson@exempel.se", "name": "Karl Andersson"},
        {"email": "johan.ek@acme.se", "name": "Johan Ek"},
    )
