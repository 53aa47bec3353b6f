"""Where each provider lives: the real services, or the built-in emulator when
``CALENDAR_EMULATOR_URL`` is set (the embedded default of ``make run`` and of the tests)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

GOOGLE_SCOPES = [
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.readonly",
    "https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly",
]
MICROSOFT_SCOPES = [
    "openid",
    "email",
    "profile",
    "offline_access",
    "User.Read",
    "Calendars.ReadWrite",
    "Place.Read.All",
]


@dataclass(frozen=True)
class GoogleEndpoints:
    authorization_url: str
    token_url: str
    userinfo_url: str
    revoke_url: str
    calendar_api: str  # api_endpoint for googleapiclient "calendar v3"
    directory_api: str  # api_endpoint for googleapiclient "admin directory_v1"


@dataclass(frozen=True)
class MicrosoftEndpoints:
    login_base: str  # https://login.microsoftonline.com (or the emulator's /microsoft)
    graph_base: str  # https://graph.microsoft.com (or the emulator's /microsoft); + /v1.0/


def emulator_url() -> str:
    return settings.CALENDAR_EMULATOR_URL.rstrip("/")


def google_endpoints() -> GoogleEndpoints:
    emu = emulator_url()
    if emu:
        base = f"{emu}/google"
        return GoogleEndpoints(
            authorization_url=f"{base}/o/oauth2/v2/auth",
            token_url=f"{base}/token",
            userinfo_url=f"{base}/oauth2/v3/userinfo",
            revoke_url=f"{base}/revoke",
            calendar_api=f"{base}/calendar/v3/",
            directory_api=f"{base}/",
        )
    return GoogleEndpoints(
        authorization_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",  # noqa: S106 - a URL
        userinfo_url="https://openidconnect.googleapis.com/v1/userinfo",
        revoke_url="https://oauth2.googleapis.com/revoke",
        calendar_api="https://www.googleapis.com/calendar/v3/",
        directory_api="https://admin.googleapis.com/",
    )


def microsoft_endpoints() -> MicrosoftEndpoints:
    emu = emulator_url()
    if emu:
        return MicrosoftEndpoints(login_base=f"{emu}/microsoft", graph_base=f"{emu}/microsoft")
    return MicrosoftEndpoints(
        login_base="https://login.microsoftonline.com", graph_base="https://graph.microsoft.com"
    )
