"""Pushes and Graph's validation handshake never follow a redirect off loopback."""

from __future__ import annotations

import ipaddress
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from provider_emulator import push

# TEST-NET-1: never contacted (the guard below refuses it before any connection is made).
OFF_LOOPBACK = "http://192.0.2.1:9/collect"


@pytest.fixture
def redirecting_receiver():
    """A loopback receiver that answers every POST with 307 to a non-loopback address."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", OFF_LOOPBACK)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def sent_urls(monkeypatch):
    """Every URL requests sends to; a non-loopback one is refused without connecting."""
    urls: list[str] = []
    send = HTTPAdapter.send

    def guarded(self, request, **kwargs):
        urls.append(request.url)
        host = urlsplit(request.url).hostname or ""
        if not ipaddress.ip_address(host).is_loopback:
            raise requests.ConnectionError(f"test guard: refused {request.url}", request=request)
        return send(self, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", guarded)
    return urls


def _loopback_only(urls: list[str]) -> bool:
    return all(ipaddress.ip_address(urlsplit(u).hostname).is_loopback for u in urls)


def test_push_answered_with_a_redirect_is_recorded_as_not_delivered(
    emulator, redirecting_receiver, sent_urls
):
    url, hits = redirecting_receiver
    push.deliver(
        emulator.state,
        provider="google",
        account="alice@example.com",
        url=url,
        headers={"X-Goog-Channel-Token": "channel-secret"},
        body=b"",
    )
    deadline = time.monotonic() + 5
    while not emulator.state.push_log and time.monotonic() < deadline:
        time.sleep(0.02)
    [entry] = emulator.state.push_log
    assert entry["outcome"] == "error: redirect 307 not followed"
    assert hits == ["/hook"]
    assert sent_urls == [url] and _loopback_only(sent_urls)


def test_validation_handshake_does_not_follow_a_redirect(redirecting_receiver, sent_urls):
    url, hits = redirecting_receiver
    resp = push.post_now(f"{url}?validationToken=abc", headers={}, body=b"", timeout=5)
    assert resp.status_code == 307  # not 200: Graph's handshake fails
    assert len(hits) == 1 and _loopback_only(sent_urls) and len(sent_urls) == 1
