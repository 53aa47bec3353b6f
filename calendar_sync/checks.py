"""Start-up checks: an incomplete provider registry stops the site instead of letting a provider
borrow another one's behaviour; ``manage.py check --deploy`` also wants valid
FIELD_ENCRYPTION_KEYS in production (OAuth tokens and client secrets are encrypted with them)."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from .providers import registry


@register()
def provider_registry_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, hint="See calendar_sync/README.md, 'Adding a provider'.", id="calendar.E001")
        for problem in registry.problems()
    ]


def _key_problem(key: object) -> str | None:
    try:
        Fernet(key.encode() if isinstance(key, str) else key)  # type: ignore[arg-type]
    except (ValueError, TypeError) as exc:
        return str(exc) or exc.__class__.__name__
    return None


@register(Tags.security, deploy=True)
def check_field_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.DEBUG:  # development derives a key from SECRET_KEY
        return []
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or [])
    if not keys:
        return [
            Error(
                "FIELD_ENCRYPTION_KEYS is not set: OAuth tokens cannot be stored in production.",
                hint="Set FIELD_ENCRYPTION_KEYS to one or more Fernet keys, newest first "
                "(see README, Configuration).",
                id="calendar_sync.E001",
            )
        ]
    return [
        Error(
            f"FIELD_ENCRYPTION_KEYS[{index}] is not a valid Fernet key ({problem}).",
            hint="A Fernet key is 32 url-safe base64-encoded bytes: "
            "Fernet.generate_key() makes one.",
            id="calendar_sync.E002",
        )
        for index, key in enumerate(keys)
        if (problem := _key_problem(key)) is not None
    ]
