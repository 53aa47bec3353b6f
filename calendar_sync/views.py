"""Settings → one page per provider (the registry): activate, connect, choose the type, save,
disconnect.

The OAuth begin/complete URLs wrap social-auth's views: only a signed-in rep may use them, only
for an installed app, and a failed flow comes back as a message instead of an error page.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from social_core.exceptions import AuthCanceled, SocialAuthBaseException
from social_django import views as social_views

from appointments.selectors import appointment_get

from . import busy_calendars, selectors, services
from .forms import AppointmentTypeChoiceForm, CredentialsConnectForm, ExclusionEntryForm
from .models import CalendarApp, CalendarConnection
from .providers.base import CredentialsRefused
from .providers.registry import PROVIDERS

log = logging.getLogger(__name__)


# --- the Settings menu (the pages engineer's menu calls this) --------------------------------------
def settings_menu_entries(request: HttpRequest) -> list[tuple[str, str, bool]]:
    """Each installed app's label (from the registry); otherwise a pointer to ask the admin."""
    match = getattr(request, "resolver_match", None)
    here = match.kwargs.get("provider") if match and match.namespace == "calendar_sync" else None
    apps = selectors.installed_apps()
    exclusions = (_("Exclusion list"), "calendar_sync:exclusions", _is_exclusions_page(match))
    if not apps:
        calendar = bool(match and match.namespace == "calendar_sync") and not exclusions[2]
        return [(_("Calendar"), "calendar_sync:index", calendar), exclusions]
    return [
        *(
            (
                app.get_provider_display(),
                selectors.provider_url_name(app.provider),
                here == app.provider,
            )
            for app in apps
        ),
        exclusions,
    ]


def _is_exclusions_page(match) -> bool:  # noqa: ANN001
    return bool(match and match.view_name.startswith("calendar_sync:exclusion"))


def _installed_app(provider: str) -> CalendarApp:
    if provider not in PROVIDERS:
        raise Http404
    app = CalendarApp.objects.filter(provider=provider, installed=True).first()
    if app is None:
        raise Http404
    return app


def _page_context(request: HttpRequest, app: CalendarApp) -> dict:
    connection = selectors.connection_for_user(request.user)
    mine = connection if connection and connection.provider == app.provider else None
    other = connection if connection and connection.provider != app.provider else None
    return {
        "app": app,
        "provider": app.provider,
        "spec": app.spec,
        "backend": selectors.backend_name(app.provider),
        "connection": mine,
        "other_connection": other,
        "skip_reasons": selectors.skip_reasons_summary(mine) if mine else [],
        "skipped_events": selectors.skipped_events(mine) if mine else [],
        "summary": (mine.last_sync_summary or {}) if mine else {},
        "status": selectors.connection_status(mine) if mine else None,
        # Accounts the rep disconnected: what happens to the meetings sent from them.
        "previous_accounts": [
            p
            for p in selectors.previous_accounts(request.user, exclude=mine)
            if p.provider == app.provider and p.upcoming
        ],
    }


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    installed = selectors.installed_apps()
    labels = [str(p.label) for p in PROVIDERS.values()]
    if len(installed) == 1 or selectors.connection_for_user(request.user):
        connection = selectors.connection_for_user(request.user)
        provider = connection.provider if connection else installed[0].provider
        if any(a.provider == provider for a in installed):
            return redirect(selectors.provider_url_name(provider))
    return render(
        request,
        "calendar_sync/index.html",
        {
            "installed": [(app, app.spec.url_name()) for app in installed],
            "all_apps": list(PROVIDERS.values()),
            "apps_or": get_text_list(labels, _("or")),
            "apps_and": get_text_list(labels, _("and")),
        },
    )


def _uninstalled_page(request: HttpRequest, provider: str) -> HttpResponse:
    """A rep who follows a link (or the banner) to an app an administrator has uninstalled
    reads what that means for them, not a 404."""
    if provider not in PROVIDERS:
        raise Http404
    last = selectors.last_connection(request.user, provider)
    context = {"provider": provider, "label": PROVIDERS[provider].label, "last": last}
    return render(request, "calendar_sync/uninstalled.html", context)


@login_required
@require_GET
def app_page(request: HttpRequest, provider: str) -> HttpResponse:
    """Step 2 ("Activate"), step 6 (choose the type) or the status page, depending on state."""
    if provider in PROVIDERS and not selectors.app_is_installed(provider):
        return _uninstalled_page(request, provider)
    app = _installed_app(provider)
    context = _page_context(request, app)
    connection: CalendarConnection | None = context["connection"]
    if connection is not None:
        initial = {
            "appointment_type": connection.appointment_type_id,
            "private_events": connection.private_events,
        }
        context["form"] = AppointmentTypeChoiceForm(initial=initial)
    if connection is not None and connection.is_active:
        # A provider call (no transaction is open): the account's calendars to tick.
        context["busy"] = busy_calendars.busy_calendar_options(
            connection=connection, actor=request.user
        )
        context["busy_chosen"] = busy_calendars.chosen_names(connection)
    return render(request, "calendar_sync/app.html", context)


@login_required
@require_GET
def connection_status(request: HttpRequest, provider: str) -> HttpResponse:
    """The status part of the rep's connection page, polled by the page (htmx)."""
    context = _page_context(request, _installed_app(provider))
    if context["connection"] is None:
        raise Http404
    return render(request, "calendar_sync/_connection_status.html", context)


@login_required
@require_GET
def appointment_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """An appointment's sync state, polled by its page (htmx) while it waits to be sent."""
    appointment = appointment_get(user=request.user, pk=pk)
    return render(
        request, "calendar_sync/_appointment_sync.html", _sync_context(request, appointment)
    )


@login_required
@require_POST
def appointment_sync_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """ "Retry" on a failed push: send the appointment to the calendar again."""
    appointment = appointment_get(user=request.user, pk=pk)
    try:
        services.appointment_push_retry(appointment=appointment, actor=request.user)
    except PermissionDenied as err:
        messages.error(request, str(err))
    if not getattr(request, "htmx", False):  # django-htmx sets it
        return redirect(appointment.get_absolute_url())
    return render(
        request, "calendar_sync/_appointment_sync.html", _sync_context(request, appointment)
    )


def _sync_context(request: HttpRequest, appointment) -> dict:  # noqa: ANN001
    return {
        "appointment": appointment,
        "sync": selectors.appointment_sync_state(appointment),
        "can_retry": appointment.organizer_id == request.user.pk,
    }


@login_required
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest, provider: str) -> HttpResponse:
    """Step 3: the provider's connect button (``connect_label``), or for a provider reps connect
    with a password (``connect_kind = "credentials"``) the form for server, username and
    password, which POSTs back here."""
    app = _installed_app(provider)
    context = _page_context(request, app)
    if context["connection"] is not None and context["connection"].state == "active":
        return redirect(selectors.provider_url_name(provider))
    if app.spec.uses_oauth():
        if request.method == "POST":
            raise Http404
        return render(request, "calendar_sync/connect.html", context)
    form = CredentialsConnectForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and context["other_connection"] is None:
        try:
            services.connection_link_credentials(
                user=request.user, provider=provider, **form.cleaned_data
            )
        except (CredentialsRefused, services.LinkRefused) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(app)s is linked.") % {"app": app.get_provider_display()})
            return redirect(selectors.provider_url_name(provider))
    status = 400 if request.method == "POST" else 200
    context["credentials_form"] = form
    return render(request, "calendar_sync/connect.html", context, status=status)


@login_required
@require_POST
def save(request: HttpRequest, provider: str) -> HttpResponse:
    """Step 7: "Save" (also changes the type later)."""
    app = _installed_app(provider)
    connection = selectors.connection_for_user(request.user)
    if connection is None or connection.provider != app.provider:
        raise Http404
    form = AppointmentTypeChoiceForm(request.POST)
    if not form.is_valid():
        context = _page_context(request, app) | {"form": form}
        return render(request, "calendar_sync/app.html", context, status=400)
    first_time = connection.activated_at is None
    services.connection_activate(
        connection=connection,
        actor=request.user,
        appointment_type=form.cleaned_data["appointment_type"],
    )
    if form.cleaned_data.get("private_events"):
        services.connection_set_private_events(
            connection=connection, actor=request.user, mode=form.cleaned_data["private_events"]
        )
    if first_time:
        messages.success(
            request,
            _("%(app)s is connected. The first sync has started.")
            % {"app": app.get_provider_display()},
        )
    else:
        messages.success(request, _("Saved."))
    return redirect(selectors.provider_url_name(provider))


@login_required
@require_POST
def busy_calendars_save(request: HttpRequest, provider: str) -> HttpResponse:
    """ "Calendars that count as busy": the ticked calendars (checked with the provider)."""
    app = _installed_app(provider)
    connection = selectors.connection_for_user(request.user)
    if connection is None or connection.provider != app.provider:
        raise Http404
    try:
        busy_calendars.busy_calendars_set(
            connection=connection,
            actor=request.user,
            calendar_ids=request.POST.getlist("calendars"),
        )
    except ValidationError as err:
        for message in err.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Saved: the calendars that count as busy."))
    return redirect(reverse(selectors.provider_url_name(provider)) + "#busy-calendars")


@login_required
@require_http_methods(["GET", "POST"])
def disconnect(request: HttpRequest, provider: str) -> HttpResponse:
    """GET asks for confirmation (what stops, what is kept); POST disconnects."""
    connection = selectors.connection_for_user(request.user)
    if connection is None or connection.provider != provider:
        if request.method == "GET":
            return redirect("calendar_sync:index")
        raise Http404
    if request.method == "GET":
        return render(request, "calendar_sync/confirm_disconnect.html", {"connection": connection})
    services.connection_disconnect(connection=connection, actor=request.user)
    messages.success(
        request,
        _("%(app)s is disconnected. Your appointments are kept.")
        % {"app": connection.get_provider_display()},
    )
    if selectors.app_is_installed(provider):
        return redirect(selectors.provider_url_name(provider))
    return redirect("calendar_sync:index")


# --- OAuth begin / complete (namespace "social") ----------------------------------------------------
def _require_rep(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied


def _provider_or_404(backend: str) -> str:
    provider = selectors.backend_provider(backend)
    if provider is None or not selectors.app_is_installed(provider):
        raise Http404
    return provider


@never_cache
@require_POST
@csrf_protect
def oauth_begin(request: HttpRequest, backend: str) -> HttpResponse:
    """A POST (with CSRF) from "Connect to ..." / "Reconnect": off to the provider."""
    _require_rep(request)
    _provider_or_404(backend)
    return social_views.auth(request, backend)


@never_cache
@require_GET
def oauth_complete(request: HttpRequest, backend: str) -> HttpResponse:
    """The provider's redirect back: state (+ PKCE) checked, then ``pipeline.link_calendar``."""
    _require_rep(request)
    provider = _provider_or_404(backend)
    try:
        return social_views.complete(request, backend)
    except AuthCanceled:
        messages.info(request, _("You did not allow access, so nothing was connected."))
    except SocialAuthBaseException as exc:
        log.warning("calendar OAuth callback refused: %s (%s)", exc.__class__.__name__, backend)
        messages.error(
            request,
            _("The connection could not be completed (%(reason)s). Please try again.")
            % {"reason": _reason(exc)},
        )
    return redirect(selectors.provider_url_name(provider))


def _reason(exc: SocialAuthBaseException) -> str:
    code = getattr(exc, "code", "") or ""
    if "state" in code or "session" in code:
        return _("the request expired or did not start in this browser")
    return str(exc).rstrip(".") or code.replace("_", " ")


# --- exclusion lists ---------------------------------------------------------------------------
def _exclusions_page(request: HttpRequest, form: ExclusionEntryForm | None = None) -> HttpResponse:
    can_edit_org = selectors.can_edit_organisation_exclusions(request.user)
    entries = list(selectors.exclusion_list(user=request.user))
    found = selectors.excluded_logged(user=request.user)
    return render(
        request,
        "calendar_sync/exclusions.html",
        {
            "form": form or ExclusionEntryForm(can_edit_organisation=can_edit_org),
            "personal": [e for e in entries if e.owner_id is not None],
            "organisation": [e for e in entries if e.owner_id is None],
            "can_edit_organisation": can_edit_org,
            "logged": found.appointments[:10],
            "logged_count": len(found.appointments),
            "participants_on": found.others,
        },
        status=400 if form is not None and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def exclusions(request: HttpRequest) -> HttpResponse:
    """Settings → Exclusion list: the rep's own list, the organisation's (edited here by
    administrators), and the offer to remove what was logged before an entry was added."""
    if request.method != "POST":
        return _exclusions_page(request)
    can_edit_org = selectors.can_edit_organisation_exclusions(request.user)
    form = ExclusionEntryForm(request.POST, can_edit_organisation=can_edit_org)
    if not form.is_valid():
        return _exclusions_page(request, form)
    try:
        entry = services.exclusion_add(
            actor=request.user,
            value=form.cleaned_data["value"],
            organisation=form.cleaned_data.get("organisation") == "1",
        )
    except ValidationError as exc:
        for message in exc.message_dict.get("value", exc.messages):
            form.add_error("value", message)
        return _exclusions_page(request, form)
    messages.success(request, _("%(value)s was added.") % {"value": entry.value})
    return redirect("calendar_sync:exclusions")


@login_required
@require_POST
def exclusion_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(selectors.exclusion_list(user=request.user), pk=pk)
    services.exclusion_delete(actor=request.user, entry=entry)  # PermissionDenied: a 403
    messages.success(request, _("%(value)s was removed from the list.") % {"value": entry.value})
    return redirect("calendar_sync:exclusions")


@login_required
@require_POST
def exclusion_remove_logged(request: HttpRequest) -> HttpResponse:
    removed, cleaned = services.exclusion_remove_logged(actor=request.user)
    if removed:
        messages.success(
            request,
            ngettext(
                "%(n)d appointment was removed from the CRM.",
                "%(n)d appointments were removed from the CRM.",
                removed,
            )
            % {"n": removed},
        )
    if cleaned:
        messages.success(
            request,
            ngettext(
                "Excluded people were taken off %(n)d appointment.",
                "Excluded people were taken off %(n)d appointments.",
                cleaned,
            )
            % {"n": cleaned},
        )
    return redirect("calendar_sync:exclusions")
