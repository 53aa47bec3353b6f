"""Playing the user at the emulator's sign-in pages (``connect_calendar``, emulator only).

Each provider's ``emulator_login.sign_in(session, authorize_url, account)`` chooses the account,
answers two-step verification and allows access, and returns the URL the provider redirects
back to; these are the helpers they share."""

from __future__ import annotations

import re

import requests

TIMEOUT = 10


class SignInFailed(Exception):
    """The emulator's pages did not go as expected; the message says where."""


def hidden(html: str, name: str) -> str:
    match = re.search(rf"name={name} value='([^']+)'", html)
    if not match:
        raise SignInFailed(f"Unexpected emulator sign-in page (no {name}).")
    return match.group(1)


def location(resp: requests.Response) -> str:
    if resp.status_code not in (301, 302, 303):
        error = re.search(r"id=error>([^<]+)<|role=alert>([^<]+)<", resp.text)
        raise SignInFailed(
            f"Sign-in did not finish: {error.groups() if error else resp.status_code}"
        )
    return resp.headers["Location"]
