from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarSyncConfig(AppConfig):
    name = "calendar_sync"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Calendar sync")

    def ready(self) -> None:
        from appointments.signals import appointment_changed

        from .sync.receivers import on_appointment_changed

        appointment_changed.connect(on_appointment_changed, dispatch_uid="calendar_sync_export")
