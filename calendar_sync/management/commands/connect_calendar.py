"""Connect a rep's calendar without a browser - against the emulator only.

    python manage.py connect_calendar --user karl.andersson@exempel.se --provider google \
        --account karl.andersson@exempel.se --appointment-type Meeting

Runs the real authorization-code flow (state + PKCE) against the emulator's sign-in pages with
``requests`` (choosing the account, answering two-step verification, allowing), exchanges the code,
then links and activates exactly like the Settings page does.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from appointments.models import AppointmentType
from calendar_sync import conf, services
from calendar_sync.models import CalendarApp, Provider
from calendar_sync.pipeline import tokens_from_response
from calendar_sync.providers.base import Tokens
from calendar_sync.providers.microsoft import oauth as ms_oauth
from calendar_sync.selectors import PROVIDER_BACKEND

from .install_calendar_apps import emulator_post, redirect_uris

TIMEOUT = 10


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hidden(html: str, name: str) -> str:
    match = re.search(rf"name={name} value='([^']+)'", html)
    if not match:
        raise CommandError(f"Unexpected emulator sign-in page (no {name}).")
    return match.group(1)


def _location(resp: requests.Response) -> str:
    if resp.status_code not in (301, 302, 303):
        error = re.search(r"id=error>([^<]+)<|role=alert>([^<]+)<", resp.text)
        raise CommandError(
            f"Sign-in did not finish: {error.groups() if error else resp.status_code}"
        )
    return resp.headers["Location"]


def google_sign_in(session: requests.Session, authorize_url: str, account: str) -> str:
    """Choose ``account``, pass two-step verification, Allow; returns the redirect to the CRM."""
    page = session.get(authorize_url, timeout=TIMEOUT)
    flow = _hidden(page.text, "flow")
    step_url = urljoin(authorize_url, urlsplit(authorize_url).path + "/flow")
    resp = session.post(
        step_url, data={"flow": flow, "action": "choose", "email": account}, timeout=TIMEOUT
    )
    if resp.status_code == 200 and "id=totpPin" in resp.text:
        code = re.search(r"<b id=code>(\d+)</b>", resp.text)
        if not code:
            raise CommandError("Two-step verification page without a code.")
        resp = session.post(
            step_url,
            data={"flow": flow, "action": "verify", "code": code.group(1)},
            timeout=TIMEOUT,
        )
    if "id=allow" not in resp.text:
        raise CommandError(f"Google sign-in failed for {account}.")
    resp = session.post(
        step_url, data={"flow": flow, "action": "allow"}, allow_redirects=False, timeout=TIMEOUT
    )
    return _location(resp)


def microsoft_sign_in(session: requests.Session, authorize_url: str, account: str) -> str:
    """Pick ``account``, enter the authenticator code if asked, Accept; returns the redirect."""
    page = session.get(authorize_url, timeout=TIMEOUT)
    ctx = _hidden(page.text, "ctx")
    resp = session.post(
        authorize_url, data={"ctx": ctx, "step": "pick", "account": account}, timeout=TIMEOUT
    )
    if "value=mfa" in resp.text:
        code = re.search(r"the code is <code>(\d+)</code>", resp.text)
        if not code:
            raise CommandError("Verification page without a code.")
        resp = session.post(
            authorize_url, data={"ctx": ctx, "step": "mfa", "otc": code.group(1)}, timeout=TIMEOUT
        )
    if "value=consent" not in resp.text:
        raise CommandError(f"Microsoft sign-in failed for {account}.")
    resp = session.post(
        authorize_url,
        data={"ctx": ctx, "step": "consent", "decision": "accept"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return _location(resp)


def emulator_sign_in(provider: str, authorize_url: str, account: str) -> str:
    """Play the user at the emulator's sign-in pages; the URL the provider redirects back to."""
    with requests.Session() as session:
        if provider == Provider.GOOGLE:
            return google_sign_in(session, authorize_url, account)
        return microsoft_sign_in(session, authorize_url, account)


def code_flow(app: CalendarApp, account: str, base_url: str) -> tuple[Tokens, dict, str]:
    """Authorization code + PKCE against the emulator: (tokens, profile, scope)."""
    provider = Provider(app.provider)
    redirect_uri = redirect_uris(base_url, PROVIDER_BACKEND[provider])[0]
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(24)
    if provider == Provider.GOOGLE:
        endpoints = conf.google_endpoints()
        auth_url, token_url, scopes = (
            endpoints.authorization_url,
            endpoints.token_url,
            conf.GOOGLE_SCOPES,
        )
        extra = {"access_type": "offline", "prompt": "consent"}
    else:
        auth_url, token_url, scopes = (
            ms_oauth.authorize_url(app),
            ms_oauth.token_url(app),
            conf.MICROSOFT_SCOPES,
        )
        extra = {"prompt": "select_account"}
    params = {
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    callback = emulator_sign_in(provider, f"{auth_url}?{urlencode(params)}", account)
    query = parse_qs(urlsplit(callback).query)
    if query.get("state", [""])[0] != state or "code" not in query:
        raise CommandError(f"Authorization failed: {query.get('error', ['no code'])[0]}")
    resp = requests.post(
        token_url,
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
    profile = _profile(provider, body["access_token"])
    return tokens_from_response(body), profile, str(body.get("scope", ""))


def _profile(provider: str, access_token: str) -> dict:
    headers = {"Authorization": f"Bearer {access_token}"}
    if provider == Provider.GOOGLE:
        data = requests.get(
            conf.google_endpoints().userinfo_url, headers=headers, timeout=TIMEOUT
        ).json()
        return {"id": data["sub"], "email": data["email"]}
    url = f"{conf.microsoft_endpoints().graph_base}/v1.0/me"
    data = requests.get(url, headers=headers, timeout=TIMEOUT).json()
    return {"id": data["id"], "email": data.get("mail") or data["userPrincipalName"]}


class Command(BaseCommand):
    help = "Connect a rep's calendar without a browser (emulator only)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--user", required=True, help="The rep's e-mail or username.")
        parser.add_argument("--provider", required=True, choices=Provider.values)
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
