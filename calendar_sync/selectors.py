"""Reads for the calendar apps and reps' connections."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.utils import timezone

from .models import CalendarApp, CalendarConnection, ConnectionState, EventLink, Provider
from .sync.rules import SKIP_LABELS

PROVIDER_URL_NAME = {
    Provider.GOOGLE: "calendar_sync:google",
    Provider.MICROSOFT: "calendar_sync:microsoft",
}

# social-auth backend name per provider (the /oauth/login/<backend>/ URLs).
PROVIDER_BACKEND = {Provider.GOOGLE: "google-oauth2", Provider.MICROSOFT: "microsoft-graph"}
BACKEND_PROVIDER = {name: provider for provider, name in PROVIDER_BACKEND.items()}


def backend_name(provider: str) -> str:
    return PROVIDER_BACKEND[Provider(provider)]


def installed_apps() -> list[CalendarApp]:
    return list(CalendarApp.objects.filter(installed=True).order_by("provider"))


def app_is_installed(provider: str) -> bool:
    return CalendarApp.objects.filter(provider=provider, installed=True).exists()


def app_get(provider: str) -> CalendarApp | None:
    return CalendarApp.objects.filter(provider=provider).first()


def live_connections() -> QuerySet[CalendarConnection]:
    return CalendarConnection.objects.exclude(state=ConnectionState.DISCONNECTED)


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
    return PROVIDER_URL_NAME[Provider(provider)]


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
