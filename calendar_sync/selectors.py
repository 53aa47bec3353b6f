"""Reads for the calendar apps and reps' connections."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import CalendarApp, CalendarConnection, ConnectionState, Provider

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


def skip_reasons_summary(connection: CalendarConnection) -> dict[str, int]:
    """Why events were not imported, from the last sync summary (falls back to nothing)."""
    summary = connection.last_sync_summary or {}
    skipped = summary.get("skipped") or {}
    return {str(k): int(v) for k, v in skipped.items() if v} if isinstance(skipped, dict) else {}
