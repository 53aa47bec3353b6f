"""Google OAuth 2.0: authorization pages, token endpoint, userinfo, revoke, OIDC discovery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import re
import secrets
import time
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from ..http import json_response
from ..state import Account, EmulatorState, OAuthError, _pkce_s256

if TYPE_CHECKING:
    from .store import GoogleStore

FLOW_LIFETIME = 1800
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SCOPE_LABELS = {
    "openid": "Associate you with your personal info on Google",
    "email": "See your primary Google Account email address",
    "profile": "See your personal info, including any personal info you've made publicly available",
    "https://www.googleapis.com/auth/userinfo.email": "See your primary Google Account email address",
    "https://www.googleapis.com/auth/userinfo.profile": "See your personal info",
    "https://www.googleapis.com/auth/calendar": "See, edit, share, and permanently delete all the calendars you can access using Google Calendar",
    "https://www.googleapis.com/auth/calendar.events": "View and edit events on all your calendars",
    "https://www.googleapis.com/auth/calendar.readonly": "See and download any calendar you can access using your Google Calendar",
    "https://www.googleapis.com/auth/calendar.events.readonly": "View events on all your calendars",
    "https://www.googleapis.com/auth/calendar.freebusy": "View your availability in your calendars",
    "https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly": "View calendar resources on your domain",
    "https://www.googleapis.com/auth/admin.directory.resource.calendar": "See, add, edit, and delete calendar resources on your domain",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_params(uri: str, params: dict[str, str]) -> str:
    params = {k: v for k, v in params.items() if v is not None and v != ""}
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title><style>body{{font:15px Roboto,system-ui,sans-serif;"
        "background:#f1f3f4;margin:0}main{max-width:28rem;margin:3rem auto;background:#fff;"
        "border:1px solid #dadce0;border-radius:8px;padding:2rem}h1{font-weight:400;font-size:1.5rem}"
        "button{font:inherit;padding:.5rem 1rem;margin:.2rem 0;cursor:pointer}"
        ".account{display:block;width:100%;text-align:left;background:#fff;border:0;"
        "border-bottom:1px solid #dadce0}.error{color:#d93025}li{margin:.3rem 0}"
        ".brand{color:#5f6368}</style></head><body><main><p class=brand>Google (emulated)</p>"
        + body
        + "</main></body></html>"
    )
    return Response(doc, status=status, content_type="text/html; charset=utf-8")


def error_page(error: str, description: str, status: int = 400) -> Response:
    return _page(
        "Error",
        f"<h1>Access blocked: this app's request is invalid</h1><p class=error id=error>"
        f"Error {status}: {html.escape(error)}</p><p>{html.escape(description)}</p>",
        status,
    )


def id_token(
    state: EmulatorState, account: Account, client_id: str, secret: str, nonce: str, access: str
) -> str:
    """An OpenID Connect ID token (HS256 with the client secret: no Google keys here)."""
    now = int(time.time())
    claims = {
        "iss": "https://accounts.google.com",
        "azp": client_id,
        "aud": client_id,
        "sub": account.id,
        "email": account.email,
        "email_verified": True,
        "at_hash": _b64url(hashlib.sha256(access.encode()).digest()[:16]),
        "name": account.name,
        "iat": now,
        "exp": now + 3600,
    }
    if nonce:
        claims["nonce"] = nonce
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


class OAuthViews:
    def __init__(self, state: EmulatorState, store: GoogleStore) -> None:
        self.state, self.store = state, store

    # -- authorization -------------------------------------------------------------------------
    def authorize(self, request: Request) -> Response:
        args = request.args
        client_id = args.get("client_id", "")
        redirect_uri = args.get("redirect_uri", "")
        if not client_id:
            return error_page("invalid_request", "Missing required parameter: client_id")
        if not redirect_uri:
            return error_page("invalid_request", "Missing required parameter: redirect_uri")
        try:
            self.state.client_check("google", client_id, redirect_uri)
        except OAuthError as exc:
            if exc.error == "invalid_client":
                return error_page("invalid_client", "The OAuth client was not found.", 401)
            return error_page(
                "redirect_uri_mismatch",
                f"You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 "
                f"policy. redirect_uri={redirect_uri}",
            )
        oauth_state = args.get("state")
        if args.get("response_type") != "code":
            return redirect(
                _with_params(
                    redirect_uri, {"error": "unsupported_response_type", "state": oauth_state}
                ),
                302,
            )
        scopes = args.get("scope", "").split()
        if not scopes:
            return error_page("invalid_request", "Missing required parameter: scope")
        challenge = args.get("code_challenge", "")
        method = args.get("code_challenge_method", "") or ("plain" if challenge else "")
        if method and method not in ("S256", "plain"):
            return error_page("invalid_request", "Invalid code_challenge_method.")
        if challenge and not re.fullmatch(r"[A-Za-z0-9\-._~]{43,128}", challenge):
            return error_page("invalid_request", "Invalid code_challenge.")
        if method == "plain":  # store the S256 form so the core check applies to both
            challenge = _pkce_s256(challenge)
        if "none" in args.get("prompt", "").split():
            return redirect(
                _with_params(redirect_uri, {"error": "interaction_required", "state": oauth_state}),
                302,
            )
        now = time.time()
        with self.state.lock:
            for key, flow in list(self.store.flows.items()):
                if flow["created"] < now - FLOW_LIFETIME:
                    del self.store.flows[key]
            flow_id = secrets.token_urlsafe(32)
            self.store.flows[flow_id] = {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scopes": scopes,
                "state": oauth_state,
                "offline": args.get("access_type") == "offline",
                "challenge": challenge,
                "method": "S256" if challenge else "",
                "nonce": args.get("nonce", ""),
                "login_hint": args.get("login_hint", ""),
                "account": None,
                "stage": "choose",
                "code": "",
                "created": now,
            }
        return self._chooser(request, flow_id)

    def _action(self, request: Request) -> str:
        return html.escape(request.script_root + "/o/oauth2/v2/auth/flow")

    def _hidden(self, flow_id: str, action: str) -> str:
        return (
            f"<input type=hidden name=flow value='{html.escape(flow_id)}'>"
            f"<input type=hidden name=action value='{action}'>"
        )

    def _chooser(self, request: Request, flow_id: str, error: str = "") -> Response:
        flow = self.store.flows[flow_id]
        accounts = sorted(
            self.state.account_list("google", rooms=False),
            key=lambda a: (a.email != flow["login_hint"].lower(), a.email),
        )
        buttons = "".join(
            f"<button class=account name=email value='{html.escape(a.email)}' "
            f"data-email='{html.escape(a.email)}'><b>{html.escape(a.name)}</b><br>"
            f"{html.escape(a.email)}</button>"
            for a in accounts
        )
        body = (
            "<h1>Choose an account</h1>"
            f"<p>to continue to <b>{html.escape(flow['client_id'])}</b></p>"
            + (f"<p class=error id=error>{html.escape(error)}</p>" if error else "")
            + f"<form method=post action='{self._action(request)}' id=choose>"
            + self._hidden(flow_id, "choose")
            + buttons
            + "</form><h2>Use another account</h2>"
            f"<form method=post action='{self._action(request)}' id=other>"
            + self._hidden(flow_id, "other")
            + "<label>Email or phone <input type=email name=email id=identifierId required "
            "autocomplete=username></label> <button id=identifierNext>Next</button></form>"
        )
        return _page("Sign in - Google Accounts", body)

    def _two_step(self, request: Request, flow_id: str, error: str = "") -> Response:
        flow = self.store.flows[flow_id]
        body = (
            "<h1>2-Step Verification</h1>"
            f"<p>{html.escape(flow['account'])}</p>"
            f"<p id=hint>Enter the code <b id=code>{flow['code']}</b> sent to your phone "
            "(shown here because this is an emulator).</p>"
            + (f"<p class=error id=error>{html.escape(error)}</p>" if error else "")
            + f"<form method=post action='{self._action(request)}' id=verify>"
            + self._hidden(flow_id, "verify")
            + "<label>Enter code <input name=code id=totpPin inputmode=numeric "
            "autocomplete=one-time-code required></label> <button id=totpNext>Next</button></form>"
        )
        return _page("2-Step Verification", body)

    def _consent(self, request: Request, flow_id: str) -> Response:
        flow = self.store.flows[flow_id]
        items = "".join(
            f"<li data-scope='{html.escape(s)}'>{html.escape(SCOPE_LABELS.get(s, s))}</li>"
            for s in flow["scopes"]
        )
        body = (
            f"<h1>{html.escape(flow['client_id'])} wants to access your Google Account</h1>"
            f"<p id=account>{html.escape(flow['account'])}</p><p>This will allow the app to:</p>"
            f"<ul id=scopes>{items}</ul>"
            f"<form method=post action='{self._action(request)}' id=consent>"
            f"<input type=hidden name=flow value='{html.escape(flow_id)}'>"
            "<button name=action value=deny id=deny>Cancel</button> "
            "<button name=action value=allow id=allow>Allow</button></form>"
        )
        return _page("Sign in - Google Accounts", body)

    def flow_step(self, request: Request) -> Response:
        flow_id = request.form.get("flow", "")
        action = request.form.get("action", "")
        with self.state.lock:
            flow = self.store.flows.get(flow_id)
            if flow is None or flow["created"] < time.time() - FLOW_LIFETIME:
                return error_page(
                    "invalid_request", "This sign-in request has expired. Start again."
                )
            if action == "deny":
                del self.store.flows[flow_id]
                return redirect(
                    _with_params(
                        flow["redirect_uri"], {"error": "access_denied", "state": flow["state"]}
                    ),
                    302,
                )
            if action in ("choose", "other"):
                addr = request.form.get("email", "").strip().lower()
                if action == "choose":
                    account = self.state.account_find("google", addr)
                    if account is None or account.is_room:
                        return self._chooser(request, flow_id, "Couldn't find your Google Account")
                else:
                    if not EMAIL_RE.match(addr):
                        return self._chooser(request, flow_id, "Enter a valid email")
                    account = self.state.account_find("google", addr)
                    if account is None:
                        account = self.state.account_create(provider="google", email=addr)
                    if account.is_room:
                        return self._chooser(request, flow_id, "Couldn't find your Google Account")
                flow["account"] = account.email
                if account.two_step:
                    flow["stage"] = "two_step"
                    flow["code"] = f"{secrets.randbelow(900000) + 100000}"
                    return self._two_step(request, flow_id)
                flow["stage"] = "consent"
                return self._consent(request, flow_id)
            if action == "verify" and flow["stage"] == "two_step":
                if not hmac.compare_digest(request.form.get("code", "").strip(), flow["code"]):
                    return self._two_step(request, flow_id, "Wrong code. Try again.")
                flow["stage"] = "consent"
                return self._consent(request, flow_id)
            if action == "allow" and flow["stage"] == "consent":
                account = self.state.account_find("google", flow["account"])
                if account is None:
                    return error_page("invalid_request", "The account no longer exists.")
                code = self.state.code_issue(
                    provider="google",
                    client_id=flow["client_id"],
                    account=account,
                    scopes=flow["scopes"],
                    redirect_uri=flow["redirect_uri"],
                    code_challenge=flow["challenge"],
                    code_challenge_method=flow["method"],
                    offline=flow["offline"],
                    nonce=flow["nonce"],
                )
                del self.store.flows[flow_id]
                return redirect(
                    _with_params(
                        flow["redirect_uri"],
                        {
                            "state": flow["state"],
                            "code": code,
                            "scope": " ".join(flow["scopes"]),
                            "authuser": "0",
                            "prompt": "consent",
                        },
                    ),
                    302,
                )
            return error_page("invalid_request", "Unexpected step in the sign-in flow.")

    # -- token endpoint -------------------------------------------------------------------------
    def token(self, request: Request) -> Response:
        form = request.form
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        auth = request.authorization
        if auth is not None and auth.type == "basic" and auth.username:
            client_id, client_secret = auth.username, auth.password or ""
        headers = {
            "Cache-Control": "no-cache, no-store, max-age=0, must-revalidate",
            "Pragma": "no-cache",
        }
        self.state.log_request("google", None, "POST", "oauth2.token")
        try:
            if not client_id:
                raise OAuthError("invalid_request", "Could not determine client ID from request.")
            grant_type = form.get("grant_type", "")
            if grant_type == "authorization_code":
                if not form.get("code"):
                    raise OAuthError("invalid_request", "Missing required parameter: code")
                auth_code, body = self.state.code_exchange(
                    provider="google",
                    client_id=client_id,
                    client_secret=client_secret,
                    code=form["code"],
                    redirect_uri=form.get("redirect_uri", ""),
                    code_verifier=form.get("code_verifier", ""),
                )
                account = self.state.account_find("google", auth_code.account_email)
                if account and "openid" in auth_code.scopes:
                    body["id_token"] = id_token(
                        self.state,
                        account,
                        client_id,
                        client_secret,
                        auth_code.nonce,
                        body["access_token"],
                    )
            elif grant_type == "refresh_token":
                if not form.get("refresh_token"):
                    raise OAuthError("invalid_request", "Missing required parameter: refresh_token")
                grant, body = self.state.refresh(
                    provider="google",
                    client_id=client_id,
                    client_secret=client_secret,
                    refresh_token=form["refresh_token"],
                )
                account = self.state.account_find("google", grant.account_email)
                if account and "openid" in grant.scopes:
                    body["id_token"] = id_token(
                        self.state, account, client_id, client_secret, "", body["access_token"]
                    )
            else:
                raise OAuthError("unsupported_grant_type", f"Invalid grant_type: {grant_type}")
        except OAuthError as exc:
            return json_response(
                {"error": exc.error, "error_description": exc.description}, exc.status, headers
            )
        return json_response(body, 200, headers)

    # -- userinfo, revoke, discovery -----------------------------------------------------------------
    def _bearer(self, request: Request) -> Account | None:
        header = request.headers.get("Authorization")
        if not header and request.values.get("access_token"):
            header = "Bearer " + request.values["access_token"]
        return self.state.authenticate("google", header)

    def userinfo(self, request: Request, version: str) -> Response:
        account = self._bearer(request)
        www = {
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'
        }
        if account is None:
            if version == "v3":
                return json_response(
                    {"error": "invalid_request", "error_description": "Invalid Credentials"},
                    401,
                    www,
                )
            from .app import unauthorized

            return unauthorized()
        self.state.log_request(
            "google", account.email, request.method, f"oauth2.userinfo.{version}"
        )
        given, _, family = account.name.partition(" ")
        picture = "https://lh3.googleusercontent.com/a/default-user=s96-c"
        domain = account.email.split("@", 1)[1]
        if version == "v2":
            body = {
                "id": account.id,
                "email": account.email,
                "verified_email": True,
                "name": account.name,
                "given_name": given,
                "family_name": family,
                "picture": picture,
            }
        else:
            body = {
                "sub": account.id,
                "name": account.name,
                "given_name": given,
                "family_name": family,
                "picture": picture,
                "email": account.email,
                "email_verified": True,
            }
        if domain not in ("gmail.com", "googlemail.com"):
            body["hd"] = domain
        return json_response(body)

    def revoke(self, request: Request) -> Response:
        token = request.values.get("token", "")
        self.state.log_request("google", None, "POST", "oauth2.revoke")
        if not token or not self.state.revoke("google", token):
            return json_response(
                {"error": "invalid_token", "error_description": "Token expired or revoked"}, 400
            )
        return json_response({})

    def openid_configuration(self, request: Request) -> Response:
        base = (self.state.base_url or request.host_url.rstrip("/")) + request.script_root
        return json_response(
            {
                "issuer": "https://accounts.google.com",
                "authorization_endpoint": f"{base}/o/oauth2/v2/auth",
                "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/oauth2/v3/userinfo",
                "revocation_endpoint": f"{base}/revoke",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "client_secret_basic",
                ],
                "code_challenge_methods_supported": ["plain", "S256"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
            }
        )
