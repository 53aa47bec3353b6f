"""Connect a rep's calendar without a browser - against the emulator only.

    python manage.py connect_calendar --user karl.andersson@exempel.se --provider <id> \
        --account karl.andersson@exempel.se --appointment-type Meeting

Runs the real authorization-code flow (state + PKCE) against the emulator's sign-in pages with
``requests`` (choosing the account, answering two-step verification, allowing), exchanges the code,
then links and activates exactly like the Settings page does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from appointments.models import AppointmentType
from calendar_sync import services
from calendar_sync.models import CalendarApp
from calendar_sync.providers.base import Tokens
from calendar_sync.providers.emulator_login import SignInFailed
from calendar_sync.providers.oauth import tokens_from_response
from calendar_sync.providers.registry import PROVIDERS
from calendar_sync.providers.spec import load

from .install_calendar_apps import emulator_post, redirect_uris

TIMEOUT = 10


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def emulator_sign_in(provider: str, authorize_url: str, account: str) -> str:
    """Play the user at the emulator's sign-in pages; the URL the provider redirects back to."""
    sign_in = load(PROVIDERS[provider].emulator_sign_in)
    with requests.Session() as session:
        try:
            return str(sign_in(session, authorize_url, account))
        except SignInFailed as exc:
            raise CommandError(str(exc)) from exc


def code_flow(app: CalendarApp, account: str, base_url: str) -> tuple[Tokens, dict, str]:
    """Authorization code + PKCE against the emulator: (tokens, profile, scope)."""
    spec = app.spec
    oauth = spec.oauth()
    redirect_uri = redirect_uris(base_url, spec.backend_name)[0]
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(24)
    params = {
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(spec.scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **spec.emulator_auth_params,
    }
    authorize = f"{oauth.authorize_url(app)}?{urlencode(params)}"
    callback = emulator_sign_in(spec.id, authorize, account)
    query = parse_qs(urlsplit(callback).query)
    if query.get("state", [""])[0] != state or "code" not in query:
        raise CommandError(f"Authorization failed: {query.get('error', ['no code'])[0]}")
    resp = requests.post(
        oauth.token_url(app),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": redirect_uri,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    body = resp.json()
    if resp.status_code != 200:
        raise CommandError(f"Token exchange failed: {body.get('error')}")
    account_id, email = oauth.profile(body["access_token"])
    profile = {"id": account_id, "email": email}
    return tokens_from_response(body), profile, str(body.get("scope", ""))


class Command(BaseCommand):
    help = "Connect a rep's calendar without a browser (emulator only)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--user", required=True, help="The rep's e-mail or username.")
        # OAuth providers, signed in at the emulator (a CalDAV account is connected on its form).
        oauth = [p.id for p in PROVIDERS.values() if p.uses_oauth()]
        parser.add_argument("--provider", required=True, choices=oauth)
        parser.add_argument("--account", required=True, help="The calendar account's e-mail.")
        parser.add_argument("--appointment-type", required=True, help="Name of the type.")
        parser.add_argument("--base-url", default="", help="Default: PUBLIC_BASE_URL.")

    def handle(self, *args: object, **options) -> None:  # noqa: ANN003
        if not settings.CALENDAR_EMULATOR_URL:
            raise CommandError(
                "connect_calendar works with the emulator only (set CALENDAR_EMULATOR_URL)."
            )
        user = (
            get_user_model()
            .objects.filter(Q(email__iexact=options["user"]) | Q(username__iexact=options["user"]))
            .first()
        )
        if user is None:
            raise CommandError(f"No user {options['user']}.")
        app = CalendarApp.objects.filter(provider=options["provider"], installed=True).first()
        if app is None:
            raise CommandError("The app is not installed: run install_calendar_apps first.")
        appointment_type = AppointmentType.objects.filter(
            name__iexact=options["appointment_type"]
        ).first()
        if appointment_type is None:
            raise CommandError(f"No appointment type {options['appointment_type']!r}.")
        emulator_post(
            "/_emulator/accounts", {"provider": app.provider, "email": options["account"]}
        )
        tokens, profile, scope = code_flow(
            app, options["account"], options["base_url"] or settings.PUBLIC_BASE_URL
        )
        try:
            connection = services.connection_link(
                user=user,
                provider=app.provider,
                account_email=profile["email"].lower(),
                account_id=str(profile["id"]),
                tokens=tokens,
                scopes=scope,
            )
        except services.LinkRefused as exc:
            raise CommandError(str(exc)) from exc
        services.connection_alias_add(connection=connection)
        services.connection_activate(
            connection=connection, actor=user, appointment_type=appointment_type
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{user} connected to {app.get_provider_display()} as {connection.account_email} "
                f"(type {appointment_type}); the first sync has been queued."
            )
        )
