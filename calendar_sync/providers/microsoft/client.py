"""Builds the real O365 ``Account`` for one connection, pointed at Graph (or the emulator).

Tokens: msal refuses non-https authorities and O365 hard-codes login.microsoftonline.com, so
we take "way (b)": the token backend is seeded with the connection's tokens and refreshes them
through the provider's ``oauth.refresh_tokens`` (the one token-endpoint client,
``providers.oauth.request_tokens``), then hands O365 the fresh access token. O365 only asks the
backend when the token is expired locally AND Graph answered 401/403, so we also refresh ahead
of time when the token is expired locally, and once on a 401 for a token that looked valid.

Every Graph call goes through ``GraphClient.request``: retried (``base.call_with_retries``),
HTTP errors translated to the neutral ``ProviderError`` family, requests counted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import requests
from O365 import Account
from O365.connection import MSGraphProtocol
from O365.utils import BaseTokenBackend

from ..base import (
    AuthRevoked,
    EventNotFound,
    PreconditionFailed,
    ProviderError,
    RateLimited,
    StatusHook,
    Tokens,
    TokenSaver,
    call_with_retries,
    parse_retry_after,
)
from .endpoints import microsoft_endpoints

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 30
EXPIRY_SKEW = dt.timedelta(seconds=60)
# Graph's answers for a delta link whose state is gone (besides 410 Gone).
SYNC_STATE_CODES = {"syncstatenotfound", "syncstateinvalid", "resyncrequired"}
# Both preferences in one header; O365 appends the per-call ones (odata.maxpagesize).
PREFER = 'IdType="ImmutableId", outlook.timezone="UTC"'


class _CountingSession(requests.Session):
    """Counts the requests it sends and the seconds spent waiting for their answers (the body
    is read inside ``send`` unless streamed; parsing it is not included)."""

    def __init__(self, on_request: Callable[[], None]) -> None:
        super().__init__()
        self._on_request = on_request
        self.seconds = 0.0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self._on_request()
        started = time.perf_counter()
        try:
            return super().send(request, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


class _SeededTokenBackend(BaseTokenBackend):
    """An O365 token backend over the connection's own tokens (no msal cache, no file).

    It answers O365's questions from ``GraphClient.tokens`` and, when O365 decides a refresh is
    due, performs it (``should_refresh_token`` returning None = "refreshed, carry on")."""

    def __init__(self, client: GraphClient) -> None:
        super().__init__()
        self._client = client

    @property
    def has_data(self) -> bool:
        return bool(self._client.tokens.access_token or self._client.tokens.refresh_token)

    def load_token(self) -> bool:
        return True

    def save_token(self, force: bool = False) -> bool:
        return True

    def get_access_token(self, *, username: str | None = None) -> dict | None:
        token = self._client.tokens.access_token
        return {"secret": token} if token else None

    def token_is_expired(self, *, username: str | None = None) -> bool:
        return self._client.token_expired()

    def token_is_long_lived(self, *, username: str | None = None) -> bool:
        return bool(self._client.tokens.refresh_token)

    def should_refresh_token(self, con: Any = None, *, username: str | None = None) -> bool | None:
        self._client.refresh()
        return None


def graph_protocol(graph_base: str) -> MSGraphProtocol:
    """MSGraphProtocol whose service URL is ``{graph_base}/v1.0/``."""
    protocol_cls = type(
        "ConfiguredGraphProtocol", (MSGraphProtocol,), {"_protocol_url": graph_base + "/"}
    )
    return protocol_cls(api_version="v1.0", timezone="UTC")


class GraphClient:
    def __init__(
        self,
        *,
        tokens: Tokens,
        on_refresh: TokenSaver,
        client_id: str,
        client_secret: str,
        tenant: str = "",
        refresher: Callable[[], Tokens],
    ) -> None:
        self.endpoints = microsoft_endpoints()
        self.tokens = Tokens(tokens.access_token, tokens.refresh_token, tokens.expires_at)
        self.requests_made = 0
        self._on_refresh = on_refresh
        self._refresher = refresher
        self._client_id, self._client_secret = client_id, client_secret
        self._tenant = tenant or "common"
        self._refreshed_in_call = False
        self.protocol = graph_protocol(self.endpoints.graph_base)
        self.account = Account(
            (client_id, client_secret),
            protocol=self.protocol,
            token_backend=_SeededTokenBackend(self),
            tenant_id=self._tenant,
            request_retries=0,  # we retry (tenacity), honouring Retry-After
            requests_delay=0,
            timeout=HTTP_TIMEOUT,
            default_headers={"Prefer": PREFER},
        )
        self.con = self.account.con
        session = self._session = _CountingSession(self._count)
        if self.tokens.access_token:
            session.headers["Authorization"] = f"Bearer {self.tokens.access_token}"
        self.con.session = session
        self.service_url: str = self.protocol.service_url  # {graph_base}/v1.0/

    def _count(self) -> None:
        self.requests_made += 1

    @property
    def seconds_waiting(self) -> float:
        return self._session.seconds

    # -- tokens ------------------------------------------------------------------------------------
    def token_expired(self) -> bool:
        expires_at = self.tokens.expires_at
        if not self.tokens.access_token:
            return True
        return expires_at is not None and expires_at - EXPIRY_SKEW <= dt.datetime.now(dt.UTC)

    def refresh(self) -> None:
        if not self.tokens.refresh_token:
            raise AuthRevoked("Microsoft access token expired and no refresh token is stored")
        self._count()
        fresh = self._refresher()
        self.tokens = Tokens(
            fresh.access_token, fresh.refresh_token or self.tokens.refresh_token, fresh.expires_at
        )
        self._refreshed_in_call = True
        self.con.update_session_auth_header(access_token=self.tokens.access_token)
        self._on_refresh(self.tokens)

    # -- calls -------------------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return (
            path
            if path.startswith(("http://", "https://"))
            else self.service_url + path.lstrip("/")
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        gone: type[ProviderError] = EventNotFound,
    ) -> dict[str, Any]:
        """One Graph call through O365's connection (retried); the JSON body, {} when empty."""
        url = self.url(path)

        def send() -> requests.Response:
            kwargs: dict[str, Any] = {"headers": dict(headers or {})}
            if method == "get":
                kwargs["params"] = params
            elif method != "delete":
                kwargs["data"] = json
            return getattr(self.con, method)(url, **kwargs)

        def once() -> dict[str, Any]:
            self._refreshed_in_call = False
            if self.token_expired() and self.tokens.refresh_token:
                self.refresh()
            try:
                try:
                    resp = send()
                except requests.HTTPError as exc:
                    if (
                        _status(exc) != 401
                        or self._refreshed_in_call
                        or not self.tokens.refresh_token
                    ):
                        raise
                    self.refresh()  # 401 on a token that looked valid: refresh once, try again
                    resp = send()
            except requests.HTTPError as exc:
                if exc.response is None:  # O365's TokenExpiredError: expired, cannot refresh
                    raise AuthRevoked(f"Graph token expired: {exc}", status=401) from exc
                raise translate_response(exc.response, gone=gone) from exc
            except requests.RequestException as exc:
                raise ProviderError(f"Graph unreachable: {exc}", permanent=False) from exc
            except RuntimeError as exc:  # O365: "No auth token found" and failed refreshes
                raise AuthRevoked(f"Graph authentication failed: {exc}") from exc
            if not resp.content:
                return {}
            body = _json(resp.content)
            return body if isinstance(body, dict) else {"value": body}

        return call_with_retries(once)


def _json(content: bytes) -> Any:
    """A Graph answer's JSON: orjson (a page of 1,000 events is ~2 MB of JSON, read ~3x
    faster), and the standard library for what orjson refuses but it reads (a lone surrogate
    escape, UTF-16); {} when neither can. (orjson reads an integer beyond 64 bits as a float:
    no field Graph sends for an event holds one.)"""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(content)
    except ValueError:
        return {}


# -- error translation ------------------------------------------------------------------------------
def _status(exc: requests.HTTPError) -> int:
    return exc.response.status_code if exc.response is not None else 0


def _error_code(resp: requests.Response) -> str:
    try:
        return str((resp.json().get("error") or {}).get("code") or "")
    except (ValueError, AttributeError):
        return ""


def translate_response(
    resp: requests.Response, *, gone: type[ProviderError] = EventNotFound
) -> ProviderError:
    code = _error_code(resp)
    message = f"Graph {resp.status_code} {code}".strip()
    return ProviderError.from_status(
        resp.status_code,
        message,
        retry_after=resp.headers.get("Retry-After"),
        gone=gone,
        hook=_hook(code, gone),
    )


def _hook(code: str, gone: type[ProviderError]) -> StatusHook:
    """Graph's say before the common mapping: a dead delta token whatever its status, a
    changeKey conflict, and a 503 with Retry-After (throttling) as a rate limit."""

    def hook(status: int, message: str, retry_after: str | None) -> ProviderError | None:
        if gone is not EventNotFound and code.lower() in SYNC_STATE_CODES:
            return gone(message, status=status)
        if status == 409 and code == "ErrorIrresolvableConflict":  # changeKey mismatch
            return PreconditionFailed(message, status=409)
        if status == 503 and retry_after:
            return RateLimited(message, retry_after=parse_retry_after(retry_after), status=503)
        return None

    return hook
