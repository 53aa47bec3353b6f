"""Provider adapters, looked up by the connection's provider choice."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import CalendarApp, CalendarConnection
    from .base import CalendarAdapter

# provider choice -> "module:factory"; a factory takes a CalendarConnection and returns an adapter.
ADAPTERS: dict[str, str] = {
    "google": "calendar_sync.providers.google.adapter:adapter_for_connection",
    "microsoft": "calendar_sync.providers.microsoft.adapter:adapter_for_connection",
}


def get_adapter(connection: CalendarConnection) -> CalendarAdapter:
    module_name, factory = ADAPTERS[connection.provider].split(":")
    return getattr(import_module(module_name), factory)(connection)


def connection_credentials(connection: CalendarConnection) -> tuple[CalendarApp, dict[str, Any]]:
    """What every adapter needs from a connection and its app: tokens (persisted when refreshed),
    the OAuth client, and the connected account. Adapter factories add provider extras."""
    from ..models import CalendarApp
    from ..services import connection_update_tokens
    from .base import Tokens

    app = CalendarApp.objects.get(provider=connection.provider)
    oauth = import_module(f"calendar_sync.providers.{connection.provider}.oauth")
    return app, {
        "tokens": Tokens(
            connection.access_token, connection.refresh_token, connection.token_expires_at
        ),
        "on_refresh": lambda tokens: connection_update_tokens(connection=connection, tokens=tokens),
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "account_email": connection.account_email,
        "refresher": lambda: oauth.refresh_tokens(connection),
    }
