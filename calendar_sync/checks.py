"""Start-up checks: an incomplete provider registry stops the site instead of letting a provider
borrow another one's behaviour."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, register

from .providers import registry


@register()
def provider_registry_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [
        Error(problem, hint="See calendar_sync/README.md, 'Adding a provider'.", id="calendar.E001")
        for problem in registry.problems()
    ]
