"""OAuth plumbing shared by the providers' ``oauth.py`` modules: the social-auth backend mixin
and the one token-endpoint client. A leaf: no services, pipeline or views (the pipeline and
services import from here, never the other way round)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from ..models import CalendarApp
from .base import AuthRevoked, ProviderError, Tokens

TOKEN_TIMEOUT = 10

# Token-endpoint errors that mean the grant is gone: the rep has to reconnect.
GRANT_GONE = ("invalid_grant", "unauthorized_client", "interaction_required", "consent_required")


class CalendarOAuthMixin:
    """Mixed into every provider's social-auth backend (see providers/*/oauth.py)."""

    provider: str
    strategy: Any

    def calendar_app(self) -> CalendarApp:
        app = CalendarApp.objects.filter(provider=self.provider, installed=True).first()
        if app is None:
            raise Http404("No such calendar app")
        return app

    def get_key_and_secret(self) -> tuple[str, str]:
        app = self.calendar_app()
        return app.client_id, app.client_secret

    def get_scope(self) -> list[str]:
        from .registry import get_provider

        return list(get_provider(self.provider).scopes)

    def _require_rep(self) -> None:
        request = getattr(self.strategy, "request", None)
        if request is None or not request.user.is_authenticated:
            raise PermissionDenied

    def start(self):  # noqa: ANN201
        self._require_rep()
        return super().start()  # type: ignore[misc]

    def auth_complete(self, *args: Any, **kwargs: Any):  # noqa: ANN201
        # Refuse before the code is even exchanged.
        self._require_rep()
        return super().auth_complete(*args, **kwargs)  # type: ignore[misc]


def tokens_from_response(response: dict[str, Any]) -> Tokens:
    expires_in = response.get("expires_in")
    expires_at = timezone.now() + dt.timedelta(seconds=int(expires_in)) if expires_in else None
    return Tokens(
        access_token=response.get("access_token") or "",
        refresh_token=response.get("refresh_token") or "",
        expires_at=expires_at,
    )


def request_tokens(url: str, data: dict[str, str], *, previous_refresh_token: str = "") -> Tokens:
    """POST a token request; map OAuth errors to the adapters' error types.

    ``invalid_grant`` (revoked, expired or rotated-away refresh token) raises ``AuthRevoked``:
    permanent, the rep has to reconnect.
    """
    try:
        resp = requests.post(
            url, data=data, headers={"Accept": "application/json"}, timeout=TOKEN_TIMEOUT
        )
    except requests.RequestException as exc:
        raise ProviderError(f"token endpoint unreachable: {exc.__class__.__name__}") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    if resp.status_code == 429 or resp.status_code >= 500:  # transient: the common mapping
        raise ProviderError.from_status(
            resp.status_code,
            f"token endpoint: {error or resp.status_code}",
            retry_after=resp.headers.get("Retry-After"),
        )
    if error in GRANT_GONE:
        raise AuthRevoked(
            f"{error}: {body.get('error_description', '')}".strip(), status=resp.status_code
        )
    if resp.status_code >= 400 or not body.get("access_token"):
        raise ProviderError(
            f"token refresh failed: {error or resp.status_code}",
            permanent=400 <= resp.status_code < 500,
            status=resp.status_code,
        )
    tokens = tokens_from_response(body)
    if not tokens.refresh_token:  # some providers keep the refresh token, others rotate it
        tokens.refresh_token = previous_refresh_token
    return tokens


def refresh_grant(connection: Any, token_url: str, app: CalendarApp, **extra: str) -> Tokens:
    """A refresh_token grant for ``connection`` at ``token_url``; ``AuthRevoked`` without a
    refresh token or on invalid_grant. The caller persists the result."""
    if not connection.refresh_token:
        raise AuthRevoked("no refresh token stored")
    return request_tokens(
        token_url,
        {
            "grant_type": "refresh_token",
            "refresh_token": connection.refresh_token,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            **extra,
        },
        previous_refresh_token=connection.refresh_token,
    )
