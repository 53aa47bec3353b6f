"""Home redirect and the Settings pages (My Profile, API token)."""

from __future__ import annotations

from importlib import import_module
from typing import cast

from allauth.account.models import EmailAddress
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from contacts import services as contact_services
from contacts.models import UserProfile
from upsales_crm.middleware import SESSION_KEY

MenuEntry = tuple[str, str, bool]


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("appointments:calendar")
    return redirect("account_login")


def _current_url_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match else ""


def _extension_entries(request: HttpRequest) -> list:
    """Entries other apps add to the menu (calendar_sync: "Google Calendar", "Office365")."""
    try:
        module = import_module("calendar_sync.views")
    except ImportError:
        return []
    entries_fn = getattr(module, "settings_menu_entries", None)
    return list(entries_fn(request)) if entries_fn else []


def settings_menu(request: HttpRequest) -> list[MenuEntry]:
    """The left-hand Settings menu as (label, url_name, active) entries."""
    current = _current_url_name(request)
    entries: list[MenuEntry] = [
        (_("My Profile"), "settings_profile", current == "settings_profile"),
        (_("Two-factor authentication"), "mfa_index", current.startswith("mfa_")),
        (_("API token"), "settings_api_token", current == "settings_api_token"),
    ]
    for entry in _extension_entries(request):
        label, url_name, *rest = entry
        entries.append((label, url_name, bool(rest[0]) if rest else current == url_name))
    return entries


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        default = _("The organisation's (%(zone)s)") % {"zone": settings.TIME_ZONE}
        choices = [("", default), *((z, z) for z in contact_services.time_zone_choices())]
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = choices


@login_required
@require_http_methods(["GET", "POST"])
def settings_profile(request: HttpRequest) -> HttpResponse:
    assert request.user.pk is not None  # login_required
    profiles = UserProfile.objects.filter(user_id=request.user.pk)
    current = profiles.values_list("time_zone", flat=True)
    form = TimeZoneForm(request.POST or None, initial={"time_zone": current.first() or ""})
    if request.method == "POST" and form.is_valid():
        contact_services.user_time_zone_set(
            user=request.user, time_zone=form.cleaned_data["time_zone"]
        )
        request.session.pop(SESSION_KEY, None)  # the next request reads the new zone
        messages.success(request, _("Your time zone was saved."))
        return redirect("settings_profile")
    addresses = EmailAddress.objects.filter(user=request.user).order_by("-primary", "email")
    return render(
        request,
        "settings/profile.html",
        {
            "settings_menu": settings_menu(request),
            "addresses": addresses,
            "time_zone_form": form,
            "organisation_time_zone": settings.TIME_ZONE,
        },
    )


@never_cache  # the page shows a new token once: no browser or proxy may keep a copy
@login_required
@require_http_methods(["GET", "POST"])
def settings_api_token(request: HttpRequest) -> HttpResponse:
    new_token = None
    if request.method == "POST":
        new_token = contact_services.api_token_create_or_rotate(user=request.user)
        messages.success(request, _("Your new API token is shown below. Copy it now."))
    has_token = _has_token(request.user)
    return render(
        request,
        "settings/api_token.html",
        {"settings_menu": settings_menu(request), "new_token": new_token, "has_token": has_token},
    )


def _has_token(user) -> bool:
    from rest_framework.authtoken.models import Token

    return Token.objects.filter(user=user).exists()
