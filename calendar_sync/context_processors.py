"""The "reconnect your calendar" banner, on every page of a rep whose grant was revoked."""

from __future__ import annotations

from django.http import HttpRequest

from . import selectors


def calendar_banner(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    connection = selectors.connection_needing_reconnect(user)
    if connection is None:
        return {}
    return {
        "calendar_needs_reconnect": connection,
        "calendar_reconnect_backend": selectors.backend_name(connection.provider),
    }
