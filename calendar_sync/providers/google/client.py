"""Builds the real google-api-python-client services for one connection.

Every API call goes through ``GoogleClient.execute``: it retries (tenacity, see
``base.call_with_retries``), translates ``HttpError`` / ``RefreshError`` into the neutral
``ProviderError`` family and hands a refreshed access token to the ``on_refresh`` saver.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from typing import Any

import httplib2
import orjson
import requests
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.model import JsonModel

from ..base import (
    AuthRevoked,
    EventNotFound,
    ProviderError,
    RateLimited,
    StatusHook,
    Tokens,
    TokenSaver,
    call_with_retries,
    parse_retry_after,
)
from .endpoints import google_endpoints

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 30
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}


class _CountingHttp(httplib2.Http):
    """httplib2 transport that counts the requests it sends (token refreshes included) and
    the seconds spent waiting for their answers (sent, served, read; not parsed)."""

    def __init__(self, on_request: Callable[[], None]) -> None:
        super().__init__(timeout=HTTP_TIMEOUT)
        self._on_request = on_request
        self.seconds = 0.0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self._on_request()
        started = time.perf_counter()
        try:
            return super().request(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started


class _Credentials(Credentials):
    """google-auth credentials that refresh through the provider's ``oauth.refresh_tokens`` (the
    one token-endpoint client, ``providers.oauth.request_tokens``), never google-auth's own POST.
    AuthorizedHttp still decides when: expired locally, or a 401 on a token that looked valid."""

    def __init__(self, *args: Any, refresher: Callable[[], Tokens], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._refresher = refresher

    def refresh(self, request: Any) -> None:
        tokens = self._refresher()
        self.token = tokens.access_token
        self.expiry = _naive_utc(tokens.expires_at)
        if tokens.refresh_token:
            self._refresh_token = tokens.refresh_token


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    # google-auth compares expiry against a naive UTC "now".
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value else None


class _NoTransport(httplib2.Http):
    """The http of the shared services: a request is only ever sent through
    ``GoogleClient.execute`` with the connection's own authorised http."""

    def request(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("send Google requests through GoogleClient.execute")


_SERVICES: dict[tuple[str, str, str], Any] = {}
_RESOURCES: dict[tuple[int, str], Any] = {}


class _OrjsonModel(JsonModel):
    """googleapiclient's JSON model, answers read with orjson (a page of 2,500 events is
    megabytes of JSON); the library's own reading for what orjson refuses."""

    def deserialize(self, content: Any) -> Any:
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            return super().deserialize(content)
        if self._data_wrapper and isinstance(body, dict) and "data" in body:
            body = body["data"]
        return body


def shared_service(name: str, version: str, api_endpoint: str) -> Any:
    """One discovery-built service per process (parsing the discovery document and building
    the resource's methods was ~40 % of an unchanged sync's CPU when done per connection)."""
    key = (name, version, api_endpoint)
    if key not in _SERVICES:
        _SERVICES[key] = build(
            name,
            version,
            http=_NoTransport(),
            client_options={"api_endpoint": api_endpoint},
            static_discovery=True,
            cache_discovery=False,
            num_retries=0,
            model=_OrjsonModel(),
        )
    return _SERVICES[key]


def shared_resource(service: Any, name: str) -> Any:
    """A service's sub-resource (``events``), built once per process as well."""
    key = (id(service), name)
    if key not in _RESOURCES:
        _RESOURCES[key] = getattr(service, name)()
    return _RESOURCES[key]


class GoogleClient:
    """The calendar v3 and admin directory_v1 services, authorised with the connection's tokens."""

    def __init__(
        self,
        *,
        tokens: Tokens,
        on_refresh: TokenSaver,
        client_id: str,
        client_secret: str,
        refresher: Callable[[], Tokens],
    ) -> None:
        self.endpoints = google_endpoints()
        self.requests_made = 0
        self._on_refresh = on_refresh
        self.credentials = _Credentials(
            token=tokens.access_token or None,
            refresh_token=tokens.refresh_token or None,
            token_uri=self.endpoints.token_url,
            client_id=client_id,
            client_secret=client_secret,
            expiry=_naive_utc(tokens.expires_at),
            refresher=self._counted(refresher),
        )
        # We build the authorised http ourselves (instead of build(credentials=...)) so that
        # every request, token refreshes included, goes through the counting transport.
        self._transport = _CountingHttp(self._count)
        self._http = AuthorizedHttp(self.credentials, http=self._transport)
        self.calendar = shared_service("calendar", "v3", self.endpoints.calendar_api)
        self.events = shared_resource(self.calendar, "events")

    @property
    def directory(self) -> Any:
        return shared_service("admin", "directory_v1", self.endpoints.directory_api)

    def _count(self) -> None:
        self.requests_made += 1

    @property
    def seconds_waiting(self) -> float:
        return self._transport.seconds

    def _counted(self, refresher: Callable[[], Tokens]) -> Callable[[], Tokens]:
        def refresh() -> Tokens:
            self._count()  # the token POST is a provider request too
            return refresher()

        return refresh

    # -- calls ------------------------------------------------------------------------------------
    def execute(
        self,
        request: Any,
        *,
        gone: type[ProviderError] = EventNotFound,
        headers: dict | None = None,
    ) -> dict:
        """Run one API request (retried); ``gone`` is what a 410 means for this call."""

        def once() -> dict:
            if headers:
                request.headers.update(headers)
            token_before = self.credentials.token
            try:
                # The shared service's requests are sent on this connection's authorised http.
                return request.execute(http=self._http, num_retries=0) or {}
            except HttpError as exc:
                raise translate_http_error(exc, gone=gone) from exc
            except RefreshError as exc:
                raise translate_refresh_error(exc) from exc
            except (TransportError, httplib2.HttpLib2Error, OSError) as exc:
                raise ProviderError(f"Google unreachable: {exc}", permanent=False) from exc
            finally:
                self._save_if_refreshed(token_before)

        return call_with_retries(once)

    def _save_if_refreshed(self, token_before: str | None) -> None:
        creds = self.credentials
        if not creds.token or creds.token == token_before:
            return
        expiry = creds.expiry.replace(tzinfo=dt.UTC) if creds.expiry else None
        self._on_refresh(Tokens(creds.token, creds.refresh_token or "", expiry))

    def revoke(self) -> None:
        """POST the refresh token (else the access token) to Google's revocation endpoint."""
        token = self.credentials.refresh_token or self.credentials.token
        if not token:
            return

        def once() -> None:
            self._count()
            try:
                resp = requests.post(
                    self.endpoints.revoke_url, data={"token": token}, timeout=HTTP_TIMEOUT
                )
            except requests.RequestException as exc:
                raise ProviderError(f"Google unreachable: {exc}", permanent=False) from exc
            # 400 invalid_token: already revoked or expired, which is what we wanted.
            if resp.status_code >= 500 or resp.status_code == 429:
                raise ProviderError.from_status(
                    resp.status_code, resp.text, retry_after=resp.headers.get("Retry-After")
                )

        call_with_retries(once)


# -- error translation ------------------------------------------------------------------------------
def _reasons(exc: HttpError) -> set[str]:
    try:
        body = json.loads(exc.content.decode("utf-8"))
        return {e.get("reason", "") for e in body["error"].get("errors", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


def translate_http_error(
    exc: HttpError, *, gone: type[ProviderError] = EventNotFound
) -> ProviderError:
    status = int(exc.resp.status)
    reasons = _reasons(exc)
    message = f"Google {status} {','.join(sorted(reasons))}: {exc.reason}"
    return ProviderError.from_status(
        status, message, retry_after=exc.resp.get("retry-after"), gone=gone, hook=_hook(reasons)
    )


def _hook(reasons: set[str]) -> StatusHook:
    """Google's say before the common mapping: a 403 with a rate-limit reason is a rate limit."""

    def hook(status: int, message: str, retry_after: str | None) -> ProviderError | None:
        if status == 403 and reasons & RATE_LIMIT_REASONS:
            return RateLimited(message, retry_after=parse_retry_after(retry_after), status=403)
        return None

    return hook


def translate_refresh_error(exc: RefreshError) -> ProviderError:
    """invalid_grant (revoked / expired refresh token) or no refresh token at all: reconnect."""
    if getattr(exc, "retryable", False):
        return ProviderError(f"Google token refresh failed: {exc}", permanent=False)
    return AuthRevoked(f"Google token refresh failed: {exc}", status=400)
