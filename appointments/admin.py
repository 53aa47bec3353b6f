from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appointments import selectors, services
from appointments.models import Appointment, AppointmentType, Attendee, Outcome
from appointments.signals import send_appointment_changed


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    list_filter = ["active"]
    search_fields = ["name"]


class AttendeeInline(admin.TabularInline):
    model = Attendee
    fields = ["kind", "user", "contact", "email", "name", "response"]
    raw_id_fields = ["user", "contact"]
    extra = 0


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "start",
        "end",
        "appointment_type",
        "organizer",
        "company",
        "outcome",
        "source",
        "locked",
    ]
    list_filter = ["appointment_type", "outcome", "source", "locked", "start"]
    search_fields = ["title", "organizer__email", "company__name", "attendees__email"]
    list_select_related = ["appointment_type", "organizer", "company"]
    date_hierarchy = "start"
    raw_id_fields = ["organizer", "company", "follow_up_of"]
    inlines = [AttendeeInline]
    actions = ["mark_not_completed"]

    # Others see what the pages and the API would show them, read-only: adding, changing and
    # deleting here skips the services' rules (organizer only, locks), so reps use the pages/API.
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        visible = selectors.appointment_visible_queryset(user=request.user)
        return qs.filter(pk__in=visible.values("pk"))

    def has_add_permission(self, request) -> bool:
        return bool(request.user.is_superuser) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_superuser) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)

    # Editing in the admin is a superuser's escape hatch past the rules; the sync still hears it.
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        send_appointment_changed(
            appointment_id=obj.pk,
            action="updated" if change else "created",
            changed_fields=list(form.changed_data) if change else [],
            actor_id=request.user.pk,
        )

    def delete_model(self, request, obj) -> None:
        pk = obj.pk
        super().delete_model(request, obj)
        send_appointment_changed(
            appointment_id=pk, action="deleted", changed_fields=[], actor_id=request.user.pk
        )

    @admin.action(description=_("Mark as not completed"))
    def mark_not_completed(self, request, queryset) -> None:
        done, refused = 0, []
        for appointment in queryset.prefetch_related("attendees"):
            try:
                services.appointment_set_outcome(
                    appointment=appointment, actor=request.user, outcome=Outcome.NOT_COMPLETED
                )
                done += 1
            except PermissionDenied as exc:
                refused.append(f"{appointment}: {getattr(exc, 'reason', exc)}")
        if done:
            msg = ngettext(
                "%(n)d appointment marked as not completed.",
                "%(n)d appointments marked as not completed.",
                done,
            )
            self.message_user(request, msg % {"n": done}, messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.ERROR)
