"""Install "Google Calendar" and "Office365" in the App directory (idempotent).

* With CALENDAR_EMULATOR_URL (the demo default): demo OAuth clients, registered in the emulator
  with the CRM's redirect URIs, plus demo accounts (reps, a second Google account for the
  chooser, rooms, a customer per provider).
* Otherwise: the real clients from GOOGLE_CLIENT_ID/SECRET and MICROSOFT_CLIENT_ID/SECRET/TENANT;
  an app without credentials is left as it is.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calendar_sync import services
from calendar_sync.models import Provider
from calendar_sync.selectors import PROVIDER_BACKEND

DEMO_CLIENTS = {
    Provider.GOOGLE: {
        "client_id": "upsales-crm-demo.apps.googleusercontent.com",
        "client_secret": "demo-google-client-secret",
        "tenant": "",
    },
    Provider.MICROSOFT: {
        "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
        "client_secret": "demo-microsoft-client-secret",
        "tenant": "common",
    },
}

DEMO_ACCOUNTS: list[dict[str, object]] = [
    # The seeded rep Karl, with his aliases from the FAQ, and two-step verification on.
    {
        "provider": "google",
        "email": "karl.andersson@exempel.se",
        "name": "Karl Andersson",
        "aliases": ["karl@exempel.se", "karl@sthlm.exempel.se"],
        "two_step": True,
    },
    # A second Google account, so the account chooser has a choice.
    {"provider": "google", "email": "karl.privat@gmail.example", "name": "Karl Andersson"},
    {"provider": "microsoft", "email": "eva.lind@exempel.se", "name": "Eva Lind", "two_step": True},
    # Customers (contacts from seed_demo): play them to invite a rep.
    {"provider": "google", "email": "johan.ek@acme.se", "name": "Johan Ek"},
    {"provider": "microsoft", "email": "anna.berg@nordisklogistik.se", "name": "Anna Berg"},
]
DEMO_ROOMS: list[dict[str, object]] = [
    {"email": "stora.rummet@exempel.se", "name": "Stora rummet", "capacity": 10, "building": "HQ"},
    {"email": "lilla.rummet@exempel.se", "name": "Lilla rummet", "capacity": 4, "building": "HQ"},
]


def redirect_uris(base_url: str, backend: str) -> list[str]:
    """The callback URL, for both loopback spellings when running locally."""
    path = f"/oauth/complete/{backend}/"
    parts = urlsplit(base_url.rstrip("/"))
    hosts = [parts.netloc]
    host, _, port = parts.netloc.partition(":")
    twin = {"127.0.0.1": "localhost", "localhost": "127.0.0.1"}.get(host)
    if twin:
        hosts.append(f"{twin}:{port}" if port else twin)
    return [urlunsplit((parts.scheme, h, path, "", "")) for h in hosts]


def emulator_post(path: str, payload: dict) -> dict:
    url = settings.CALENDAR_EMULATOR_URL.rstrip("/") + path
    try:
        resp = requests.post(url, json=payload, timeout=10)
    except requests.RequestException as exc:
        raise CommandError(f"The emulator at {url} is not reachable: {exc}") from exc
    if resp.status_code >= 400:
        raise CommandError(f"Emulator {path}: {resp.status_code} {resp.text[:200]}")
    return resp.json()


def install_demo(base_url: str, *, accounts: bool = True) -> list[str]:
    """Install both apps against the emulator; returns what was done, for the output."""
    done = []
    for provider, client in DEMO_CLIENTS.items():
        services.calendar_app_install(provider=provider, **client)
        uris = redirect_uris(base_url, PROVIDER_BACKEND[provider])
        emulator_post(
            "/_emulator/clients",
            {
                "provider": provider.value,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "redirect_uris": uris,
            },
        )
        done.append(f"{provider.label}: installed, client registered for {', '.join(uris)}")
    if accounts:
        for account in DEMO_ACCOUNTS:
            emulator_post("/_emulator/accounts", account)
        for provider_name in Provider.values:
            for room in DEMO_ROOMS:
                emulator_post(
                    "/_emulator/accounts", {"provider": provider_name, "room": True, **room}
                )
        done.append(f"{len(DEMO_ACCOUNTS)} demo accounts and {len(DEMO_ROOMS)} rooms per provider")
    return done


def install_real() -> list[str]:
    done = []
    env = os.environ
    if env.get("GOOGLE_CLIENT_ID") and env.get("GOOGLE_CLIENT_SECRET"):
        services.calendar_app_install(
            provider=Provider.GOOGLE,
            client_id=env["GOOGLE_CLIENT_ID"],
            client_secret=env["GOOGLE_CLIENT_SECRET"],
        )
        done.append("Google Calendar: installed")
    else:
        done.append("Google Calendar: GOOGLE_CLIENT_ID/SECRET not set, left as is")
    if env.get("MICROSOFT_CLIENT_ID") and env.get("MICROSOFT_CLIENT_SECRET"):
        services.calendar_app_install(
            provider=Provider.MICROSOFT,
            client_id=env["MICROSOFT_CLIENT_ID"],
            client_secret=env["MICROSOFT_CLIENT_SECRET"],
            tenant=env.get("MICROSOFT_TENANT", "common"),
        )
        done.append("Office365: installed")
    else:
        done.append("Office365: MICROSOFT_CLIENT_ID/SECRET not set, left as is")
    return done


class Command(BaseCommand):
    help = "Install the Google Calendar and Office365 apps (against the emulator when configured)."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument(
            "--base-url",
            default="",
            help="The CRM's public URL for the redirect URIs (default: PUBLIC_BASE_URL).",
        )
        parser.add_argument(
            "--no-accounts", action="store_true", help="Do not create demo emulator accounts."
        )

    def handle(self, *args: object, **options) -> None:  # noqa: ANN003
        base_url = options["base_url"] or settings.PUBLIC_BASE_URL
        if settings.CALENDAR_EMULATOR_URL:
            lines = install_demo(base_url, accounts=not options["no_accounts"])
        else:
            lines = install_real()
        for line in lines:
            self.stdout.write(line)
