"""The CalDAV client (python-caldav's ``DAVClient``), counted, timed and with its errors in the
neutral family.

python-caldav speaks WebDAV/CalDAV for us (PROPFIND discovery, sync-collection, multiget,
free-busy); this subclass only makes every request pass one place so that the adapter can count
requests, time them, refuse the library's own rate-limit sleeping (``base.call_with_retries``
owns retries) and turn a failure into a ``ProviderError`` through ``ProviderError.from_status``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from caldav.davclient import DAVClient
from caldav.lib import error

from ..base import (
    CursorExpired,
    EventNotFound,
    ProviderError,
    RateLimited,
    call_with_retries,
    parse_retry_after,
)

T = TypeVar("T")
SYNC_TOKEN_INVALID = "{DAV:}valid-sync-token"  # noqa: S105 - an RFC 6578 element
TIMEOUT_SECONDS = 30


class CountingDAVClient(DAVClient):
    """A ``DAVClient`` that counts and times its requests and never sleeps on a 429 itself."""

    def __init__(self, url: str, username: str, password: str) -> None:
        super().__init__(
            url=url,
            username=username,
            password=password,
            auth_type="basic",  # no unauthenticated probe first: one request per call
            timeout=TIMEOUT_SECONDS,
            enable_rfc6764=False,  # never look the server up in DNS: the URL is the server
            require_tls=False,  # plain HTTP only for loopback; the connect form checks that
            rate_limit_handle=False,
        )
        self.requests_made = 0
        self.seconds_waiting = 0.0

    def request(self, url: str, method: str = "GET", body: str = "", headers: Any = None,
                rate_limit_time_slept: float = 0) -> Any:  # fmt: skip
        self.requests_made += 1
        started = time.perf_counter()
        try:
            return self._sync_request(url, method, body, headers)
        except error.DAVError:
            raise
        except OSError as exc:  # niquests' connection errors are OSErrors
            raise ProviderError(f"the CalDAV server is unreachable ({exc})") from exc
        except Exception as exc:
            if exc.__class__.__module__.startswith(("niquests", "urllib3")):
                raise ProviderError(f"the CalDAV server is unreachable ({exc})") from exc
            raise
        finally:
            self.seconds_waiting += time.perf_counter() - started


def _status_hook(status: int, message: str, retry_after: str | None) -> ProviderError | None:
    if status == 401:
        from ..base import AuthRevoked

        return AuthRevoked(
            f"the CalDAV server refused the username or app password ({message})", status=401
        )
    return None


def translate(exc: error.DAVError) -> ProviderError:
    """A python-caldav error as the neutral error the engine understands."""
    message = f"HTTP {exc.status} {exc.reason}"[:500] if exc.status else str(exc.reason)[:500]
    if SYNC_TOKEN_INVALID in (exc.preconditions or []):
        # Radicale answers an unknown token with 403, Xandikos with 412 (RFC 6578 3.2).
        return CursorExpired(f"the sync token was refused ({message})", status=exc.status)
    if isinstance(exc, error.RateLimitError):
        seconds = exc.retry_after_seconds
        retry_after = seconds if seconds is not None else parse_retry_after(exc.retry_after)
        return RateLimited(message, retry_after=retry_after, status=exc.status or 429)
    status = exc.status
    if status is None and isinstance(exc, error.NotFoundError):
        status = 404
    if status is None:
        return ProviderError(message, permanent=True)
    return ProviderError.from_status(status, message, hook=_status_hook)


def check(response: Any, what: str, *, ok: tuple[int, ...] = (200, 201, 204, 207)) -> Any:
    """A plain request's response, or its status as the neutral error."""
    status = int(response.status)
    if status in ok:
        return response
    headers = getattr(response, "headers", {}) or {}
    message = f"{what}: HTTP {status} {str(getattr(response, 'reason', '') or '')}".strip()
    if status == 404:
        return _raise(EventNotFound(message, status=404))
    return _raise(
        ProviderError.from_status(
            status, message, retry_after=headers.get("Retry-After"), hook=_status_hook
        )
    )


def _raise(exc: ProviderError) -> Any:
    raise exc


def call(fn: Callable[[], T]) -> T:
    """One CalDAV operation, its errors translated, retried as every provider call is."""

    def once() -> T:
        try:
            return fn()
        except error.DAVError as exc:
            raise translate(exc) from exc

    return call_with_retries(once)
