"""THE provider registry: every calendar provider the CRM knows, by id.

Adding a provider is one new package (``calendar_sync/providers/<id>/`` with a ``provider.py``
subclass of ``spec.CalendarProvider``) plus one entry here. Model choices, URLs, settings pages,
templates, the OAuth backends, management commands and the test fixtures all derive from this
mapping; ``problems()`` runs as a Django system check, so a provider that leaves an attribute
out stops the start-up instead of borrowing another provider's behaviour.
"""

from __future__ import annotations

from .caldav.provider import CalDAV
from .google.provider import GoogleCalendar
from .microsoft.provider import Office365
from .spec import CalendarProvider

PROVIDERS: dict[str, type[CalendarProvider]] = {
    GoogleCalendar.id: GoogleCalendar,
    Office365.id: Office365,
    CalDAV.id: CalDAV,
}

# Every attribute a provider must set itself (the rest have defaults in ``CalendarProvider``).
REQUIRED = (
    "id",
    "label",
    "connect_label",
    "video_label",
    "settings_slug",
    "has_rooms",
    "connect_kind",
    "adapter_factory",
    "push",
    "webhook_handler",
    "recurring_delete_removes",
    "all_day_recurring_supported",
    "poll_minutes",
)
# ... and, by how reps connect (``connect_kind``; missing: checked as OAuth):
REQUIRED_FOR = {
    "oauth": (
        "oauth_backend",
        "backend_name",
        "scopes",
        "oauth_module",
        "trusts_email_claim",
        "uses_tenant",
        "env_prefix",
        "demo_client",
        "emulator_sign_in",
    ),
    "credentials": ("credentials_connect",),
}


class UnknownProvider(LookupError):
    """A provider id that is not in ``PROVIDERS`` (a row written by an older or newer release,
    or a typo): refused, never treated as some other provider."""


def get_provider(provider_id: str) -> type[CalendarProvider]:
    try:
        return PROVIDERS[str(provider_id)]
    except KeyError:
        raise UnknownProvider(
            f"Unknown calendar provider {provider_id!r} (known: {', '.join(PROVIDERS)})"
        ) from None


def provider_for_backend(backend_name: str) -> type[CalendarProvider] | None:
    """The provider whose social-auth backend is called ``backend_name``."""
    return next((p for p in with_oauth() if p.backend_name == backend_name), None)


def with_oauth() -> list[type[CalendarProvider]]:
    """The providers reps connect through OAuth (social-auth backends, token refresh)."""
    return [p for p in PROVIDERS.values() if p.uses_oauth()]


def provider_choices() -> list[tuple[str, object]]:
    """(id, label) for model and form choices, in registry order."""
    return [(p.id, p.label) for p in PROVIDERS.values()]


def with_push() -> list[type[CalendarProvider]]:
    return [p for p in PROVIDERS.values() if p.push is not None]


def problems(providers: dict[str, type[CalendarProvider]] | None = None) -> list[str]:
    """What is wrong with the registry (empty when every provider is complete and loadable)."""
    from .spec import load

    providers = PROVIDERS if providers is None else providers
    found: list[str] = []
    for key, provider in providers.items():
        name = getattr(provider, "__name__", repr(provider))
        kind = getattr(provider, "connect_kind", "oauth")
        if kind not in REQUIRED_FOR:
            found.append(f"{name}: connect_kind {kind!r} is neither of {', '.join(REQUIRED_FOR)}")
            continue
        wanted = REQUIRED + REQUIRED_FOR[kind]
        # (``credentials_connect`` defaults to "": an empty dotted path is as good as none)
        missing = [attr for attr in wanted if getattr(provider, attr, "") == ""]
        if missing:
            found.append(f"{name} ({key!r}) does not set {', '.join(missing)}")
            continue
        if provider.id != key:
            found.append(f"{name} is registered as {key!r} but its id is {provider.id!r}")
        if (provider.push is None) != (provider.webhook_handler is None):
            found.append(f"{name}: push and webhook_handler go together (both set or both None)")
        paths = [provider.adapter_factory]
        if kind == "oauth":
            paths += [_split_class(provider.oauth_backend), provider.oauth_module]
            paths += [provider.emulator_sign_in]
        else:
            paths += [provider.credentials_connect]
        paths += [provider.webhook_handler] if provider.webhook_handler else []
        for path in paths:
            try:
                load(path)
            except (ImportError, AttributeError) as exc:
                found.append(f"{name}: cannot load {path} ({exc})")
    backends = [
        p.backend_name
        for p in providers.values()
        if getattr(p, "connect_kind", "oauth") == "oauth" and hasattr(p, "backend_name")
    ]
    if len(set(backends)) != len(backends):
        found.append(f"two providers share an OAuth backend name: {backends}")
    slugs = [p.settings_slug for p in providers.values() if hasattr(p, "settings_slug")]
    if len(set(slugs)) != len(slugs):
        found.append(f"two providers share a settings page: {slugs}")
    return found


def _split_class(path: str) -> str:
    """``"pkg.module.Class"`` (Django's dotted-class style) -> ``"pkg.module:Class"``."""
    module, _, attr = path.rpartition(".")
    return f"{module}:{attr}"
