"""The emulated Google side: OAuth 2.0, Calendar API v3 and Admin Directory calendar resources."""

from __future__ import annotations

from ..state import EmulatorState
from .app import GoogleApp


def create_app(state: EmulatorState) -> GoogleApp:
    return GoogleApp(state)


__all__ = ["create_app", "GoogleApp"]
