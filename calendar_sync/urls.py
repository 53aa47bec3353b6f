"""calendar_sync's URLs, mounted at the site root by upsales_crm/urls.py.

* ``calendar_sync:*`` - Settings → one page per provider in the registry
  (``/settings/calendar/<settings_slug>/``, URL name ``calendar_sync:<provider id>``), and the
  exclusion lists (``/settings/calendar/exclusions/``).
* ``social:begin`` / ``social:complete`` - the OAuth flow (``/oauth/login|complete/<backend>/``),
  our wrappers around social-auth's views; social-auth's other views (disconnect, launch
  bridges) are deliberately not exposed.
(Push webhooks are mounted separately: calendar_sync/webhook_urls.py.)
"""

from __future__ import annotations

from django.urls import include, path

from . import views
from .providers.registry import PROVIDERS

settings_patterns = [
    path("", views.index, name="index"),
    path("exclusions/", views.exclusions, name="exclusions"),
    path("exclusions/<int:pk>/delete/", views.exclusion_delete, name="exclusion_delete"),
    path(
        "exclusions/remove-logged/", views.exclusion_remove_logged, name="exclusion_remove_logged"
    ),
    *(
        path(f"{p.settings_slug}/", views.app_page, {"provider": p.id}, name=p.id)
        for p in PROVIDERS.values()
    ),
    path("<str:provider>/status/", views.connection_status, name="status"),
    path("<str:provider>/connect/", views.connect, name="connect"),
    path("<str:provider>/save/", views.save, name="save"),
    path("<str:provider>/busy-calendars/", views.busy_calendars_save, name="busy_calendars"),
    path("<str:provider>/disconnect/", views.disconnect, name="disconnect"),
]

oauth_patterns = [
    path("login/<str:backend>/", views.oauth_begin, name="begin"),
    path("complete/<str:backend>/", views.oauth_complete, name="complete"),
]


appointment_patterns = [
    path("<int:pk>/sync/", views.appointment_sync, name="appointment_sync"),
    path("<int:pk>/sync/retry/", views.appointment_sync_retry, name="appointment_sync_retry"),
]

urlpatterns = [
    path("appointments/", include((appointment_patterns, "calendar_sync_appointments"))),
    path("settings/calendar/", include((settings_patterns, "calendar_sync"))),
    path("oauth/", include((oauth_patterns, "social"))),
]
