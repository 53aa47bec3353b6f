"""Where the providers live: the real services, or the built-in emulator when
``CALENDAR_EMULATOR_URL`` is set (the embedded default of ``make run`` and of the tests).

Each provider's own endpoints are in ``providers/<id>/endpoints.py``; they are built on
``emulator_url()`` when it is set.
"""

from __future__ import annotations

from django.conf import settings


def emulator_url() -> str:
    return settings.CALENDAR_EMULATOR_URL.rstrip("/")
