"""Google OAuth 2.0 at the emulator, driven with requests and google-auth (never Google itself)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from google.auth.exceptions import RefreshError
from google.auth.transport.requests import Request as GoogleAuthRequest
from google.oauth2.credentials import Credentials

from tests.emulator.conftest import GOOGLE_SCOPES

FLOW_RE = re.compile(r"name=flow value='([^']+)'")


def _authorize(emulator, client, **extra) -> requests.Response:
    client_id, _, redirect_uri = client
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(GOOGLE_SCOPES),
        "state": "st-123",
        "access_type": "offline",
        "prompt": "consent select_account",
        **extra,
    }
    return requests.get(emulator.url + "/google/o/oauth2/v2/auth?" + urlencode(params), timeout=5)


def _step(emulator, flow: str, **form) -> requests.Response:
    return requests.post(
        emulator.url + "/google/o/oauth2/v2/auth/flow",
        data={"flow": flow, **form},
        allow_redirects=False,
        timeout=5,
    )


def _flow_id(resp: requests.Response) -> str:
    match = FLOW_RE.search(resp.text)
    assert match, resp.text
    return match.group(1)


def _login(emulator, client, email: str, **extra) -> dict:
    """Authorize -> choose account -> Allow; returns the redirect's query parameters."""
    page = _authorize(emulator, client, **extra)
    assert page.status_code == 200
    flow = _flow_id(page)
    consent = _step(emulator, flow, action="choose", email=email)
    assert "wants to access your Google Account" in consent.text
    done = _step(emulator, flow, action="allow")
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location.startswith(client[2])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _exchange(emulator, client, code: str, **extra) -> requests.Response:
    client_id, secret, redirect_uri = client
    return requests.post(
        emulator.url + "/google/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": client_id,
            "client_secret": secret,
            **extra,
        },
        timeout=5,
    )


def test_code_flow_chooser_consent_and_token(emulator, google_accounts, google_client):
    page = _authorize(emulator, google_client)
    assert "Choose an account" in page.text
    assert "alice@example.com" in page.text
    assert "room-aurora" not in page.text  # rooms are not sign-in accounts
    params = _login(emulator, google_client, "alice@example.com")
    assert params["state"] == "st-123"
    assert params["code"].startswith("4/0")
    assert "https://www.googleapis.com/auth/calendar" in params["scope"].split()

    resp = _exchange(emulator, google_client, params["code"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"].startswith("1//")
    assert body["id_token"].count(".") == 2

    info = requests.get(
        emulator.url + "/google/oauth2/v3/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=5,
    ).json()
    assert info["email"] == "alice@example.com"
    assert info["email_verified"] is True
    assert info["name"] == "Alice Andersson"
    assert info["given_name"] == "Alice" and info["family_name"] == "Andersson"
    assert len(info["sub"]) == 21 and info["picture"].startswith("https://")
    v2 = requests.get(
        emulator.url + "/google/oauth2/v2/userinfo",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=5,
    ).json()
    assert v2["email"] == "alice@example.com" and v2["id"] == info["sub"]


def test_online_access_gives_no_refresh_token(emulator, google_accounts, google_client):
    params = _login(emulator, google_client, "bob@example.com", access_type="online")
    body = _exchange(emulator, google_client, params["code"]).json()
    assert "access_token" in body and "refresh_token" not in body


def test_http_basic_client_auth(emulator, google_accounts, google_client):
    client_id, secret, redirect_uri = google_client
    params = _login(emulator, google_client, "alice@example.com")
    resp = requests.post(
        emulator.url + "/google/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": redirect_uri,
        },
        auth=(client_id, secret),
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    bad = requests.post(
        emulator.url + "/google/token",
        data={"grant_type": "refresh_token", "refresh_token": resp.json()["refresh_token"]},
        auth=(client_id, "wrong"),
        timeout=5,
    )
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


def test_use_another_account_creates_it(emulator, google_accounts, google_client):
    flow = _flow_id(_authorize(emulator, google_client))
    consent = _step(emulator, flow, action="other", email="New.Person@Example.org")
    assert "new.person@example.org" in consent.text
    done = _step(emulator, flow, action="allow")
    assert done.status_code == 302
    account = emulator.state.account_find("google", "new.person@example.org")
    assert account is not None and not account.is_room
    # The new account has its calendars at once.
    assert "new.person@example.org" in emulator.state.stores["google"].calendars


def test_two_step_account_needs_the_code(emulator, google_accounts, google_client):
    flow = _flow_id(_authorize(emulator, google_client))
    challenge = _step(emulator, flow, action="choose", email="carol@example.com")
    assert "2-Step Verification" in challenge.text
    code = re.search(r"Enter the code <b id=code>(\d{6})</b>", challenge.text).group(1)
    # Allow is not possible before the code step.
    early = _step(emulator, flow, action="allow")
    assert early.status_code == 400 and "Location" not in early.headers
    wrong = _step(emulator, flow, action="verify", code="000000" if code != "000000" else "111111")
    assert "Wrong code" in wrong.text
    consent = _step(emulator, flow, action="verify", code=code)
    assert "wants to access your Google Account" in consent.text
    done = _step(emulator, flow, action="allow")
    assert done.status_code == 302 and "code=" in done.headers["Location"]


def test_deny_redirects_with_access_denied(emulator, google_accounts, google_client):
    flow = _flow_id(_authorize(emulator, google_client))
    _step(emulator, flow, action="choose", email="alice@example.com")
    resp = _step(emulator, flow, action="deny")
    assert resp.status_code == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query == {"error": ["access_denied"], "state": ["st-123"]}


def test_redirect_uri_mismatch_shows_error_and_never_redirects(
    emulator, google_accounts, google_client
):
    resp = _authorize(emulator, google_client, redirect_uri="http://127.0.0.1:9/evil/")
    assert resp.status_code == 400
    assert "redirect_uri_mismatch" in resp.text
    assert not resp.history and "Location" not in resp.headers
    unknown = _authorize(emulator, ("nope", "", google_client[2]))
    assert unknown.status_code == 401 and "invalid_client" in unknown.text


def test_forged_flow_is_rejected(emulator, google_accounts, google_client):
    resp = _step(emulator, "made-up-flow-id", action="allow")
    assert resp.status_code == 400 and "Location" not in resp.headers


def test_pkce_s256(emulator, google_accounts, google_client):
    verifier = "v" * 20 + "erifier-0123456789-abcdefghijklmnop"
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    params = _login(
        emulator,
        google_client,
        "alice@example.com",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    missing = _exchange(emulator, google_client, params["code"])
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    params = _login(
        emulator,
        google_client,
        "alice@example.com",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    wrong = _exchange(emulator, google_client, params["code"], code_verifier="x" * 43)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    params = _login(
        emulator,
        google_client,
        "alice@example.com",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    ok = _exchange(emulator, google_client, params["code"], code_verifier=verifier)
    assert ok.status_code == 200, ok.text


def test_replayed_code_is_invalid_grant(emulator, google_accounts, google_client):
    params = _login(emulator, google_client, "alice@example.com")
    first = _exchange(emulator, google_client, params["code"])
    assert first.status_code == 200
    again = _exchange(emulator, google_client, params["code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    assert again.json()["error_description"]
    unknown = _exchange(emulator, google_client, "4/0-not-a-code")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def _credentials(emulator, client, body) -> Credentials:
    client_id, secret, _ = client
    return Credentials(
        body["access_token"],
        refresh_token=body["refresh_token"],
        token_uri=emulator.url + "/google/token",
        client_id=client_id,
        client_secret=secret,
        expiry=dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=5),
    )


def test_google_auth_refreshes_at_the_emulator(emulator, google_accounts, google_client):
    params = _login(emulator, google_client, "alice@example.com")
    body = _exchange(emulator, google_client, params["code"]).json()
    creds = _credentials(emulator, google_client, body)
    assert creds.expired
    creds.refresh(GoogleAuthRequest())
    assert creds.valid and creds.token != body["access_token"]
    assert (
        emulator.state.authenticate("google", f"Bearer {creds.token}").email == "alice@example.com"
    )


def test_revoked_refresh_token_raises_refresh_error(emulator, google_accounts, google_client):
    params = _login(emulator, google_client, "alice@example.com")
    body = _exchange(emulator, google_client, params["code"]).json()
    resp = requests.post(
        emulator.url + "/google/revoke", data={"token": body["refresh_token"]}, timeout=5
    )
    assert resp.status_code == 200
    again = requests.post(emulator.url + "/google/revoke", data={"token": "nope"}, timeout=5)
    assert again.status_code == 400 and again.json()["error"] == "invalid_token"
    creds = _credentials(emulator, google_client, body)
    with pytest.raises(RefreshError) as info:
        creds.refresh(GoogleAuthRequest())
    assert "invalid_grant" in str(info.value)
    # The access token issued with the grant is dead too.
    assert emulator.state.authenticate("google", f"Bearer {body['access_token']}") is None
