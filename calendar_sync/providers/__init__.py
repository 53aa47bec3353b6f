"""Provider adapters, looked up through the registry (``registry.PROVIDERS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models import CalendarApp, CalendarConnection
    from .base import CalendarAdapter


def get_adapter(connection: CalendarConnection) -> CalendarAdapter:
    """The adapter for ``connection``, from its provider's ``adapter_factory``."""
    from .registry import get_provider

    return get_provider(connection.provider).adapter(connection)


def connection_credentials(connection: CalendarConnection) -> tuple[CalendarApp, dict[str, Any]]:
    """What every adapter needs from a connection and its app: tokens (persisted when refreshed),
    the OAuth client, and the connected account. Adapter factories add provider extras."""
    from ..models import CalendarApp
    from .base import Tokens

    app = CalendarApp.objects.get(provider=connection.provider)
    oauth = connection.spec.oauth()
    return app, {
        "tokens": Tokens(
            connection.access_token, connection.refresh_token, connection.token_expires_at
        ),
        "on_refresh": connection.store_tokens,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "account_email": connection.account_email,
        # The app read here: a refresh while pages are read in a thread reads no row.
        "refresher": lambda: oauth.refresh_tokens(connection, app),
    }
