"""Microsoft sign-in against the emulator: OpenID metadata, pages, code flow, tokens, refresh."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from O365.utils.token import MemoryTokenBackend

from .conftest import (
    MS_CLIENT_ID,
    MS_CLIENT_SECRET,
    MS_REDIRECT_URI,
    MsBrowser,
    _ms_rewriting_session,
    ms_classes,
)


def _b64url_json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def _authorize_url(
    emulator, challenge: str, *, redirect_uri: str = MS_REDIRECT_URI, **extra
) -> str:
    params = {
        "client_id": MS_CLIENT_ID,
        "response_type": "code",
        "redirect_uri": redirect_uri,
        "scope": "openid profile offline_access https://graph.microsoft.com/Calendars.ReadWrite",
        "state": "st-123",
        "nonce": "n-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{emulator.url}/microsoft/organizations/oauth2/v2.0/authorize?" + urlencode(params)


def _token(emulator, **data) -> requests.Response:
    return requests.post(
        f"{emulator.url}/microsoft/organizations/oauth2/v2.0/token",
        data={"client_id": MS_CLIENT_ID, "client_secret": MS_CLIENT_SECRET, **data},
        timeout=10,
    )


def _code_from(redirect: requests.Response) -> dict:
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["Location"]
    assert location.startswith(MS_REDIRECT_URI)
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_openid_configuration_for_msal(emulator):
    cfg = requests.get(
        f"{emulator.url}/microsoft/common/v2.0/.well-known/openid-configuration", timeout=5
    ).json()
    # msal demands https endpoints: the token endpoint is Microsoft's (reached through the
    # host-rewriting session), the authorize page is the emulator's own (a browser opens it)
    assert cfg["token_endpoint"] == "https://login.microsoftonline.com/common/oauth2/v2.0/token"
    assert cfg["authorization_endpoint"] == f"{emulator.url}/microsoft/common/oauth2/v2.0/authorize"
    assert cfg["issuer"] == "https://login.microsoftonline.com/{tenantid}/v2.0"
    v1 = requests.get(
        f"{emulator.url}/microsoft/contoso.onmicrosoft.com/.well-known/openid-configuration",
        timeout=5,
    )
    assert v1.status_code == 200


def test_code_flow_with_o365_and_msal_picker_mfa_consent(emulator, ms_accounts, ms_client):
    protocol_cls, account_cls = ms_classes(emulator.url)
    account = account_cls(
        (MS_CLIENT_ID, MS_CLIENT_SECRET),
        protocol=protocol_cls(timezone="UTC"),
        token_backend=MemoryTokenBackend(),
    )
    scopes = account.protocol.get_scopes_for(["Calendars.ReadWrite", "User.Read"])
    auth_uri, flow = account.con.get_authorization_url(
        requested_scopes=scopes, redirect_uri=MS_REDIRECT_URI
    )
    query = parse_qs(urlsplit(auth_uri).query)
    assert auth_uri.startswith(f"{emulator.url}/microsoft/common/oauth2/v2.0/authorize?")
    assert query["code_challenge_method"] == ["S256"]  # msal always uses PKCE

    browser = MsBrowser()
    picker = browser.session.get(auth_uri)
    # the picker lists people, never room mailboxes, and offers another account
    assert "rita.rep@contoso.com" in picker.text and "mia.mfa@contoso.com" in picker.text
    assert "aurora@contoso.com" not in picker.text
    assert "Use another account" in picker.text
    ctx = browser.ctx(picker.text)
    action = auth_uri.split("?")[0]
    unknown = browser.session.post(
        action, data={"ctx": ctx, "step": "pick", "login": "nobody@x.com"}
    )
    assert "find an account with that username" in unknown.text
    mfa = browser.session.post(
        action, data={"ctx": ctx, "step": "pick", "login": "mia.mfa@contoso.com"}
    )
    assert "Enter code" in mfa.text
    wrong = browser.session.post(action, data={"ctx": ctx, "step": "mfa", "otc": "000000"})
    assert "expected verification code" in wrong.text
    consent = browser.session.post(action, data={"ctx": ctx, "step": "mfa", "otc": "123456"})
    assert "Permissions requested" in consent.text
    assert "Have full access to your calendars" in consent.text
    redirect = browser.session.post(
        action, data={"ctx": ctx, "step": "consent", "decision": "accept"}, allow_redirects=False
    )
    params = _code_from(redirect)
    assert params["state"] == flow["state"] and params["code"].startswith("M.")

    assert account.con.request_token(redirect.headers["Location"], flow=flow)
    assert account.con.username == "mia.mfa@contoso.com"
    me = account.con.get(account.protocol.service_url + "me").json()
    assert me["mail"] == "mia.mfa@contoso.com" and me["id"] == ms_accounts["mfa"].id
    # msal built its account from id_token + client_info
    msal_account = account.con.msal_client.get_accounts()[0]
    assert (
        msal_account["home_account_id"] == f"{ms_accounts['mfa'].id}.{ms_accounts['mfa'].tenant_id}"
    )


def test_token_response_shape_pkce_and_replay(emulator, ms_accounts, ms_client):
    verifier, challenge = _pkce()
    params = _code_from(
        MsBrowser().sign_in(_authorize_url(emulator, challenge), "rita.rep@contoso.com")
    )
    assert params["state"] == "st-123"
    bad = _token(
        emulator,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=MS_REDIRECT_URI,
        code_verifier="not-the-verifier-" + "x" * 40,
    )
    assert bad.status_code == 400
    assert bad.json()["error"] == "invalid_grant" and 501481 in bad.json()["error_codes"]

    verifier2, challenge2 = _pkce()
    params = _code_from(
        MsBrowser().sign_in(_authorize_url(emulator, challenge2), "rita.rep@contoso.com")
    )
    ok = _token(
        emulator,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=MS_REDIRECT_URI,
        code_verifier=verifier2,
        client_info="1",
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["refresh_token"] and body["access_token"]
    assert "https://graph.microsoft.com/Calendars.ReadWrite" in body["scope"].split()
    header, claims, _sig = body["id_token"].split(".")
    claims = _b64url_json(claims)
    rita = ms_accounts["rep"]
    assert claims["aud"] == MS_CLIENT_ID and claims["nonce"] == "n-456"
    assert claims["oid"] == rita.id and claims["tid"] == rita.tenant_id
    assert claims["preferred_username"] == rita.email and claims["name"] == "Rita Rep"
    assert claims["iss"] == f"https://login.microsoftonline.com/{rita.tenant_id}/v2.0"
    assert claims["sub"]
    assert _b64url_json(body["client_info"]) == {"uid": rita.id, "utid": rita.tenant_id}

    replay = _token(
        emulator,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=MS_REDIRECT_URI,
        code_verifier=verifier2,
    )
    assert replay.status_code == 400
    err = replay.json()
    assert err["error"] == "invalid_grant" and err["error_codes"] == [54005]
    assert err["error_description"].startswith("AADSTS54005:")
    # the replay revoked what the code had granted
    assert (
        _token(emulator, grant_type="refresh_token", refresh_token=body["refresh_token"]).json()[
            "error"
        ]
        == "invalid_grant"
    )


def test_refresh_rotation_and_revocation(emulator, ms_accounts, ms_client):
    verifier, challenge = _pkce()
    params = _code_from(
        MsBrowser().sign_in(_authorize_url(emulator, challenge), "rita.rep@contoso.com")
    )
    first = _token(
        emulator,
        grant_type="authorization_code",
        code=params["code"],
        redirect_uri=MS_REDIRECT_URI,
        code_verifier=verifier,
    ).json()
    second = _token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]  # rotated
    stale = _token(emulator, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_grant"

    headers = {"Authorization": "Bearer " + second["access_token"]}
    assert requests.get(f"{emulator.url}/microsoft/v1.0/me", headers=headers, timeout=5).ok
    requests.post(
        f"{emulator.url}/_emulator/accounts/microsoft/rita.rep@contoso.com/revoke", timeout=5
    )
    revoked = _token(emulator, grant_type="refresh_token", refresh_token=second["refresh_token"])
    assert revoked.status_code == 400
    assert revoked.json()["error"] == "invalid_grant" and revoked.json()["error_codes"] == [50173]
    after = requests.get(f"{emulator.url}/microsoft/v1.0/me", headers=headers, timeout=5)
    assert after.status_code == 401
    assert after.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_bad_client_secret(emulator, ms_accounts, ms_client):
    resp = requests.post(
        f"{emulator.url}/microsoft/common/oauth2/v2.0/token",
        data={
            "client_id": MS_CLIENT_ID,
            "client_secret": "wrong",
            "grant_type": "refresh_token",
            "refresh_token": "x",
        },
        timeout=5,
    )
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_redirect_uri_mismatch_shows_error_page(emulator, ms_accounts, ms_client):
    _v, challenge = _pkce()
    page = requests.get(
        _authorize_url(emulator, challenge, redirect_uri="http://127.0.0.1:9/evil"),
        allow_redirects=False,
        timeout=5,
    )
    assert page.status_code == 400 and "AADSTS50011" in page.text
    assert "Location" not in page.headers


def test_cancel_on_consent_returns_access_denied(emulator, ms_accounts, ms_client):
    _v, challenge = _pkce()
    params = _code_from(
        MsBrowser().sign_in(
            _authorize_url(emulator, challenge), "rita.rep@contoso.com", decision="cancel"
        )
    )
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert "code" not in params


def test_o365_refreshes_expired_token_through_msal(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    service = account.protocol.service_url
    assert account.con.get(service + "me").ok
    old = account.con.token_backend.get_access_token(username="rita.rep@contoso.com")
    old_rt = account.con.token_backend.get_refresh_token(username="rita.rep@contoso.com")["secret"]
    # the access token dies on the server and in the local cache
    emulator.state.access_tokens[old["secret"]].expires_at = 0
    for entry in account.con.token_backend.search("AccessToken"):
        account.con.token_backend.modify(
            "AccessToken", entry, {"expires_on": "1", "extended_expires_on": "1"}
        )
    me = account.con.get(service + "me")  # 401 -> msal refresh_token grant -> retry
    assert me.ok and me.json()["mail"] == "rita.rep@contoso.com"
    new = account.con.token_backend.get_access_token(username="rita.rep@contoso.com")
    assert new["secret"] != old["secret"]
    new_rt = account.con.token_backend.get_refresh_token(username="rita.rep@contoso.com")["secret"]
    assert new_rt != old_rt  # msal stored the rotated refresh token
    counts = emulator.state.request_summary()["by_endpoint"]
    assert counts.get("microsoft GET me", 0) == 2  # the 401 is not counted (no account)


def test_msal_refresh_with_revoked_grant_fails(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    requests.post(
        f"{emulator.url}/_emulator/accounts/microsoft/rita.rep@contoso.com/revoke", timeout=5
    )
    msal_app = account.con.msal_client
    result = msal_app.acquire_token_silent_with_error(
        account.protocol.get_scopes_for(["Calendars.ReadWrite"]),
        account=msal_app.get_accounts()[0],
        force_refresh=True,
    )
    assert result["error"] == "invalid_grant"
    assert "AADSTS50173" in result["error_description"]


def test_rewriting_session_reaches_token_endpoint(emulator, ms_client):
    session = _ms_rewriting_session(emulator.url)
    resp = session.post(
        "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        data={
            "client_id": MS_CLIENT_ID,
            "client_secret": MS_CLIENT_SECRET,
            "grant_type": "password",
        },
    )
    assert resp.status_code == 400 and resp.json()["error"] == "unsupported_grant_type"


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Access token is empty."),
        ("Bearer bogus", "JWT is not well formed"),
    ],
)
def test_graph_requires_a_valid_token(emulator, ms_accounts, header, message):
    headers = {"Authorization": header} if header else {}
    resp = requests.get(f"{emulator.url}/microsoft/v1.0/me/events", headers=headers, timeout=5)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert message in resp.json()["error"]["message"]
    assert "WWW-Authenticate" in resp.headers


def test_expired_token_is_rejected(emulator, ms_accounts):
    token = emulator.state.token_mint(
        provider="microsoft", email="rita.rep@contoso.com", lifetime=-1
    )
    resp = requests.get(
        f"{emulator.url}/microsoft/v1.0/me",
        headers={"Authorization": f"Bearer {token.token}"},
        timeout=5,
    )
    assert (
        resp.status_code == 401 and "Lifetime validation failed" in resp.json()["error"]["message"]
    )
