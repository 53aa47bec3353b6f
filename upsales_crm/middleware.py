"""Per-user time zone: every page and API answer shows times in the signed-in user's zone
(Settings → My profile; the organisation's, settings.TIME_ZONE, by default). Stored times stay UTC."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contacts.selectors import user_time_zone

SESSION_KEY = "time_zone"


def activate_user_time_zone(request: HttpRequest, user) -> str:
    """Activate the user's zone for this request; the session remembers it (the profile page
    updates it), so a page costs no extra query."""
    session = getattr(request, "session", None)
    zone = session.get(SESSION_KEY) if session is not None else None
    if not zone:
        zone = user_time_zone(user)
        if session is not None:
            session[SESSION_KEY] = zone
    timezone.activate(zone)
    return zone


class UserTimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            activate_user_time_zone(request, request.user)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
