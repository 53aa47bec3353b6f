"""Install every provider of the registry in the App directory (idempotent).

* With CALENDAR_EMULATOR_URL (the demo default): each provider's ``demo_client``, registered in
  the emulator with the CRM's redirect URIs, plus its ``demo_accounts`` (reps, a second account
  for the chooser, a customer per provider) and the demo rooms.
* Otherwise: the real clients from ``<env_prefix>_CLIENT_ID``/``_CLIENT_SECRET`` (and
  ``_TENANT`` for a provider with tenants), e.g. GOOGLE_CLIENT_ID; an app without credentials is
  left as it is.
* Either way, a provider reps connect with a server URL and app password (``connect_kind =
  "credentials"``, CalDAV) has no client to set up: it is installed.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from calendar_sync import services
from calendar_sync.providers.registry import PROVIDERS, with_oauth

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
    """Install every app against the emulator; returns what was done, for the output."""
    done = install_credentials_apps()
    for spec in with_oauth():
        client = spec.demo_client
        services.calendar_app_install(provider=spec.id, **client)
        uris = redirect_uris(base_url, spec.backend_name)
        emulator_post(
            "/_emulator/clients",
            {
                "provider": spec.id,
                "client_id": client["client_id"],
                "client_secret": client["client_secret"],
                "redirect_uris": uris,
            },
        )
        done.append(f"{spec.label}: installed, client registered for {', '.join(uris)}")
    if accounts:
        count = 0
        for spec in with_oauth():
            for account in spec.demo_accounts:
                emulator_post("/_emulator/accounts", {"provider": spec.id, **account})
                count += 1
            for room in DEMO_ROOMS:
                emulator_post("/_emulator/accounts", {"provider": spec.id, "room": True, **room})
        done.append(f"{count} demo accounts and {len(DEMO_ROOMS)} rooms per provider")
    return done


def install_credentials_apps() -> list[str]:
    """Apps reps connect with a server URL and password (CalDAV): no OAuth client to set up,
    so they are simply installed (an administrator can uninstall them in the App directory)."""
    done = []
    for spec in PROVIDERS.values():
        if not spec.uses_oauth():
            services.calendar_app_install(provider=spec.id)
            done.append(f"{spec.label}: installed (reps connect with their server and password)")
    return done


def install_real() -> list[str]:
    done = install_credentials_apps()
    env = os.environ
    for spec in with_oauth():
        prefix = spec.env_prefix
        client_id, secret = env.get(f"{prefix}_CLIENT_ID"), env.get(f"{prefix}_CLIENT_SECRET")
        if not (client_id and secret):
            done.append(f"{spec.label}: {prefix}_CLIENT_ID/SECRET not set, left as is")
            continue
        extra = {"tenant": env.get(f"{prefix}_TENANT", spec.default_tenant)}
        services.calendar_app_install(
            provider=spec.id,
            client_id=client_id,
            client_secret=secret,
            **(extra if spec.uses_tenant else {}),
        )
        done.append(f"{spec.label}: installed")
    return done


class Command(BaseCommand):
    help = "Install the calendar apps (against the emulator when configured)."

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
