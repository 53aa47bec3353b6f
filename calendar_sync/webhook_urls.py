"""Mounted at /webhooks/calendar/ by the root URLconf."""

from django.urls import path

from . import webhooks

app_name = "calendar_webhooks"

urlpatterns = [
    path("google/", webhooks.google, name="google"),
    path("microsoft/", webhooks.microsoft, name="microsoft"),
]
