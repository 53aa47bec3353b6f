"""Google's sign-in pages in the emulator, played by ``connect_calendar``."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import requests

from ..emulator_login import TIMEOUT, SignInFailed, hidden, location


def sign_in(session: requests.Session, authorize_url: str, account: str) -> str:
    """Choose ``account``, pass two-step verification, Allow; returns the redirect to the CRM."""
    page = session.get(authorize_url, timeout=TIMEOUT)
    flow = hidden(page.text, "flow")
    step_url = urljoin(authorize_url, urlsplit(authorize_url).path + "/flow")
    resp = session.post(
        step_url, data={"flow": flow, "action": "choose", "email": account}, timeout=TIMEOUT
    )
    if resp.status_code == 200 and "id=totpPin" in resp.text:
        code = re.search(r"<b id=code>(\d+)</b>", resp.text)
        if not code:
            raise SignInFailed("Two-step verification page without a code.")
        resp = session.post(
            step_url,
            data={"flow": flow, "action": "verify", "code": code.group(1)},
            timeout=TIMEOUT,
        )
    if "id=allow" not in resp.text:
        raise SignInFailed(f"Google sign-in failed for {account}.")
    resp = session.post(
        step_url, data={"flow": flow, "action": "allow"}, allow_redirects=False, timeout=TIMEOUT
    )
    return location(resp)
