"""Mounted at /webhooks/calendar/ by the root URLconf: one receiver per provider with push, at
``<provider id>/`` (``push.callback_url`` builds the same URL), named after the provider."""

from django.urls import path

from .providers.registry import with_push
from .providers.spec import load

app_name = "calendar_webhooks"

urlpatterns = [
    path(f"{p.id}/", load(p.webhook_handler or ""), {"provider": p.id}, name=p.id)
    for p in with_push()
]
