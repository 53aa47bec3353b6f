"""Fixtures for the provider emulator tests (Google fixtures are prefixed ``google_``)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

GOOGLE_SCOPES = [
    "openid",
    "email",
    "profile",
    "https://www.googleapis.com/auth/calendar",
    "https://www.googleapis.com/auth/admin.directory.resource.calendar.readonly",
]


@pytest.fixture
def google_accounts(emulator):
    """Alice, Bob (plain), Carol (two-step) and two rooms, as emulated Google accounts."""
    state = emulator.state
    accounts = {
        "alice": state.account_create(
            provider="google", email="alice@example.com", name="Alice Andersson"
        ),
        "bob": state.account_create(provider="google", email="bob@example.com", name="Bob Berg"),
        "carol": state.account_create(
            provider="google", email="carol@example.com", name="Carol Carlsson", two_step=True
        ),
        "room1": state.account_create(
            provider="google",
            email="room-aurora@resource.example.com",
            name="Aurora",
            is_room=True,
            capacity=8,
            building="HQ",
        ),
        "room2": state.account_create(
            provider="google",
            email="room-borealis@resource.example.com",
            name="Borealis",
            is_room=True,
            capacity=4,
            building="HQ",
        ),
    }
    return accounts


@pytest.fixture
def google_client(emulator):
    """A registered OAuth client: (client_id, client_secret, redirect_uri)."""
    redirect_uri = "http://127.0.0.1:9/complete/google-oauth2/"
    emulator.state.client_register(
        provider="google",
        client_id="crm-test.apps.googleusercontent.com",
        client_secret="GOCSPX-test-secret",
        redirect_uris=[redirect_uri],
    )
    return "crm-test.apps.googleusercontent.com", "GOCSPX-test-secret", redirect_uri


@pytest.fixture
def google_token(emulator, google_accounts):
    """google_token("alice@example.com") -> a valid access token for that account."""

    def make(email: str, scopes: list[str] | None = None) -> str:
        return emulator.state.token_mint(provider="google", email=email, scopes=scopes).token

    return make


@pytest.fixture
def google_calendar(emulator, google_token):
    """google_calendar("alice@example.com") -> a real googleapiclient Calendar v3 service."""
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    def make(email: str, token: str | None = None):
        creds = Credentials(token or google_token(email))
        return build(
            "calendar",
            "v3",
            credentials=creds,
            client_options={"api_endpoint": emulator.url + "/google/calendar/v3/"},
            static_discovery=True,
            cache_discovery=False,
        )

    return make


@pytest.fixture
def google_directory(emulator, google_token):
    from google.oauth2.credentials import Credentials
    from googleapiclient.discovery import build

    def make(email: str):
        return build(
            "admin",
            "directory_v1",
            credentials=Credentials(google_token(email)),
            client_options={"api_endpoint": emulator.url + "/google/"},
            static_discovery=True,
            cache_discovery=False,
        )

    return make


class _Receiver:
    """A tiny loopback HTTP server that records every POST it receives."""

    def __init__(self) -> None:
        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        self.requests: list[dict] = []
        self.cond = threading.Condition()

        @Request.application
        def app(request: Request) -> Response:
            with self.cond:
                self.requests.append(
                    {
                        "method": request.method,
                        "path": request.path,
                        "headers": dict(request.headers),
                        "body": request.get_data(),
                        "at": dt.datetime.now(dt.UTC),
                    }
                )
                self.cond.notify_all()
            return Response("", status=200)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 1.0) -> list[dict]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.requests) >= count, timeout=timeout)
            return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def google_push_receiver():
    receiver = _Receiver()
    yield receiver
    receiver.stop()
