"""Request middleware. Per-user time zone: every page and API answer shows times in the signed-in
user's zone (Settings → My profile; the organisation's, settings.TIME_ZONE, by default; stored
times stay UTC). Staff without a second factor are sent to set one up before the admin; query
parameters with control characters are refused (400) before any view sees them."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
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


class RejectControlCharactersMiddleware:
    """A query parameter with a NUL or another control character is answered 400 with a clear
    message, on every page and API endpoint: PostgreSQL refuses NUL in text (a search for
    ``?q=%00`` would otherwise be a 500), and no parameter of ours ever carries one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if any(not is_clean_text(text) for text in (name, *values)):
                return _bad_parameter(request, name)
        return self.get_response(request)


def is_clean_text(text: str) -> bool:
    """No control characters (tabs and line breaks are no part of a query parameter either)."""
    return all(ch.isprintable() or ch == " " for ch in text)


def _bad_parameter(request: HttpRequest, name: str) -> HttpResponse:
    message = _("The parameter “%(name)s” contains a control character (such as NUL).") % {
        "name": name if is_clean_text(name) else repr(name)
    }
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
