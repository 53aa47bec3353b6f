"""Admin: the App directory (install/uninstall, OAuth client) and every rep's connection."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from . import selectors, services
from .forms import CalendarAppAdminForm, ExclusionEntryAdminForm
from .models import CalendarApp, CalendarConnection, ConnectionState, ExclusionEntry


@admin.register(CalendarApp)
class CalendarAppAdmin(admin.ModelAdmin):
    form = CalendarAppAdminForm
    list_display = ["__str__", "installed", "client_id", "masked_secret", "tenant", "installed_at"]
    list_filter = ["installed"]
    readonly_fields = ["masked_secret", "installed_at", "updated_at"]
    fields = [
        "provider",
        "installed",
        "client_id",
        "client_secret",
        "masked_secret",
        "tenant",
        "installed_at",
        "updated_at",
    ]
    actions = ["install", "uninstall"]

    @admin.display(description=_("stored secret"))
    def masked_secret(self, obj: CalendarApp) -> str:
        # Only whether one is stored: not a single character of it, not even its length.
        if obj.client_secret:
            return pgettext("OAuth client secret", "set")
        return pgettext("OAuth client secret", "not set")

    def save_model(self, request: HttpRequest, obj: CalendarApp, form, change: bool) -> None:  # noqa: ANN001
        if obj.installed and not obj.installed_at:
            obj.installed_at = timezone.now()
        was_installed = (
            CalendarApp.objects.filter(pk=obj.pk, installed=True).exists() if obj.pk else False
        )
        super().save_model(request, obj, form, change)
        if was_installed and not obj.installed:
            services.calendar_app_uninstall(app=obj, actor=request.user)

    @admin.action(description=_("Install the selected apps"), permissions=["change"])
    def install(self, request: HttpRequest, queryset: QuerySet[CalendarApp]) -> None:
        for app in queryset:
            services.calendar_app_install(provider=app.provider)
        self.message_user(request, _("Installed."), messages.SUCCESS)

    @admin.action(
        description=_("Uninstall the selected apps (disconnects their reps)"),
        permissions=["change"],
    )
    def uninstall(self, request: HttpRequest, queryset: QuerySet[CalendarApp]) -> None:
        total = sum(
            services.calendar_app_uninstall(app=app, actor=request.user) for app in queryset
        )
        self.message_user(
            request,
            ngettext(
                "Uninstalled; %(n)d connection disconnected.",
                "Uninstalled; %(n)d connections disconnected.",
                total,
            )
            % {"n": total},
            messages.SUCCESS,
        )


# Everything an admin may see of a connection: no token field is listed.
CONNECTION_FIELDS = (
    "user",
    "provider",
    "account_email",
    "state",
    "appointment_type",
    "connected_at",
    "activated_at",
    "disconnected_at",
    "token_expires_at",
    "scopes",
    "last_sync_at",
    "last_sync_summary",
    "last_error",
    "last_error_at",
    "window_start",
    "window_end",
    "channel_expires_at",
)


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "needs_attention"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return [("yes", _("Needs attention")), ("no", _("Fine"))]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[CalendarConnection]
    ) -> QuerySet[CalendarConnection]:
        if self.value() == "yes":
            return queryset.filter(selectors.NEEDS_ATTENTION)
        if self.value() == "no":
            return queryset.exclude(selectors.NEEDS_ATTENTION)
        return queryset


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Every rep's connection with its health (state, last sync, error, counts), filterable to
    the ones needing attention, with a bulk "Sync now". Read-only; tokens are never shown (they
    are not in any field list)."""

    list_display = [
        "user",
        "provider",
        "account_email",
        "state",
        "attention",
        "last_sync_at",
        "short_error",
        "linked",
        "skipped",
        "waiting",
        "failed",
        "channel_expires_at",
    ]
    list_filter = [NeedsAttentionFilter, "state", "provider"]
    search_fields = ["user__email", "user__username", "account_email"]
    list_select_related = ["user", "appointment_type"]
    fields = CONNECTION_FIELDS
    readonly_fields = CONNECTION_FIELDS
    actions = ["sync_now", "disconnect"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarConnection]:
        return selectors.connection_status_queryset(super().get_queryset(request))

    @admin.display(description=_("last error"))
    def short_error(self, obj: CalendarConnection) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    @admin.display(description=_("needs attention"), boolean=True, ordering="needs_attention")
    def attention(self, obj: CalendarConnection) -> bool:
        return bool(getattr(obj, "needs_attention", False))

    @admin.display(description=_("logged"), ordering="n_linked")
    def linked(self, obj: CalendarConnection) -> int:
        return getattr(obj, "n_linked", 0)

    @admin.display(description=_("skipped (upcoming)"), ordering="n_skipped")
    def skipped(self, obj: CalendarConnection) -> int:
        return getattr(obj, "n_skipped", 0)

    @admin.display(description=_("waiting"))
    def waiting(self, obj: CalendarConnection) -> int:
        return max(getattr(obj, "n_pending", 0) - getattr(obj, "n_failed", 0), 0)

    @admin.display(description=_("failed"), ordering="n_failed")
    def failed(self, obj: CalendarConnection) -> int:
        return getattr(obj, "n_failed", 0)

    def has_sync_permission(self, request: HttpRequest) -> bool:
        return services.can_sync_any(request.user)

    @admin.action(description=_("Sync now"), permissions=["sync"])
    def sync_now(self, request: HttpRequest, queryset: QuerySet[CalendarConnection]) -> None:
        queued = refused = 0
        for connection in queryset:
            try:
                services.connection_sync_now(connection=connection, actor=request.user)
            except services.NotSyncable:
                refused += 1
            else:
                queued += 1
        self.message_user(request, _("%(n)d queued.") % {"n": queued}, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                _("%(n)d not active (reconnect or activate first): not synced.") % {"n": refused},
                messages.WARNING,
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:  # noqa: ANN001
        return False

    def has_disconnect_permission(self, request: HttpRequest) -> bool:
        # The form stays read-only for everyone; disconnecting needs the model's change right.
        return services.can_disconnect_any(request.user)

    @admin.action(
        description=_("Disconnect (revoke access, keep appointments)"),
        permissions=["disconnect"],
    )
    def disconnect(self, request: HttpRequest, queryset: QuerySet[CalendarConnection]) -> None:
        live = queryset.exclude(state=ConnectionState.DISCONNECTED)
        count = 0
        for connection in live:
            services.connection_disconnect(connection=connection, actor=request.user)
            count += 1
        self.message_user(request, _("%(n)d disconnected.") % {"n": count}, messages.SUCCESS)


class ExclusionListFilter(admin.SimpleListFilter):
    title = _("list")
    parameter_name = "list"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("organisation", _("The organisation's list")), ("personal", _("Reps' lists"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "organisation":
            return queryset.filter(owner__isnull=True)
        if self.value() == "personal":
            return queryset.filter(owner__isnull=False)
        return queryset


@admin.register(ExclusionEntry)
class ExclusionEntryAdmin(admin.ModelAdmin):
    """Both lists: the organisation's (no rep) and every rep's. Entries are checked and
    normalised as on the settings page (``rules.exclusion_parse``)."""

    form = ExclusionEntryAdminForm
    list_display = ["value", "kind", "list_name", "created_by", "created_at"]
    list_filter = [ExclusionListFilter, "kind"]
    search_fields = ["value", "owner__email"]
    autocomplete_fields = ["owner"]
    readonly_fields = ["kind", "created_by", "created_at", "updated_at"]
    fields = ["owner", "value", "kind", "created_by", "created_at", "updated_at"]

    @admin.display(description=_("list"), ordering="owner__email")
    def list_name(self, obj: ExclusionEntry) -> str:
        return str(obj.owner) if obj.owner_id else str(_("The organisation's list"))

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExclusionEntry]:
        return super().get_queryset(request).select_related("owner", "created_by")

    def save_model(self, request: HttpRequest, obj: ExclusionEntry, form, change: bool) -> None:  # noqa: ANN001
        if obj.created_by_id is None:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
