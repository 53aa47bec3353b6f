"""Delivers push notifications (Google channels, Graph subscriptions) on background threads.

Only loopback receivers are allowed: the emulator never sends traffic off this machine. Redirects
are not followed (a loopback receiver could otherwise bounce a push, with its channel token,
elsewhere): a 3xx answer is recorded as not delivered.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from .clock import utcnow
from .faults import PUSH_KINDS
from .state import EmulatorState

log = logging.getLogger(__name__)
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="emulator-push")


class NotLoopback(ValueError):
    pass


def check_loopback(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotLoopback(f"not an http(s) URL: {url!r}")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 80, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise NotLoopback(f"cannot resolve {parts.hostname!r}") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise NotLoopback(f"{parts.hostname!r} is not a loopback address")


def post_now(
    url: str, *, headers: dict[str, str], body: bytes | None = None, timeout: float = 10
) -> requests.Response:
    """A synchronous POST (used for Graph's validation handshake); redirects are not followed."""
    check_loopback(url)
    return requests.post(url, headers=headers, data=body, timeout=timeout, allow_redirects=False)


def deliver(
    state: EmulatorState,
    *,
    provider: str,
    account: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None = None,
    kind: str = "notification",
) -> None:
    """Queue a notification; drop/duplicate faults apply here."""
    fault = state.faults.take(provider, account, "push", kinds=PUSH_KINDS)
    copies = 1
    if fault is not None and fault.kind == "drop_push":
        _record(state, provider, account, url, kind, headers, "dropped")
        return
    if fault is not None and fault.kind == "duplicate_push":
        copies = 2
    for _ in range(copies):
        _executor.submit(_send, state, provider, account, url, dict(headers), body, kind)


def _send(
    state: EmulatorState,
    provider: str,
    account: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
    kind: str,
) -> None:
    try:
        resp = post_now(url, headers=headers, body=body, timeout=10)
        if resp.is_redirect or resp.is_permanent_redirect:
            outcome = f"error: redirect {resp.status_code} not followed"
            log.info("push to %s answered a redirect; not followed", url)
        else:
            outcome = str(resp.status_code)
    except (requests.RequestException, NotLoopback) as exc:
        outcome = f"error: {exc.__class__.__name__}"
        log.info("push to %s failed: %s", url, exc)
    _record(state, provider, account, url, kind, headers, outcome)


def _record(
    state: EmulatorState,
    provider: str,
    account: str,
    url: str,
    kind: str,
    headers: dict,
    outcome: str,
) -> None:
    with state.lock:
        state.push_log.append(
            {
                "provider": provider,
                "account": account,
                "url": url,
                "kind": kind,
                "headers": headers,
                "outcome": outcome,
                "at": utcnow().isoformat(),
            }
        )
        if len(state.push_log) > 5000:
            del state.push_log[:2500]
