"""Microsoft's sign-in pages in the emulator, played by ``connect_calendar``."""

from __future__ import annotations

import re

import requests

from ..emulator_login import TIMEOUT, SignInFailed, hidden, location


def sign_in(session: requests.Session, authorize_url: str, account: str) -> str:
    """Pick ``account``, enter the authenticator code if asked, Accept; returns the redirect."""
    page = session.get(authorize_url, timeout=TIMEOUT)
    ctx = hidden(page.text, "ctx")
    resp = session.post(
        authorize_url, data={"ctx": ctx, "step": "pick", "account": account}, timeout=TIMEOUT
    )
    if "value=mfa" in resp.text:
        code = re.search(r"the code is <code>(\d+)</code>", resp.text)
        if not code:
            raise SignInFailed("Verification page without a code.")
        resp = session.post(
            authorize_url, data={"ctx": ctx, "step": "mfa", "otc": code.group(1)}, timeout=TIMEOUT
        )
    if "value=consent" not in resp.text:
        raise SignInFailed(f"Microsoft sign-in failed for {account}.")
    resp = session.post(
        authorize_url,
        data={"ctx": ctx, "step": "consent", "decision": "accept"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return location(resp)
