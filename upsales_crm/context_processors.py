from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    return {"EMULATOR_URL": settings.CALENDAR_EMULATOR_URL}
