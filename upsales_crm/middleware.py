"""Request middleware. Per-user time zone: every page and API answer shows times in the signed-in
user's zone (Settings → My profile; the organisation's, settings.TIME_ZONE, by default; stored
times stay UTC). Staff without a second factor are sent to set one up before the admin."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.selectors import user_time_zone
from upsales_crm.security import staff_mfa_missing

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


class StaffMfaRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(reverse("admin:index")) and staff_mfa_missing(request.user):
            messages.warning(
                request, _("Set up two-factor authentication before using the administration.")
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
