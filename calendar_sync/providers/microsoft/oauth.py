"""Microsoft identity platform: the social-auth backend for linking (PKCE, offline_access) and
token upkeep. The tenant comes from the App directory row (``common`` when blank)."""

from __future__ import annotations

import logging
from typing import Any

from social_core.backends.microsoft import MicrosoftOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE

from ... import conf
from ...models import CalendarApp, CalendarConnection, Provider
from ...pipeline import CalendarOAuthMixin, request_tokens
from ..base import Tokens

log = logging.getLogger(__name__)


def _tenant(app: CalendarApp) -> str:
    return (app.tenant or "common").strip()


def authorize_url(app: CalendarApp) -> str:
    return f"{conf.microsoft_endpoints().login_base}/{_tenant(app)}/oauth2/v2.0/authorize"


def token_url(app: CalendarApp) -> str:
    return f"{conf.microsoft_endpoints().login_base}/{_tenant(app)}/oauth2/v2.0/token"


class MicrosoftCalendarOAuth2(CalendarOAuthMixin, MicrosoftOAuth2, BaseOAuth2PKCE):
    """``microsoft-graph``: authorization code + PKCE (S256); ``offline_access`` in the scopes
    gives the refresh token; ``prompt=select_account`` shows the account chooser."""

    name = "microsoft-graph"
    provider = Provider.MICROSOFT
    REDIRECT_STATE = False
    STATE_PARAMETER = True

    def authorization_url(self) -> str:
        return authorize_url(self.calendar_app())

    def access_token_url(self) -> str:
        return token_url(self.calendar_app())

    def get_scope(self) -> list[str]:
        return list(conf.MICROSOFT_SCOPES)

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
            f"{conf.microsoft_endpoints().graph_base}/v1.0/me",
            headers={"Accept": "application/json", "Authorization": f"Bearer {access_token}"},
        )


def _app() -> CalendarApp:
    return CalendarApp.objects.get(provider=Provider.MICROSOFT)


def refresh_tokens(connection: CalendarConnection) -> Tokens:
    """A fresh access token (and the rotated refresh token); ``AuthRevoked`` on invalid_grant."""
    from ..base import AuthRevoked

    if not connection.refresh_token:
        raise AuthRevoked("no refresh token stored")
    app = _app()
    return request_tokens(
        token_url(app),
        {
            "grant_type": "refresh_token",
            "refresh_token": connection.refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "scope": " ".join(conf.MICROSOFT_SCOPES),
        },
        previous_refresh_token=connection.refresh_token,
    )


refresh = refresh_tokens


def revoke(connection: CalendarConnection) -> bool:
    """The Microsoft identity platform has no endpoint to revoke one app's grant (only
    ``revokeSignInSessions``, which signs the user out everywhere - too blunt). Disconnecting
    deletes our tokens; the refresh token is useless without our client secret, and the user can
    remove the app at https://myapps.microsoft.com."""
    log.info("microsoft: no per-app revocation endpoint; tokens deleted locally")
    return False
