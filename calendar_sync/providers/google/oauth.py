"""Google OAuth: the social-auth backend for linking (PKCE, offline access) and token upkeep.

Endpoints come from ``calendar_sync.conf`` (Google, or the emulator when CALENDAR_EMULATOR_URL is
set); the client id and secret from the App directory row.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from social_core.backends.google import GoogleOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE

from ... import conf
from ...models import CalendarApp, CalendarConnection, Provider
from ...pipeline import TOKEN_TIMEOUT, CalendarOAuthMixin, request_tokens
from ..base import Tokens

log = logging.getLogger(__name__)


class GoogleCalendarOAuth2(CalendarOAuthMixin, GoogleOAuth2, BaseOAuth2PKCE):
    """``google-oauth2``: authorization code + PKCE (S256), offline access, consent every time
    (so Google always returns a refresh token), and the account chooser."""

    name = "google-oauth2"
    provider = Provider.GOOGLE
    REDIRECT_STATE = False
    STATE_PARAMETER = True

    def authorization_url(self) -> str:
        return conf.google_endpoints().authorization_url

    def access_token_url(self) -> str:
        return conf.google_endpoints().token_url

    def revoke_token_url(self, token: str, uid: str) -> str:
        return conf.google_endpoints().revoke_url

    def get_scope(self) -> list[str]:
        return list(conf.GOOGLE_SCOPES)

    def auth_extra_arguments(self) -> dict[str, str]:
        return {"access_type": "offline", "prompt": "consent select_account"}

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        response = self.get_json(
            conf.google_endpoints().userinfo_url,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        self.validate_email_verified(response)
        return response


def _app() -> CalendarApp:
    return CalendarApp.objects.get(provider=Provider.GOOGLE)


def refresh_tokens(connection: CalendarConnection) -> Tokens:
    """A fresh access token for ``connection``; ``AuthRevoked`` on invalid_grant.

    The caller persists the result (``services.connection_update_tokens``)."""
    from ..base import AuthRevoked

    if not connection.refresh_token:
        raise AuthRevoked("no refresh token stored")
    app = _app()
    return request_tokens(
        conf.google_endpoints().token_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": connection.refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
        },
        previous_refresh_token=connection.refresh_token,
    )


refresh = refresh_tokens


def revoke(connection: CalendarConnection) -> bool:
    """Revoke the grant at Google (revoking the refresh token revokes the whole grant)."""
    token = connection.refresh_token or connection.access_token
    if not token:
        return False
    resp = requests.post(
        conf.google_endpoints().revoke_url,
        data={"token": token},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TOKEN_TIMEOUT,
    )
    # 400 invalid_token: already revoked or expired - nothing left to revoke.
    return resp.status_code in (200, 400)
