"""Reads for the calendar apps and reps' connections."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appointments.models import Appointment, Attendee, AttendeeKind, Source

from .models import (
    CalendarApp,
    CalendarConnection,
    ConnectionState,
    EventLink,
    ExclusionEntry,
    ExportFailure,
)
from .providers.registry import PROVIDERS, get_provider, provider_for_backend
from .providers.spec import CalendarProvider
from .sync import rules
from .sync.reading import exclusion_values
from .sync.rules import SKIP_LABELS, NoInvitation


def backend_name(provider: str) -> str:
    """The social-auth backend name (the /oauth/login/<backend>/ URLs); "" for a provider reps
    connect without OAuth (``connect_kind = "credentials"``)."""
    spec = get_provider(provider)
    return spec.backend_name if spec.uses_oauth() else ""


def backend_provider(backend: str) -> str | None:
    """The provider id whose OAuth backend is ``backend`` (None: no such backend)."""
    spec = provider_for_backend(backend)
    return spec.id if spec is not None else None


def installed_apps() -> list[CalendarApp]:
    """The installed apps, in the registry's order (menus, the calendar index)."""
    order = {provider_id: i for i, provider_id in enumerate(PROVIDERS)}
    apps = CalendarApp.objects.filter(installed=True).order_by("provider")
    return sorted(apps, key=lambda app: order.get(app.provider, len(order)))


def app_is_installed(provider: str) -> bool:
    return CalendarApp.objects.filter(provider=provider, installed=True).exists()


def app_get(provider: str) -> CalendarApp | None:
    return CalendarApp.objects.filter(provider=provider).first()


def live_connections() -> QuerySet[CalendarConnection]:
    return CalendarConnection.objects.exclude(state=ConnectionState.DISCONNECTED)


def can_view_all_connections(user) -> bool:  # noqa: ANN001
    """Every rep's connection (the admin's status page, the API): the model's view permission."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm("calendar_sync.view_calendarconnection")
    )


def connection_visible_queryset(*, user) -> QuerySet[CalendarConnection]:  # noqa: ANN001
    """A rep's own connections (disconnected ones too); all of them with the view permission."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return CalendarConnection.objects.none()
    if can_view_all_connections(user):
        return CalendarConnection.objects.all()
    return CalendarConnection.objects.filter(user=user)


def connections_changed_since(
    qs: QuerySet[CalendarConnection], since: dt.datetime
) -> QuerySet[CalendarConnection]:
    """Connected, activated, synced, failed or disconnected at or after ``since``."""
    moments = [
        "connected_at",
        "activated_at",
        "last_sync_at",
        "last_error_at",
        "disconnected_at",
        "attention_alerted_at",
    ]
    changed = Q()
    for name in moments:
        changed |= Q(**{f"{name}__gte": since})
    return qs.filter(changed)


def connection_for_user(user) -> CalendarConnection | None:  # noqa: ANN001
    """The rep's live connection (active or needing reconnect), if any."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return (
        live_connections()
        .filter(user=user)
        .select_related("appointment_type")
        .order_by("-connected_at")
        .first()
    )


def has_active_calendar(user) -> bool:  # noqa: ANN001
    """True when the rep has an activated, working calendar (the appointment form then shows
    Agenda and the video/room options)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return CalendarConnection.objects.filter(
        user=user,
        state=ConnectionState.ACTIVE,
        appointment_type__isnull=False,
        provider__in=CalendarApp.objects.filter(installed=True).values("provider"),
    ).exists()


def calendar_provider(user) -> type[CalendarProvider] | None:  # noqa: ANN001
    """The provider (registry entry) of the rep's active calendar, the one that makes their
    video meetings and books their rooms; None without one (the same test as
    ``has_active_calendar``)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    provider = (
        CalendarConnection.objects.filter(
            user=user,
            state=ConnectionState.ACTIVE,
            appointment_type__isnull=False,
            provider__in=CalendarApp.objects.filter(installed=True).values("provider"),
        )
        .order_by("-connected_at")
        .values_list("provider", flat=True)
        .first()
    )
    return PROVIDERS.get(provider) if provider else None


def connection_to_resume(
    *, user, provider: str, account_email: str, account_id: str
) -> CalendarConnection | None:  # noqa: ANN001
    """The rep's last disconnected connection of this very account (same provider, same
    account id, else same address): connecting it again resumes it, with its event links and
    its activation, instead of starting over."""
    qs = CalendarConnection.objects.filter(
        user=user, provider=provider, state=ConnectionState.DISCONNECTED
    ).order_by("-disconnected_at", "-pk")
    if account_id:
        same = qs.filter(account_id=account_id).first()
        if same is not None:
            return same
    return qs.filter(account_email__iexact=account_email).first()


def first_activation(user_id: int) -> dt.datetime | None:
    """When the rep first activated a calendar app (any connection, disconnected ones too)."""
    return (
        CalendarConnection.objects.filter(user_id=user_id, activated_at__isnull=False)
        .order_by("activated_at")
        .values_list("activated_at", flat=True)
        .first()
    )


@dataclass(frozen=True)
class PreviousAccount:
    """A calendar account the rep has disconnected, and how many upcoming appointments have
    their event (and their invitations) in it."""

    provider: str
    provider_label: str
    account_email: str
    upcoming: int


def previous_accounts(user, *, exclude: CalendarConnection | None = None) -> list[PreviousAccount]:  # noqa: ANN001
    """The rep's disconnected accounts other than ``exclude``'s, newest first, each once."""
    rows = CalendarConnection.objects.filter(user=user, state=ConnectionState.DISCONNECTED)
    if exclude is not None:
        rows = rows.exclude(provider=exclude.provider, account_email__iexact=exclude.account_email)
    now = timezone.now()
    found: dict[tuple[str, str], PreviousAccount] = {}
    for row in rows.order_by("-disconnected_at", "-pk"):
        key = (row.provider, row.account_email.lower())
        if key in found:
            continue
        upcoming = (
            EventLink.objects.filter(
                connection__user=user,
                connection__provider=row.provider,
                connection__account_email__iexact=row.account_email,
                appointment__start__gte=now,
                appointment__organizer=user,
            )
            .values("appointment")
            .distinct()
            .count()
        )
        found[key] = PreviousAccount(
            row.provider, str(row.get_provider_display()), row.account_email, upcoming
        )
    return list(found.values())


def last_connection(user, provider: str) -> CalendarConnection | None:  # noqa: ANN001
    return (
        CalendarConnection.objects.filter(user=user, provider=provider)
        .order_by("-connected_at", "-pk")
        .first()
    )


def uninstalled_app_of(user) -> CalendarConnection | None:  # noqa: ANN001
    """The rep's last connection when an administrator has uninstalled its app since (and the
    rep has no live connection): the banner tells them why their calendar stopped syncing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if live_connections().filter(user=user).exists():
        return None
    last = CalendarConnection.objects.filter(user=user).order_by("-connected_at", "-pk").first()
    if last is None or app_is_installed(last.provider):
        return None
    return last


def connection_needing_reconnect(user) -> CalendarConnection | None:  # noqa: ANN001
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return live_connections().filter(user=user, state=ConnectionState.NEEDS_RECONNECT).first()


def connection_linked_elsewhere(
    *, provider: str, account_email: str, account_id: str, user
) -> CalendarConnection | None:  # noqa: ANN001
    """A live connection of the same provider account held by another rep."""
    qs = live_connections().filter(provider=provider).exclude(user=user)
    by_email = qs.filter(account_email__iexact=account_email)
    if account_id:
        return (by_email | qs.filter(account_id=account_id)).first()
    return by_email.first()


def provider_url_name(provider: str) -> str:
    return get_provider(provider).url_name()


@dataclass(frozen=True)
class SkippedEvent:
    title: str
    start: dt.datetime | None
    reason: str
    detail: str


def skip_reasons_summary(connection: CalendarConnection) -> list[tuple[str, int]]:
    """Why the calendar's events were not imported: a readable reason and how many, from the
    links the sync keeps for every event it saw (not only the last run's)."""
    rows = (
        EventLink.objects.filter(connection=connection)
        .exclude(skip_reason="")
        .values("skip_reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "skip_reason")
    )
    return [(str(SKIP_LABELS.get(r["skip_reason"], r["skip_reason"])), r["n"]) for r in rows]


def skipped_event_links(connection: CalendarConnection) -> QuerySet[EventLink]:
    """Upcoming events of the connection's calendar that were not logged (with the reason)."""
    return EventLink.objects.filter(connection=connection, start__gte=timezone.now()).exclude(
        skip_reason=""
    )


def sync_runs(connection: CalendarConnection) -> QuerySet:
    from .models import SyncRun

    return SyncRun.objects.filter(connection=connection)


def skipped_events(connection: CalendarConnection, *, limit: int = 25) -> list[SkippedEvent]:
    """The next events that were not imported, so the rep can see which and why."""
    links = (
        EventLink.objects.filter(connection=connection, start__gte=timezone.now())
        .exclude(skip_reason="")
        .order_by("start")[:limit]
    )
    return [
        SkippedEvent(
            title=link.title,
            start=link.start,
            reason=str(SKIP_LABELS.get(link.skip_reason, link.skip_reason)),
            detail=link.skip_detail,
        )
        for link in links
    ]


# --- sync state of appointments and connections (API, admin and pages read these) -------------
class SyncState(models.TextChoices):
    SENT = "sent", _("In the calendar")
    WAITING = "waiting", _("Waiting to be sent")
    FAILED = "failed", _("Failed")
    NOT_SYNCED = "not_synced", _("Not synced")


@dataclass(frozen=True)
class LinkedEvent:
    """An appointment's event in one rep's calendar."""

    provider: str
    account_email: str
    event_id: str
    ical_uid: str
    web_link: str


@dataclass(frozen=True)
class AppointmentSyncState:
    state: str  # a SyncState value
    error: str = ""  # why it failed (FAILED) or is not synced (NOT_SYNCED)
    events: tuple[LinkedEvent, ...] = ()

    @property
    def label(self) -> str:
        return str(SyncState(self.state).label)


def _window_end(now: dt.datetime) -> dt.datetime:
    from .sync.engine import sync_window

    return sync_window(now)[1]


def _links_by_appointment(ids: list[int]) -> dict[int, list[EventLink]]:
    links = (
        EventLink.objects.filter(appointment_id__in=ids)
        .select_related("connection")
        .only(
            "appointment_id",
            "provider_event_id",
            "ical_uid",
            "web_link",
            "crm_updated_at",
            "connection__provider",
            "connection__account_email",
            "connection__user_id",
        )
        .order_by("pk")
    )
    by_appointment: dict[int, list[EventLink]] = defaultdict(list)
    for link in links:
        by_appointment[link.appointment_id].append(link)  # type: ignore[index]
    return by_appointment


def _organizer_connections(user_ids: set[int]) -> dict[int, CalendarConnection]:
    return {c.user_id: c for c in live_connections().filter(user_id__in=user_ids)}


def _is_pending(appointment: Appointment, link: EventLink | None) -> bool:
    """The CRM has something the organizer's calendar does not (as the exporter decides)."""
    if appointment.cancelled_at is not None:
        return False
    if link is None:
        return True
    return link.crm_updated_at is not None and appointment.updated_at > link.crm_updated_at


def _state_of(
    appointment: Appointment,
    links: list[EventLink],
    connection: CalendarConnection | None,
    failure: ExportFailure | None,
    now: dt.datetime,
    window_end: dt.datetime,
) -> AppointmentSyncState:
    events = tuple(
        LinkedEvent(
            provider=link.connection.provider,
            account_email=link.connection.account_email,
            event_id=link.provider_event_id,
            ical_uid=link.ical_uid,
            web_link=link.web_link,
        )
        for link in links
    )
    own = next((k for k in links if connection and k.connection_id == connection.pk), None)
    parked = connection is not None and connection.state == ConnectionState.NEEDS_RECONNECT
    would_push = (
        _WouldPush(connection.user_id)
        if connection is not None and connection.appointment_type_id is not None
        else None
    )
    reason = rules.export_skip_reason(
        appointment, would_push, now, (now, window_end), linked=own is not None
    )
    if reason is None and _is_pending(appointment, own):
        assert connection is not None
        if parked:  # pushes stop while the grant is gone, until the rep reconnects
            return AppointmentSyncState(SyncState.FAILED, connection.last_error, events)
        if failure is not None and failure.crm_updated_at >= appointment.updated_at:
            return AppointmentSyncState(SyncState.FAILED, failure.error, events)
        return AppointmentSyncState(SyncState.WAITING, "", events)
    if events:
        return AppointmentSyncState(SyncState.SENT, "", events)
    return AppointmentSyncState(SyncState.NOT_SYNCED, reason or "", events)


@dataclass
class _WouldPush:
    """The organizer's activated connection (also while it waits for a reconnect), as the
    export rules see it: they then say whether the appointment belongs in its calendar."""

    user_id: int
    is_active: bool = True


def appointment_sync_states(
    appointments: Iterable[Appointment], *, now: dt.datetime | None = None
) -> dict[int, AppointmentSyncState]:
    """Per appointment id: in the calendar (``sent``), ``waiting`` to be pushed, ``failed``
    (with the error) or ``not_synced`` (with the reason), and its events in reps' calendars.
    Three queries for any number of appointments."""
    appointments = list(appointments)
    if not appointments:
        return {}
    now = now or timezone.now()
    window_end = _window_end(now)
    ids = [a.pk for a in appointments]
    links = _links_by_appointment(ids)
    connections = _organizer_connections({a.organizer_id for a in appointments})
    failures = {
        (f.appointment_id, f.connection_id): f
        for f in ExportFailure.objects.filter(appointment_id__in=ids)
    }
    states = {}
    for a in appointments:
        connection = connections.get(a.organizer_id)
        failure = failures.get((a.pk, connection.pk)) if connection else None
        states[a.pk] = _state_of(a, links.get(a.pk, []), connection, failure, now, window_end)
    return states


def appointment_sync_state(appointment: Appointment) -> AppointmentSyncState:
    return appointment_sync_states([appointment])[appointment.pk]


@dataclass(frozen=True)
class ConnectionStatus:
    """Everything about one connection's health, in one place (API, admin, the rep's page)."""

    connection: CalendarConnection
    needs_attention: bool
    syncing: bool
    next_poll_at: dt.datetime | None
    counts: dict[str, int] = field(default_factory=dict)
    last_run: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return self.connection.state

    @property
    def poll_minutes(self) -> int:
        """Minutes between polls without live push (the provider's, capped by the setting)."""
        from .sync import polling

        return polling.provider_interval(self.connection.provider)

    @property
    def last_sync_at(self) -> dt.datetime | None:
        return self.connection.last_sync_at

    @property
    def last_error(self) -> str:
        return self.connection.last_error

    @property
    def push_expires_at(self) -> dt.datetime | None:
        return self.connection.channel_expires_at


NEEDS_ATTENTION = Q(state=ConnectionState.NEEDS_RECONNECT) | (
    Q(state=ConnectionState.ACTIVE) & ~Q(last_error="")
)


def _count(qs: QuerySet, by: str) -> Coalesce:
    counted = qs.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def connection_status_queryset(
    qs: QuerySet[CalendarConnection] | None = None, *, now: dt.datetime | None = None
) -> QuerySet[CalendarConnection]:
    """Connections annotated with their counts (one query for a whole admin page):
    ``n_linked`` events logged, ``n_skipped`` upcoming events not logged, ``n_pending`` CRM
    changes or new appointments waiting to be pushed, ``n_failed`` of those whose last push failed,
    and ``needs_attention``."""
    now = now or timezone.now()
    qs = CalendarConnection.objects.all() if qs is None else qs
    links = EventLink.objects.filter(connection=OuterRef("pk"))
    # Neither invitations (locked) nor private events logged without details are ever pushed.
    upcoming = Appointment.objects.filter(
        organizer_id=OuterRef("user_id"),
        start__gte=now,
        locked=False,
        details_hidden=False,
        cancelled_at__isnull=True,
    )
    pending_links = links.filter(
        appointment__organizer_id=OuterRef("user_id"),
        appointment__start__gte=now,
        appointment__locked=False,
        appointment__details_hidden=False,
        appointment__cancelled_at__isnull=True,
        crm_updated_at__isnull=False,
        appointment__updated_at__gt=F("crm_updated_at"),
    )
    own_link = EventLink.objects.filter(
        appointment=OuterRef("pk"), connection=OuterRef(OuterRef("pk"))
    )
    unlinked = upcoming.filter(start__lt=_window_end(now)).filter(~Exists(own_link))
    failed = ExportFailure.objects.filter(
        connection=OuterRef("pk"),
        appointment__start__gte=now,
        appointment__cancelled_at__isnull=True,
        crm_updated_at__gte=F("appointment__updated_at"),
    )
    return qs.select_related("user", "appointment_type").annotate(
        n_linked=_count(links.filter(appointment__isnull=False), "connection"),
        n_skipped=_count(links.exclude(skip_reason="").filter(start__gte=now), "connection"),
        n_pending=_count(pending_links, "connection") + _count(unlinked, "organizer_id"),
        n_failed=_count(failed, "connection"),
        needs_attention=models.ExpressionWrapper(
            NEEDS_ATTENTION, output_field=models.BooleanField()
        ),
    )


def next_poll_at(
    connection: CalendarConnection, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When the polling backstop next looks at this connection (None: not polled)."""
    if not connection.is_active:
        return None
    from .sync import polling

    return polling.next_poll_at(connection, now or timezone.now())


def connection_status(
    connection: CalendarConnection, *, now: dt.datetime | None = None
) -> ConnectionStatus:
    annotated = connection_status_queryset(
        CalendarConnection.objects.filter(pk=connection.pk), now=now
    ).get()
    return connection_status_of(annotated, next_poll_at(annotated, now))


def connection_statuses(
    qs: QuerySet[CalendarConnection], *, now: dt.datetime | None = None
) -> list[ConnectionStatus]:
    """The statuses of many connections in one query (the admin's list)."""
    connections = list(connection_status_queryset(qs, now=now))
    return [connection_status_of(c, next_poll_at(c, now)) for c in connections]


def connection_status_of(connection: Any, poll: dt.datetime | None) -> ConnectionStatus:
    """The status of a connection from ``connection_status_queryset``."""
    return ConnectionStatus(
        connection=connection,
        needs_attention=bool(connection.needs_attention),
        syncing=connection.sync_started_at is not None,
        next_poll_at=poll,
        counts={
            "linked": connection.n_linked,
            "skipped_upcoming": connection.n_skipped,
            "waiting": max(connection.n_pending - connection.n_failed, 0),
            "failed": connection.n_failed,
        },
        last_run=dict(connection.last_sync_summary or {}),
    )


def invitation_outlook(
    organizer,
    appointment=None,
    *,
    now: dt.datetime | None = None,  # noqa: ANN001
) -> NoInvitation | None:
    """Why saving this appointment (a new one when None) sends nobody an invitation, or None
    when the calendar will send them (``rules.no_invitation_reason``)."""
    from .sync import exporter

    now = now or timezone.now()
    connection = (
        CalendarConnection.objects.filter(user=organizer).order_by("-connected_at", "-pk").first()
    )
    live = connection_for_user(organizer) if getattr(organizer, "is_authenticated", False) else None
    connection = live or connection
    with_attendees = True
    if appointment is not None and connection is not None:
        with_attendees = rules.writes_attendees(
            appointment,
            first_activated_at=first_activation(organizer.pk),
            invited_from_another_calendar=exporter.invited_from_another_calendar(
                appointment, connection
            ),
        )
    state = connection.state if connection is not None else None
    if state == ConnectionState.ACTIVE and connection and connection.appointment_type_id is None:
        state = None  # connected, never activated: nothing is synced yet
    return rules.no_invitation_reason(
        connection_state=state,
        app_installed=connection is not None and app_is_installed(connection.provider),
        locked=bool(appointment and appointment.locked),
        start=appointment.start if appointment is not None else None,
        now=now,
        with_attendees=with_attendees,
    )


# --- exclusion lists ---------------------------------------------------------------------------
def can_edit_organisation_exclusions(user) -> bool:  # noqa: ANN001
    """The organisation's exclusion list is edited by administrators: active users with
    ``calendar_sync.change_exclusionentry`` (superusers have it). Everyone reads it."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm("calendar_sync.change_exclusionentry")
    )


def exclusion_list(*, user, scope: str = "") -> QuerySet[ExclusionEntry]:  # noqa: ANN001
    """The entries ``user`` sees: their personal list and the organisation's (``scope``
    "personal" or "organisation" for one of them)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return ExclusionEntry.objects.none()
    personal, organisation = Q(owner_id=user.pk), Q(owner__isnull=True)
    where = {"personal": personal, "organisation": organisation}.get(scope, personal | organisation)
    return ExclusionEntry.objects.filter(where)


def _matching_attendees(exclusions: rules.Exclusions) -> Q:
    """Attendee rows an entry may match (narrowed in SQL; ``rules.is_excluded`` decides)."""
    where = Q(email__in=exclusions.addresses) if exclusions.addresses else Q(pk__in=[])
    for domain in exclusions.domains:
        where |= Q(email__iendswith=f"@{domain}")
    for domain in exclusions.subdomains:
        where |= Q(email__iendswith=f"@{domain}") | Q(email__iendswith=f".{domain}")
    return where


@dataclass
class ExcludedLogged:
    """What was logged from a rep's calendar before an entry excluded it."""

    appointments: list[Appointment]  # every external excluded: removed from the CRM
    attendee_ids: list[int]  # excluded participants of the rep's other logged appointments
    others: int  # how many appointments those participants are on

    def __bool__(self) -> bool:
        return bool(self.appointments or self.attendee_ids)


def excluded_logged(*, user) -> ExcludedLogged:  # noqa: ANN001
    """Appointments logged from ``user``'s calendar (organised by them, imported: never one
    booked in the CRM) whose external participants are now all on an exclusion list, and the
    excluded participants of the others: what adding an entry offers to remove. Three queries
    at most."""
    exclusions = rules.exclusions_from(exclusion_values(user.pk))
    if not exclusions:
        return ExcludedLogged([], [], 0)
    outside = Attendee.objects.filter(
        appointment__organizer_id=user.pk, kind__in=[AttendeeKind.CONTACT, AttendeeKind.EXTERNAL]
    ).exclude(appointment__source=Source.CRM)
    hits = [
        (pk, appointment_id)
        for pk, appointment_id, email in outside.filter(
            _matching_attendees(exclusions)
        ).values_list("pk", "appointment_id", "email")
        if rules.is_excluded(email, exclusions)
    ]
    emails: dict[int, list[str]] = defaultdict(list)
    rows = outside.filter(appointment_id__in={a for _, a in hits})
    for appointment_id, email in rows.values_list("appointment_id", "email"):
        emails[appointment_id].append(email)
    whole = {
        pk
        for pk, found in emails.items()
        if all(email and rules.is_excluded(email, exclusions) for email in found)
    }
    partial = [(pk, a) for pk, a in hits if a not in whole]
    appointments = list(Appointment.objects.filter(pk__in=whole).order_by("start", "pk"))
    return ExcludedLogged(appointments, [pk for pk, _ in partial], len({a for _, a in partial}))


def excluded_logged_appointments(*, user) -> list[Appointment]:  # noqa: ANN001
    """The appointments ``excluded_logged`` would remove, soonest first."""
    return excluded_logged(user=user).appointments
