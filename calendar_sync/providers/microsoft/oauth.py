"""Microsoft identity platform: the social-auth backend for linking (PKCE, offline_access) and
token upkeep. The tenant comes from the App directory row (``common`` when blank)."""

from __future__ import annotations

import logging
from typing import Any

import requests
from social_core.backends.microsoft import MicrosoftOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE

from ...models import CalendarApp, CalendarConnection
from ..base import Tokens
from ..oauth import TOKEN_TIMEOUT, CalendarOAuthMixin, refresh_grant
from .endpoints import microsoft_endpoints
from .provider import Office365

log = logging.getLogger(__name__)


def authorize_url(app: CalendarApp) -> str:
    return f"{microsoft_endpoints().login_base}/{Office365.tenant(app)}/oauth2/v2.0/authorize"


def token_url(app: CalendarApp) -> str:
    return f"{microsoft_endpoints().login_base}/{Office365.tenant(app)}/oauth2/v2.0/token"


class MicrosoftCalendarOAuth2(CalendarOAuthMixin, MicrosoftOAuth2, BaseOAuth2PKCE):
    """``microsoft-graph``: authorization code + PKCE (S256); ``offline_access`` in the scopes
    gives the refresh token; ``prompt=select_account`` shows the account chooser."""

    name = Office365.backend_name
    provider = Office365.id
    REDIRECT_STATE = False
    STATE_PARAMETER = True

    def authorization_url(self) -> str:
        return authorize_url(self.calendar_app())

    def access_token_url(self) -> str:
        return token_url(self.calendar_app())

    def auth_extra_arguments(self) -> dict[str, str]:
        return {"prompt": "select_account", "response_mode": "query"}

    def refresh_token_params(self, token: str, *args: Any, **kwargs: Any) -> dict[str, str]:
        client_id, client_secret = self.get_key_and_secret()
        return {
            "client_id": client_id,
            "client_secret": client_secret,
            "refresh_token": token,
            "grant_type": "refresh_token",
        }

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        return self.get_json(
            f"{microsoft_endpoints().graph_base}/v1.0/me",
            headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"},
        )


def _app() -> CalendarApp:
    return CalendarApp.objects.get(provider=Office365.id)


def profile(access_token: str) -> tuple[str, str]:
    """(stable id, e-mail) of the account ``access_token`` belongs to."""
    data = requests.get(
        f"{microsoft_endpoints().graph_base}/v1.0/me",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TOKEN_TIMEOUT,
    ).json()
    return str(data["id"]), str(data.get("mail") or data["userPrincipalName"])


def refresh_tokens(connection: CalendarConnection, app: CalendarApp | None = None) -> Tokens:
    """A fresh access token (and the rotated refresh token); ``AuthRevoked`` on invalid_grant.
    ``app``: the app as the caller read it (else read here)."""
    app = app or _app()
    return refresh_grant(connection, token_url(app), app, scope=" ".join(Office365.scopes))


refresh = refresh_tokens


def revoke_tokens(refresh_token: str, access_token: str = "") -> bool:
    """Microsoft has no per-app revocation endpoint: the refused tokens are simply dropped."""
    log.info("microsoft: no per-app revocation endpoint; refused tokens dropped")
    return False
