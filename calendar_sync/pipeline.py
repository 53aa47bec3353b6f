"""social-auth glue: it only LINKS a calendar account to the rep who is already signed in.

Nothing here signs anyone in or creates users:

* ``CalendarLinkStrategy.authenticate`` calls the backend directly instead of Django's
  ``authenticate()``, so the social backends never need to be in ``AUTHENTICATION_BACKENDS``
  (a session can therefore never be tied to them: the CRM's own sign-in, with TOTP, stays the
  only way in).
* ``CalendarOAuthMixin`` refuses to start or complete a flow without a signed-in rep, answers 404
  for an app that is not installed, and reads the OAuth client from the App directory.
* The pipeline ends in ``link_calendar``, which stores the tokens (encrypted) on a
  ``CalendarConnection`` and returns a redirect; ``UserSocialAuth`` rows are never written.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from social_django.strategy import DjangoStrategy

from . import selectors, services
from .models import CalendarApp
from .providers.base import Tokens

log = logging.getLogger(__name__)

BACKEND_PROVIDER = selectors.BACKEND_PROVIDER


class CalendarLinkStrategy(DjangoStrategy):
    def get_backend(self, name: str, redirect_uri: str | None = None, **kwargs: Any):  # noqa: ANN201
        provider = BACKEND_PROVIDER.get(name)
        if provider is None or not selectors.app_is_installed(provider):
            raise Http404("No such calendar app")
        return super().get_backend(name, redirect_uri=redirect_uri, **kwargs)

    def authenticate(self, backend, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN201
        # Not django.contrib.auth.authenticate(): the pipeline's result is never a login.
        kwargs.pop("request", None)
        kwargs.update(strategy=self, storage=self.storage, backend=backend)
        # DjangoStrategy.clean_authenticate_args() expects the request first, as Django passes it.
        return backend.authenticate(self.request, *args, **kwargs)


class CalendarOAuthMixin:
    """Shared by the Google and Microsoft backends (see providers/*/oauth.py)."""

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


def link_calendar(
    strategy: Any,
    backend: Any,
    details: dict[str, Any],
    response: dict[str, Any],
    uid: str,
    *args: Any,
    user: Any = None,
    **kwargs: Any,
) -> HttpResponse:
    """The last pipeline step: link the account to the signed-in rep, then ask for the type."""
    request = strategy.request
    rep = getattr(request, "user", None)
    if rep is None or not rep.is_authenticated or (user is not None and user.pk != rep.pk):
        raise PermissionDenied
    provider = BACKEND_PROVIDER[backend.name]
    email = (details.get("email") or "").strip().lower()
    tokens = tokens_from_response(response)
    try:
        connection = services.connection_link(
            user=rep,
            provider=provider,
            account_email=email,
            account_id=str(uid),
            tokens=tokens,
            scopes=str(response.get("scope") or ""),
        )
    except services.LinkRefused as exc:
        messages.error(request, str(exc))
        return redirect(selectors.provider_url_name(provider))
    if not address_is_verified(provider, email, response):
        messages.warning(
            request,
            _("%(email)s was not added to your addresses: the provider does not vouch for it.")
            % {"email": email},
        )
    elif not services.connection_alias_add(connection=connection):
        messages.warning(
            request,
            _("%(email)s is registered to another user, so it was not added to your addresses.")
            % {"email": email},
        )
    log.info("calendar linked: user=%s provider=%s connection=%s", rep.pk, provider, connection.pk)
    return redirect(selectors.provider_url_name(provider))


def address_is_verified(provider: str, email: str, response: dict[str, Any]) -> bool:
    """May the connected account's address become one of the rep's (verified) addresses?

    Google says so itself (``email_verified``). Microsoft's ``mail`` attribute is set by the
    account's tenant administrator and not verified (the "nOAuth" weakness): it is trusted only
    on the domain of the ``userPrincipalName``, which the tenant must have verified.
    """
    if not email or "@" not in email:
        return False
    if provider != "microsoft":
        return response.get("email_verified", True) not in (False, "false")
    upn = str(response.get("userPrincipalName") or "").strip().lower()
    return "@" in upn and upn.rsplit("@", 1)[1] == email.rsplit("@", 1)[1]


# --- token refresh and revocation over plain HTTP (used by providers/*/oauth.py) ---------------
TOKEN_TIMEOUT = 10


def request_tokens(url: str, data: dict[str, str], *, previous_refresh_token: str = "") -> Tokens:
    """POST a token request; map OAuth errors to the adapters' error types.

    ``invalid_grant`` (revoked, expired or rotated-away refresh token) raises ``AuthRevoked``:
    permanent, the rep has to reconnect.
    """
    import requests

    from .providers.base import AuthRevoked, ProviderError, RateLimited

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
    if resp.status_code == 429:
        retry_after = float(resp.headers.get("Retry-After") or 1)
        raise RateLimited("token endpoint rate limited", retry_after=retry_after)
    error = body.get("error") if isinstance(body, dict) else None
    if error in (
        "invalid_grant",
        "unauthorized_client",
        "interaction_required",
        "consent_required",
    ):
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
    if not tokens.refresh_token:  # Google keeps the refresh token; Microsoft rotates it
        tokens.refresh_token = previous_refresh_token
    return tokens
