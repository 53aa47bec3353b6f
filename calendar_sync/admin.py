"""Admin: the App directory (install/uninstall, OAuth client) and every rep's connection."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from . import services
from .forms import CalendarAppAdminForm
from .models import CalendarApp, CalendarConnection, ConnectionState


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


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Read-only overview; tokens are never shown (they are not in any field list)."""

    list_display = [
        "user",
        "provider",
        "account_email",
        "state",
        "appointment_type",
        "last_sync_at",
        "short_error",
    ]
    list_filter = ["state", "provider"]
    search_fields = ["user__email", "user__username", "account_email"]
    list_select_related = ["user", "appointment_type"]
    fields = CONNECTION_FIELDS
    readonly_fields = CONNECTION_FIELDS
    actions = ["disconnect"]

    @admin.display(description=_("last error"))
    def short_error(self, obj: CalendarConnection) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

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
