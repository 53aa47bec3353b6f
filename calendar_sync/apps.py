from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarSyncConfig(AppConfig):
    name = "calendar_sync"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Calendar sync")

    def ready(self) -> None:
        from appointments.signals import appointment_changed

        from . import checks  # noqa: F401 - registers the registry and deploy checks
        from .sync.receivers import on_appointment_changed

        appointment_changed.connect(on_appointment_changed, dispatch_uid="calendar_sync_export")

        from django.db.models.signals import pre_delete

        from appointments.models import Appointment

        from .sync.tombstones import tombstone_links

        pre_delete.connect(tombstone_links, sender=Appointment, dispatch_uid="calendar_sync_tomb")
