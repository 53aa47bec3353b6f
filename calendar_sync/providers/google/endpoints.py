"""Google's endpoints, or the emulator's ``/google`` ones when CALENDAR_EMULATOR_URL is set."""

from __future__ import annotations

from dataclasses import dataclass

from ...conf import emulator_url


@dataclass(frozen=True)
class GoogleEndpoints:
    authorization_url: str
    token_url: str
    userinfo_url: str
    revoke_url: str
    calendar_api: str  # api_endpoint for googleapiclient "calendar v3"
    directory_api: str  # api_endpoint for googleapiclient "admin directory_v1"


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
