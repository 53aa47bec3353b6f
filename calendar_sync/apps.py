from django.apps import AppConfig


class CalendarSyncConfig(AppConfig):
    name = "calendar_sync"
    default_auto_field = "django.db.models.BigAutoField"
