"""Google OAuth: the social-auth backend for linking (PKCE, offline access) and token upkeep.

Endpoints come from ``endpoints.py`` (Google, or the emulator when CALENDAR_EMULATOR_URL is
set); the client id and secret from the App directory row.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from social_core.backends.google import GoogleOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE

from ...models import CalendarApp, CalendarConnection
from ..base import Tokens
from ..oauth import TOKEN_TIMEOUT, CalendarOAuthMixin, refresh_grant
from .endpoints import google_endpoints
from .provider import GoogleCalendar

log = logging.getLogger(__name__)


class GoogleCalendarOAuth2(CalendarOAuthMixin, GoogleOAuth2, BaseOAuth2PKCE):
    """``google-oauth2``: authorization code + PKCE (S256), offline access, consent every time
    (so Google always returns a refresh token), and the account chooser."""

    name = GoogleCalendar.backend_name
    provider = GoogleCalendar.id
    REDIRECT_STATE = False
    STATE_PARAMETER = True

    def authorization_url(self) -> str:
        return google_endpoints().authorization_url

    def access_token_url(self) -> str:
        return google_endpoints().token_url

    def revoke_token_url(self, token: str, uid: str) -> str:
        return google_endpoints().revoke_url

    def auth_extra_arguments(self) -> dict[str, str]:
        return {"access_type": "offline", "prompt": "consent select_account"}

    def user_data(self, access_token: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        response = self.get_json(
            google_endpoints().userinfo_url,
            headers={"Authorization": f"Bearer {access_token}"},
        )
        self.validate_email_verified(response)
        return response


def _app() -> CalendarApp:
    return CalendarApp.objects.get(provider=GoogleCalendar.id)


def authorize_url(app: CalendarApp) -> str:
    return google_endpoints().authorization_url


def token_url(app: CalendarApp) -> str:
    return google_endpoints().token_url


def profile(access_token: str) -> tuple[str, str]:
    """(stable id, e-mail) of the account ``access_token`` belongs to."""
    data = requests.get(
        google_endpoints().userinfo_url,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=TOKEN_TIMEOUT,
    ).json()
    return str(data["sub"]), str(data["email"])


def refresh_tokens(connection: CalendarConnection, app: CalendarApp | None = None) -> Tokens:
    """A fresh access token for ``connection``; ``AuthRevoked`` on invalid_grant. ``app``: the
    app as the caller read it (else read here).

    The caller persists the result (``services.connection_update_tokens``)."""
    return refresh_grant(connection, google_endpoints().token_url, app or _app())


refresh = refresh_tokens


def revoke_tokens(refresh_token: str, access_token: str = "") -> bool:
    """Revoke the grant behind these tokens (a link we refused: nobody keeps them)."""
    token = refresh_token or access_token
    if not token:
        return False
    resp = requests.post(
        google_endpoints().revoke_url,
        data={"token": token},
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=TOKEN_TIMEOUT,
    )
    # 400 invalid_token: already revoked or expired - nothing left to revoke.
    return resp.status_code in (200, 400)
