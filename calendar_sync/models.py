"""Calendar apps (the App directory), reps' connections with their sync state, and event links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, AppointmentType

from .crypto import EncryptedTextField
from .providers.registry import get_provider, provider_choices

if TYPE_CHECKING:
    from .providers.base import Tokens
from .providers.spec import CalendarProvider


class CalendarApp(models.Model):
    """An app in the App directory: installed by an administrator with its OAuth client."""

    provider = models.CharField(_("app"), max_length=20, choices=provider_choices(), unique=True)
    installed = models.BooleanField(_("installed"), default=False)
    client_id = models.CharField(_("OAuth client id"), max_length=255, blank=True)
    client_secret = EncryptedTextField(_("OAuth client secret"), blank=True)
    tenant = models.CharField(
        _("tenant"), max_length=100, blank=True, default="", help_text=_("Microsoft only")
    )
    installed_at = models.DateTimeField(_("installed at"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("calendar app")
        verbose_name_plural = _("App directory")
        ordering = ["provider"]

    def __str__(self) -> str:
        return self.get_provider_display()

    @property
    def spec(self) -> type[CalendarProvider]:
        """The provider's registry entry (``UnknownProvider`` for an id it does not have)."""
        return get_provider(self.provider)


class ConnectionState(models.TextChoices):
    ACTIVE = "active", _("Active")
    NEEDS_RECONNECT = "needs_reconnect", _("Needs reconnect")
    DISCONNECTED = "disconnected", _("Disconnected")


class PrivateEvents(models.TextChoices):
    """What the sync does with an event marked private in the rep's calendar (Google
    ``visibility`` private/confidential, Graph ``sensitivity`` private/confidential)."""

    NOT_LOGGED = "not_logged", _("Not logged")
    PRIVATE = "private", _("Logged as “Private appointment”: only time, company and contacts")
    NORMAL = "normal", _("Logged like any other meeting")


class CalendarConnection(models.Model):
    """One rep's link to one provider account, with the sync state it needs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connections"
    )
    provider = models.CharField(_("provider"), max_length=20, choices=provider_choices())
    account_email = models.EmailField(_("connected account"))
    account_id = models.CharField(max_length=255, blank=True)  # provider's stable user id
    state = models.CharField(
        _("state"), max_length=20, choices=ConnectionState.choices, default=ConnectionState.ACTIVE
    )
    # None until the rep has chosen the type on the "choose appointment type" step and saved.
    appointment_type = models.ForeignKey(
        AppointmentType,
        verbose_name=_("appointment type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Each rep's own choice, per connection (``sync.rules.private_event_treatment``).
    private_events = models.CharField(
        _("private events"),
        max_length=20,
        choices=PrivateEvents.choices,
        default=PrivateEvents.PRIVATE,
    )
    # OAuth: the tokens; a credentials provider (``connect_kind``): its app password in
    # access_token, its username in account_id.
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    token_expires_at = models.DateTimeField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    # A credentials provider's server as the rep typed it, and the main calendar found there.
    server_url = models.URLField(_("server"), max_length=1024, blank=True)
    calendar_url = models.URLField(max_length=1024, blank=True)
    connected_at = models.DateTimeField(_("connected since"), auto_now_add=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    # --- sync state (saved in the same transaction as the changes it covers) ---
    sync_cursor = models.TextField(blank=True)  # Google nextSyncToken / Graph deltaLink
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True)
    last_sync_summary = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    sync_requested_at = models.DateTimeField(null=True, blank=True)  # coalesces pushes
    sync_started_at = models.DateTimeField(null=True, blank=True)  # lease: one sync at a time

    # --- push: Google channel / Graph subscription ---
    channel_id = models.CharField(max_length=255, blank=True)
    channel_resource_id = models.CharField(max_length=255, blank=True)
    channel_token = EncryptedTextField(blank=True)  # Google channel token / Graph clientState
    channel_expires_at = models.DateTimeField(null=True, blank=True)

    # More calendars for busy time: other calendars of the same account whose busy time counts
    # in availability (never imported: only the main calendar is logged). ``[{"id", "name"}]``,
    # the name as the provider listed it when the rep chose it.
    busy_calendars = models.JSONField(_("calendars that count as busy"), default=list, blank=True)
    # Names of chosen calendars the provider no longer had, so they were dropped (shown to the rep
    # until they save their choice again).
    busy_calendars_dropped = models.JSONField(default=list, blank=True)

    # When the rep and the admins were told by e-mail that this connection needs reconnecting:
    # once per incident, cleared when the rep reconnects.
    attention_alerted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar connection")
        verbose_name_plural = _("calendar connections")
        ordering = ["-connected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=~models.Q(state="disconnected"),
                name="one_live_calendar_connection_per_user",
            ),
            models.UniqueConstraint(
                fields=["provider", "account_email"],
                condition=~models.Q(state="disconnected"),
                name="calendar_account_linked_once",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "provider"]),
            models.Index(fields=["channel_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.get_provider_display()} ({self.account_email})"

    @property
    def spec(self) -> type[CalendarProvider]:
        """The provider's registry entry (``UnknownProvider`` for an id it does not have)."""
        return get_provider(self.provider)

    @property
    def is_active(self) -> bool:
        return self.state == ConnectionState.ACTIVE and self.appointment_type_id is not None

    def store_tokens(self, tokens: Tokens) -> None:
        """Persist refreshed tokens (some providers rotate the refresh token, others keep it).
        Here rather than in services so the provider layer, a leaf, can save what it refreshed."""
        self.access_token = tokens.access_token
        fields = ["access_token", "token_expires_at"]
        if tokens.refresh_token:
            self.refresh_token = tokens.refresh_token
            fields.append("refresh_token")
        self.token_expires_at = tokens.expires_at
        self.save(update_fields=fields)


class EventLink(models.Model):
    """A provider event seen through one connection, and the appointment it maps to (if any).

    Events that were not imported keep their ``skip_reason`` so the rep can read why.
    """

    # Every index is declared in Meta, once: a first import writes a link per event, and each
    # index is written with it (the foreign keys' own indexes repeated those below).
    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="event_links", db_index=False
    )
    appointment = models.ForeignKey(
        Appointment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="event_links",
        db_index=False,
    )
    provider_event_id = models.CharField(max_length=1024)
    ical_uid = models.CharField(max_length=1024, blank=True)
    series_id = models.CharField(max_length=1024, blank=True)  # recurring master's id
    original_start = models.DateTimeField(null=True, blank=True)
    etag = models.CharField(max_length=255, blank=True)
    provider_updated = models.DateTimeField(null=True, blank=True)
    title = models.CharField(max_length=255, blank=True)
    start = models.DateTimeField(null=True, blank=True)
    skip_reason = models.CharField(max_length=40, blank=True)
    skip_detail = models.CharField(max_length=255, blank=True)
    # Hash of what the sync last wrote/read, so our own writes do not echo back.
    synced_hash = models.CharField(max_length=64, blank=True)
    # The appointment's updated_at this link reflects: a later one is a CRM change to push.
    crm_updated_at = models.DateTimeField(null=True, blank=True)
    # What the CRM last wrote to the event (set by the export): its participants' addresses
    # (None: never exported, e.g. imported) and a digest of its other event fields. An update
    # sends attendees only when the participants changed, as a difference against this set, so
    # people the CRM does not model (colleagues, guests added in the calendar) stay invited.
    crm_attendees = models.JSONField(null=True, blank=True)
    crm_fingerprint = models.CharField(max_length=64, blank=True)
    # The event's page in the provider's web calendar (Google htmlLink / Graph webLink).
    web_link = models.CharField(max_length=2048, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "provider_event_id"], name="event_link_unique"
            )
        ]
        indexes = [
            # connection_id alone: the unique constraint's and this index's first column.
            models.Index(fields=["connection", "skip_reason"]),
            models.Index(fields=["appointment"]),
            # Equality only (the same meeting in other calendars): no pattern-ops twin.
            models.Index(fields=["ical_uid"], name="event_link_ical_uid"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_event_id} → {self.appointment_id or self.skip_reason}"


class MeetingKey(models.Model):
    """One meeting (its iCalUID, plus the original start for an instance of a series) is one
    appointment, however many reps' calendars it is imported from. Claimed with an INSERT that
    ignores conflicts inside the importing page's transaction: when two first imports race, the
    unique key picks one winner and the other links to the winner's appointment."""

    ical_uid = models.CharField(max_length=1024)
    original_start_key = models.CharField(max_length=64, blank=True)  # UTC ISO, "" if single
    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ical_uid", "original_start_key"], name="meeting_key_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.ical_uid} {self.original_start_key} → {self.appointment_id}"


class ExportFailure(models.Model):
    """The last push of an appointment to its organizer's calendar failed. It covers the
    appointment as it was at ``crm_updated_at``: a later change is waiting again, a successful
    push deletes the row. What the API and pages show as "failed: <error>"."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(CalendarConnection, on_delete=models.CASCADE, related_name="+")
    crm_updated_at = models.DateTimeField()
    error = models.TextField()
    failed_at = models.DateTimeField()
    # Consecutive failed pushes, and when the sweep may try again (rules.export_retry_delay).
    attempts = models.PositiveIntegerField(default=1)
    retry_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "connection"], name="export_failure_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.appointment_id} → {self.connection_id}: {self.error[:60]}"


class SyncRun(models.Model):
    """One sync of one connection: what was fetched, written and skipped, and why."""

    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="sync_runs"
    )
    kind = models.CharField(max_length=20)  # full / incremental / export
    trigger = models.CharField(max_length=20, blank=True)  # activation / push / schedule / command
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    exported = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True)  # reason -> count
    provider_requests = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["connection", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.kind} {self.started_at:%Y-%m-%d %H:%M}"


class Room(models.Model):
    """A bookable meeting room as the provider lists it (Google Directory calendar resources,
    Graph places), cached per provider; refreshed on a schedule and when empty or stale."""

    provider = models.CharField(_("provider"), max_length=20, choices=provider_choices())
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=255)
    capacity = models.PositiveIntegerField(_("capacity"), default=0)
    building = models.CharField(_("building"), max_length=255, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    class Meta:
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        ordering = ["provider", "building", "name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "email"], name="room_unique_per_provider")
        ]

    def __str__(self) -> str:
        return self.name or self.email


class ExclusionKind(models.TextChoices):
    ADDRESS = "address", _("Address")
    DOMAIN = "domain", _("Domain")
    SUBDOMAINS = "subdomains", _("Domain and subdomains")


class ExclusionEntry(models.Model):
    """One entry of an exclusion list: meetings with these people are never logged, and they are
    never matched to contacts or shown as participants (``sync.rules.is_excluded``).

    ``owner`` is the rep whose personal list it is; None: the organisation's list (every rep's).
    ``value`` is normalised (``sync.rules.exclusion_parse``): ``ceo@client.test``,
    ``@lawfirm.test`` (that domain) or ``*.bank.test`` (bank.test and every subdomain)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rep"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exclusion_entries",
        help_text=_("Empty: the organisation's list, which applies to every rep."),
    )
    value = models.CharField(_("address or domain"), max_length=255)
    kind = models.CharField(_("kind"), max_length=20, choices=ExclusionKind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("exclusion list entry")
        verbose_name_plural = _("exclusion lists")
        ordering = ["value"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "value"],
                condition=models.Q(owner__isnull=False),
                name="exclusion_unique_per_rep",
                violation_error_message=_("This entry is already on this list."),
            ),
            models.UniqueConstraint(
                fields=["value"],
                condition=models.Q(owner__isnull=True),
                name="exclusion_unique_in_organisation",
                violation_error_message=_("This entry is already on this list."),
            ),
        ]

    def __str__(self) -> str:
        return self.value

    @property
    def is_organisation(self) -> bool:
        return self.owner_id is None
