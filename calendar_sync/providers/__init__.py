"""Provider adapters, looked up by the connection's provider choice."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..models import CalendarConnection
    from .base import CalendarAdapter

# provider choice -> "module:factory"; a factory takes a CalendarConnection and returns an adapter.
ADAPTERS: dict[str, str] = {
    "google": "calendar_sync.providers.google.adapter:adapter_for_connection",
    "microsoft": "calendar_sync.providers.microsoft.adapter:adapter_for_connection",
}


def get_adapter(connection: CalendarConnection) -> CalendarAdapter:
    module_name, factory = ADAPTERS[connection.provider].split(":")
    return getattr(import_module(module_name), factory)(connection)
