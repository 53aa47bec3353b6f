"""social-auth glue: it only LINKS a calendar account to the rep who is already signed in.

Nothing here signs anyone in or creates users:

* ``CalendarLinkStrategy.authenticate`` calls the backend directly instead of Django's
  ``authenticate()``, so the social backends never need to be in ``AUTHENTICATION_BACKENDS``
  (a session can therefore never be tied to them: the CRM's own sign-in, with TOTP, stays the
  only way in).
* ``providers.oauth.CalendarOAuthMixin`` (in every provider's backend) refuses to start or complete a flow without a signed-in rep, answers 404
  for an app that is not installed, and reads the OAuth client from the App directory.
* The pipeline ends in ``link_calendar``, which stores the tokens (encrypted) on a
  ``CalendarConnection`` and returns a redirect; ``UserSocialAuth`` rows are never written.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from social_django.strategy import DjangoStrategy

from . import selectors, services
from .providers.oauth import tokens_from_response
from .providers.registry import get_provider

log = logging.getLogger(__name__)


class CalendarLinkStrategy(DjangoStrategy):
    def get_backend(self, name: str, redirect_uri: str | None = None, **kwargs: Any):  # noqa: ANN201
        provider = selectors.backend_provider(name)
        if provider is None or not selectors.app_is_installed(provider):
            raise Http404("No such calendar app")
        return super().get_backend(name, redirect_uri=redirect_uri, **kwargs)

    def authenticate(self, backend, *args: Any, **kwargs: Any):  # noqa: ANN001, ANN201
        # Not django.contrib.auth.authenticate(): the pipeline's result is never a login.
        kwargs.pop("request", None)
        kwargs.update(strategy=self, storage=self.storage, backend=backend)
        # DjangoStrategy.clean_authenticate_args() expects the request first, as Django passes it.
        return backend.authenticate(self.request, *args, **kwargs)


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
    provider = selectors.backend_provider(backend.name) or ""
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
        # Nobody keeps these tokens: the grant goes back rather than lingering at the provider.
        services.grant_discard(provider=provider, tokens=tokens)
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

    The provider's registry entry decides (``trusts_email_claim``, ``email_is_verified``):
    Google vouches for the address itself; Microsoft's ``mail`` attribute is set by the tenant
    administrator and not verified (the "nOAuth" weakness), so it is checked.
    """
    return get_provider(provider).email_is_verified(email, response)
