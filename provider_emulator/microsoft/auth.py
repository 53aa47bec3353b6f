"""Microsoft identity platform v2.0: OpenID metadata, the sign-in pages and the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from ..http import json_response
from ..state import EmulatorState, OAuthError
from .store import GraphStore

LOGIN_HOST = "https://login.microsoftonline.com"
MFA_CODE = "123456"  # the emulated authenticator app always shows this code
GRAPH_PREFIX = "https://graph.microsoft.com/"
OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
SCOPE_LABELS = {
    "openid": "Sign you in",
    "profile": "View your basic profile",
    "email": "View your email address",
    "offline_access": "Maintain access to data you have given it access to",
    "User.Read": "Sign you in and read your profile",
    "Calendars.Read": "Read your calendars",
    "Calendars.ReadWrite": "Have full access to your calendars",
    "Calendars.Read.Shared": "Read calendars you can access",
    "Calendars.ReadWrite.Shared": "Read and write calendars you can access",
    "Place.Read.All": "Read all company places",
}
AADSTS = {
    "already": (
        54005,
        "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    ),
    "expired": (
        70008,
        "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
    ),
    "malformed": (9002313, "Invalid request. Request is malformed or invalid."),
    "verifier": (
        501481,
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
    ),
    "revoked": (
        50173,
        "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
    ),
    "redirect": (
        500117,
        "The reply uri specified in the request does not match the reply uri used to acquire the authorization code.",
    ),
    "client": (
        7000215,
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
    ),
    "unknown_client": (700016, "Application with identifier was not found in the directory."),
    "grant_type": (70003, "The app requested an unsupported grant type."),
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def issuer_for(tenant: str, tid: str | None = None) -> str:
    if tenant in ("common", "organizations", "consumers"):
        return f"{LOGIN_HOST}/{tid or '{tenantid}'}/v2.0"
    return f"{LOGIN_HOST}/{tid or tenant}/v2.0"


def normalize_scopes(raw: str) -> list[str]:
    out = []
    for scope in raw.split():
        if scope in OIDC_SCOPES or "://" in scope:
            out.append(scope)
        else:
            out.append(GRAPH_PREFIX + scope)
    return list(dict.fromkeys(out))


def aad_error(key: str, error: str, status: int = 400) -> Response:
    code, text = AADSTS[key]
    trace = str(uuid.uuid4())
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {uuid.uuid4()} Timestamp: {time.strftime('%Y-%m-%d %H:%M:%SZ', time.gmtime())}",
            "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()),
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
            "error_uri": f"{LOGIN_HOST}/error?code={code}",
        },
        status,
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class AuthEndpoints:
    def __init__(self, state: EmulatorState, store: GraphStore) -> None:
        self.state, self.store = state, store

    # -- metadata ------------------------------------------------------------------------------
    def public_base(self, request: Request) -> str:
        """The emulator's own /microsoft base as the browser reaches it."""
        return (self.state.base_url or request.host_url.rstrip("/")) + "/microsoft"

    def openid_configuration(self, request: Request, tenant: str) -> Response:
        # msal only accepts https endpoints, so the token endpoint is advertised at Microsoft's
        # host (clients reach the emulator through a host-rewriting HTTP session); the
        # authorization endpoint is opened by a browser, so it names the emulator itself.
        base = f"{LOGIN_HOST}/{tenant}"
        return json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer_for(tenant),
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{self.public_base(request)}/{tenant}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{self.public_base(request)}/{tenant}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "cloud_instance_name",
                    "cloud_instance_host_name",
                    "cloud_graph_host_name",
                    "msgraph_host",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],
                "kerberos_endpoint": f"{base}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }
        )

    def keys(self, request: Request, tenant: str) -> Response:
        return json_response({"keys": []})

    def instance_discovery(self, request: Request) -> Response:
        endpoint = request.args.get("authorization_endpoint", "")
        tenant = endpoint.split("/")[3] if endpoint.count("/") >= 3 else "common"
        return json_response(
            {
                "tenant_discovery_endpoint": f"{LOGIN_HOST}/{tenant}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [
                    {
                        "preferred_network": "login.microsoftonline.com",
                        "preferred_cache": "login.windows.net",
                        "aliases": [
                            "login.microsoftonline.com",
                            "login.windows.net",
                            "login.microsoft.com",
                            "sts.windows.net",
                        ],
                    }
                ],
            }
        )

    # -- the sign-in pages ------------------------------------------------------------------------
    def authorize(self, request: Request, tenant: str) -> Response:
        if request.method == "POST" and request.form.get("ctx"):
            return self._authorize_step(request, tenant)
        params = request.values
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        try:
            self.state.client_check("microsoft", client_id, redirect_uri)
        except OAuthError as exc:
            if exc.error == "invalid_client":
                return _error_page(
                    "AADSTS700016",
                    f"Application with identifier '{html.escape(client_id)}' was not found in the directory.",
                    400,
                )
            return _error_page(
                "AADSTS50011",
                f"The redirect URI '{html.escape(redirect_uri)}' specified in the request does not match the "
                f"redirect URIs configured for the application '{html.escape(client_id)}'.",
                400,
            )
        flow = {
            "tenant": tenant,
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": params.get("state", ""),
            "scope": params.get("scope", ""),
            "nonce": params.get("nonce", ""),
            "response_mode": params.get("response_mode", "query"),
            "code_challenge": params.get("code_challenge", ""),
            "code_challenge_method": params.get("code_challenge_method", ""),
            "login_hint": params.get("login_hint", ""),
            "account": "",
            "mfa_done": False,
        }
        if params.get("response_type", "code") != "code":
            return self._finish(
                flow,
                {
                    "error": "unsupported_response_type",
                    "error_description": "AADSTS700054: response_type 'id_token' is not enabled for the application.",
                },
            )
        if not flow["scope"]:
            return self._finish(
                flow,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS900144: The request body must contain the following parameter: 'scope'.",
                },
            )
        if flow["code_challenge"] and flow["code_challenge_method"] not in ("S256", "plain", ""):
            return self._finish(
                flow,
                {
                    "error": "invalid_request",
                    "error_description": "AADSTS501491: Invalid code_challenge_method.",
                },
            )
        ctx = secrets.token_urlsafe(24)
        with self.state.lock:
            self.store.auth_flows[ctx] = flow
        return self._picker(ctx, flow)

    def _authorize_step(self, request: Request, tenant: str) -> Response:
        ctx = request.form["ctx"]
        flow = self.store.auth_flows.get(ctx)
        if flow is None:
            return _error_page("AADSTS90014", "Your sign-in session has expired. Start again.", 400)
        step = request.form.get("step", "")
        if step == "pick":
            email = (request.form.get("account") or request.form.get("login") or "").strip()
            account = self.state.account_find("microsoft", email)
            if account is None or account.is_room:
                return self._picker(
                    ctx,
                    flow,
                    error="We couldn't find an account with that username. Try another, or get a new Microsoft account.",
                )
            flow["account"] = account.email
            if account.two_step:
                return self._mfa(ctx, account.email)
            return self._consent(ctx, flow)
        if step == "mfa":
            if not flow["account"]:
                return self._picker(ctx, flow)
            if request.form.get("otc", "").strip() != MFA_CODE:
                return self._mfa(
                    ctx,
                    flow["account"],
                    error="You didn't enter the expected verification code. Please try again.",
                )
            flow["mfa_done"] = True
            return self._consent(ctx, flow)
        if step == "consent":
            account = self.state.account_find("microsoft", flow["account"])
            if account is None or (account.two_step and not flow["mfa_done"]):
                return self._picker(ctx, flow)
            with self.state.lock:
                self.store.auth_flows.pop(ctx, None)
            if request.form.get("decision") != "accept":
                return self._finish(
                    flow,
                    {
                        "error": "access_denied",
                        "error_subcode": "cancel",
                        "error_description": "AADSTS65004: User declined to consent to access the app.",
                    },
                )
            scopes = normalize_scopes(flow["scope"])
            code = self.state.code_issue(
                provider="microsoft",
                client_id=flow["client_id"],
                account=account,
                scopes=scopes,
                redirect_uri=flow["redirect_uri"],
                code_challenge=flow["code_challenge"],
                code_challenge_method=flow["code_challenge_method"],
                offline="offline_access" in scopes,
                nonce=flow["nonce"],
            )
            if flow["code_challenge"] and flow["code_challenge_method"] == "plain":
                # the core only verifies S256: store the plain challenge in S256 form
                auth = self.state.codes[code]
                auth.code_challenge = _b64url(
                    hashlib.sha256(flow["code_challenge"].encode()).digest()
                )
            return self._finish(flow, {"code": code, "session_state": str(uuid.uuid4())})
        return self._picker(ctx, flow)

    def _finish(self, flow: dict, params: dict) -> Response:
        if flow.get("state"):
            params["state"] = flow["state"]
        uri = flow["redirect_uri"]
        if flow.get("response_mode") == "form_post":
            inputs = "".join(
                f"<input type=hidden name='{html.escape(k)}' value='{html.escape(str(v))}'>"
                for k, v in params.items()
            )
            return _page(
                "Working...",
                f"<form method=post name=hiddenform action='{html.escape(uri)}'>{inputs}"
                "<noscript><button>Continue</button></noscript></form>"
                "<script>document.forms[0].submit()</script>",
            )
        sep = "#" if flow.get("response_mode") == "fragment" else ("&" if "?" in uri else "?")
        return Response("", status=302, headers={"Location": uri + sep + urlencode(params)})

    def _picker(self, ctx: str, flow: dict, error: str = "") -> Response:
        accounts = self.state.account_list("microsoft", rooms=False)
        buttons = "".join(
            f"<form method=post class=acct><input type=hidden name=ctx value='{ctx}'>"
            "<input type=hidden name=step value=pick>"
            f"<button name=account value='{html.escape(a.email)}' data-account='{html.escape(a.email)}'>"
            f"<b>{html.escape(a.name)}</b><br><small>{html.escape(a.email)}</small></button></form>"
            for a in accounts
        )
        err = f"<p class=err role=alert>{html.escape(error)}</p>" if error else ""
        body = (
            "<h1>Pick an account</h1>" + err + buttons + "<h2>Use another account</h2>"
            f"<form method=post class=other><input type=hidden name=ctx value='{ctx}'>"
            "<input type=hidden name=step value=pick>"
            f"<input type=email name=login placeholder='Email, phone, or Skype' value='{html.escape(flow.get('login_hint', ''))}'>"
            "<button id=idSIButton9>Next</button></form>"
        )
        return _page("Sign in to your account", body)

    def _mfa(self, ctx: str, email: str, error: str = "") -> Response:
        err = f"<p class=err role=alert>{html.escape(error)}</p>" if error else ""
        body = (
            f"<h1>Enter code</h1><p>{html.escape(email)}</p>{err}"
            "<p>Enter the code displayed in the authenticator app on your mobile device "
            f"(emulator: the code is <code>{MFA_CODE}</code>).</p>"
            f"<form method=post><input type=hidden name=ctx value='{ctx}'>"
            "<input type=hidden name=step value=mfa>"
            "<input name=otc inputmode=numeric autocomplete=one-time-code placeholder=Code>"
            "<button id=idSubmit_SAOTCC_Continue>Verify</button></form>"
        )
        return _page("Enter code", body)

    def _consent(self, ctx: str, flow: dict) -> Response:
        client = self.state.clients.get(flow["client_id"])
        items = "".join(
            f"<li data-scope='{html.escape(s)}'>{html.escape(SCOPE_LABELS.get(s.removeprefix(GRAPH_PREFIX), s))}</li>"
            for s in normalize_scopes(flow["scope"])
        )
        body = (
            f"<p>{html.escape(flow['account'])}</p><h1>Permissions requested</h1>"
            f"<p>{html.escape(client.client_id if client else '')} (unverified)</p>"
            f"<p>This app would like to:</p><ul class=scopes>{items}</ul>"
            f"<form method=post><input type=hidden name=ctx value='{ctx}'>"
            "<input type=hidden name=step value=consent>"
            "<button name=decision value=cancel id=idBtn_Back>Cancel</button> "
            "<button name=decision value=accept id=idSIButton9>Accept</button></form>"
        )
        return _page("Permissions requested", body)

    def logout(self, request: Request, tenant: str) -> Response:
        target = request.args.get("post_logout_redirect_uri")
        if target:
            return Response("", status=302, headers={"Location": target})
        return _page("Signed out", "<h1>You signed out of your account</h1>")

    # -- token endpoint -------------------------------------------------------------------------------
    def token(self, request: Request, tenant: str) -> Response:
        form = request.form
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        if request.authorization and request.authorization.type == "basic":
            client_id = request.authorization.username or client_id
            client_secret = request.authorization.password or client_secret
        grant_type = form.get("grant_type", "")
        client = self.state.clients.get(client_id)
        if client is None or client.provider != "microsoft":
            return aad_error("unknown_client", "unauthorized_client", 400)
        if client.client_secret != client_secret:
            return aad_error("client", "invalid_client", 401)
        account_email, nonce, scopes = "", "", []
        try:
            if grant_type == "authorization_code":
                if not form.get("code"):
                    return aad_error("malformed", "invalid_request")
                auth_code = self.state.codes.get(form["code"])
                if auth_code is not None and auth_code.used:
                    key = "already"
                elif auth_code is not None and auth_code.redirect_uri != form.get(
                    "redirect_uri", ""
                ):
                    key = "redirect"
                else:
                    key = ""
                try:
                    auth, body = self.state.code_exchange(
                        provider="microsoft",
                        client_id=client_id,
                        client_secret=client_secret,
                        code=form["code"],
                        redirect_uri=form.get("redirect_uri", ""),
                        code_verifier=form.get("code_verifier", ""),
                    )
                except OAuthError as exc:
                    if key:
                        raise OAuthError("invalid_grant", key) from exc
                    desc = exc.description.lower()
                    raise OAuthError(
                        "invalid_grant",
                        "verifier"
                        if "verifier" in desc
                        else "expired"
                        if "expired" in desc
                        else "malformed",
                    ) from exc
                account_email, nonce, scopes = auth.account_email, auth.nonce, auth.scopes
            elif grant_type == "refresh_token":
                try:
                    grant, body = self.state.refresh(
                        provider="microsoft",
                        client_id=client_id,
                        client_secret=client_secret,
                        refresh_token=form.get("refresh_token", ""),
                    )
                except OAuthError as exc:
                    raise OAuthError("invalid_grant", "revoked") from exc
                account_email, scopes = grant.account_email, grant.scopes
            else:
                return aad_error("grant_type", "unsupported_grant_type")
        except OAuthError as exc:
            return aad_error(exc.description, exc.error)
        account = self.state.account_find("microsoft", account_email)
        assert account is not None
        body["scope"] = " ".join(
            s for s in scopes if s not in ("openid", "profile", "email", "offline_access")
        ) or " ".join(scopes)
        body["ext_expires_in"] = body["expires_in"]
        if "openid" in scopes or form.get("scope", "").find("openid") >= 0:
            body["id_token"] = self._id_token(
                account, client_id, client_secret, tenant, nonce, scopes
            )
        if form.get("client_info") == "1":
            body["client_info"] = _b64url(
                json.dumps(
                    {"uid": account.id, "utid": account.tenant_id}, separators=(",", ":")
                ).encode()
            )
        return json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})

    def _id_token(
        self, account, client_id: str, secret: str, tenant: str, nonce: str, scopes: list[str]
    ) -> str:  # noqa: ANN001
        now = int(time.time())
        claims = {
            "aud": client_id,
            "iss": issuer_for(tenant, account.tenant_id),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "name": account.name,
            "oid": account.id,
            "preferred_username": account.email,
            "rh": "0.AXoA" + secrets.token_urlsafe(8),
            "sub": _b64url(hashlib.sha256(f"{account.id}:{client_id}".encode()).digest()),
            "tid": account.tenant_id,
            "uti": secrets.token_urlsafe(16),
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        if "email" in scopes:
            claims["email"] = account.email
        header = {"typ": "JWT", "alg": "HS256", "kid": "emulator"}
        signing_input = (
            _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        )
        signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64url(signature)


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
        "<style>body{font:15px 'Segoe UI',system-ui,sans-serif;background:#f2f2f2}"
        "main{background:#fff;max-width:440px;margin:3rem auto;padding:2.5rem;box-shadow:0 2px 6px rgba(0,0,0,.2)}"
        "form.acct button{display:block;width:100%;text-align:left;background:none;border:0;"
        "border-bottom:1px solid #ddd;padding:.6rem;cursor:pointer}.err{color:#e81123}"
        "button#idSIButton9,button#idSubmit_SAOTCC_Continue{background:#0067b8;color:#fff;border:0;padding:.4rem 1.5rem}"
        "</style></head><body><main><p><b>Microsoft</b> <small>(emulated)</small></p>"
        + body
        + "</main></body></html>"
    )
    return Response(doc, status=status, content_type="text/html; charset=utf-8")


def _error_page(code: str, message: str, status: int) -> Response:
    return _page(
        "Sign in",
        f"<h1>Sorry, but we're having trouble signing you in.</h1><p class=err>{code}: {message}</p>",
        status,
    )
