"""The calendar banners on every page: "reconnect" for a rep whose grant was revoked, and "the
app was uninstalled" for a rep whose calendar an administrator's uninstall disconnected."""

from __future__ import annotations

from django.http import HttpRequest

from . import selectors


def calendar_banner(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    connection = selectors.connection_needing_reconnect(user)
    if connection is None:
        uninstalled = selectors.uninstalled_app_of(user)
        return {"calendar_app_uninstalled": uninstalled} if uninstalled else {}
    return {
        "calendar_needs_reconnect": connection,
        "calendar_reconnect_backend": selectors.backend_name(connection.provider),
    }
