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


# --- Microsoft (fixtures prefixed ms_) -----------------------------------------------------------
MS_CLIENT_ID = "6731de76-14a6-49ae-97bc-6eba6914391e"
MS_CLIENT_SECRET = "ms~emulator~secret"
MS_REDIRECT_URI = "http://127.0.0.1:9/complete/microsoft-graph/"
MS_SCOPES = ["Calendars.ReadWrite", "User.Read", "Place.Read.All"]


def _ms_rewriting_session(emulator_url: str):
    """A requests.Session that sends https://login.microsoftonline.com/... to the emulator."""
    from urllib.parse import urlsplit

    import requests
    from requests.adapters import HTTPAdapter

    class RewriteToEmulator(HTTPAdapter):
        def send(self, request, **kwargs):
            parts = urlsplit(request.url)
            request.url = f"{emulator_url}/microsoft{parts.path}" + (
                f"?{parts.query}" if parts.query else ""
            )
            return super().send(request, **kwargs)

    session = requests.Session()
    session.mount("https://login.microsoftonline.com/", RewriteToEmulator())
    return session


def ms_classes(emulator_url: str):
    """(EmulatorProtocol, EmulatorAccount): O365 pointed at the emulator, msal via the rewrite."""
    from msal import ConfidentialClientApplication
    from O365 import Account
    from O365.connection import Connection, MSGraphProtocol

    class EmulatorProtocol(MSGraphProtocol):
        _protocol_url = emulator_url + "/microsoft/"

    class EmulatorConnection(Connection):
        @property
        def msal_client(self):
            if self._msal_client is None:
                self._msal_client = ConfidentialClientApplication(
                    client_id=self.auth[0],
                    client_credential=self.auth[1],
                    authority=self._msal_authority,
                    token_cache=self.token_backend,
                    http_client=_ms_rewriting_session(emulator_url),
                    instance_discovery=False,
                )
            return self._msal_client

    class EmulatorAccount(Account):
        connection_constructor = EmulatorConnection

    return EmulatorProtocol, EmulatorAccount


class MsBrowser:
    """Drives the emulated Microsoft sign-in pages the way a user's browser would."""

    def __init__(self) -> None:
        import requests

        self.session = requests.Session()

    @staticmethod
    def ctx(page: str) -> str:
        import re

        m = re.search(r"name=ctx value='([^']+)'", page)
        assert m, page
        return m.group(1)

    def sign_in(
        self,
        auth_uri: str,
        email: str,
        *,
        mfa_code: str | None = "123456",
        decision: str = "accept",
    ):
        """Pick ``email``, pass the MFA step if asked, answer the consent page; -> 302 response."""
        page = self.session.get(auth_uri, allow_redirects=False)
        assert page.status_code == 200, page.text
        action = auth_uri.split("?", 1)[0]
        ctx = self.ctx(page.text)
        resp = self.session.post(
            action, data={"ctx": ctx, "step": "pick", "account": email}, allow_redirects=False
        )
        if "Enter code" in resp.text:
            resp = self.session.post(
                action, data={"ctx": ctx, "step": "mfa", "otc": mfa_code}, allow_redirects=False
            )
        assert "Permissions requested" in resp.text, resp.text
        return self.session.post(
            action,
            data={"ctx": ctx, "step": "consent", "decision": decision},
            allow_redirects=False,
        )


@pytest.fixture
def ms_accounts(emulator):
    """Rita (rep), Carl (customer), Mia (two-step), two rooms and an external address."""
    state = emulator.state
    return {
        "rep": state.account_create(
            provider="microsoft", email="rita.rep@contoso.com", name="Rita Rep"
        ),
        "cust": state.account_create(
            provider="microsoft", email="carl.customer@fabrikam.com", name="Carl Customer"
        ),
        "mfa": state.account_create(
            provider="microsoft", email="mia.mfa@contoso.com", name="Mia Mfa", two_step=True
        ),
        "room1": state.account_create(
            provider="microsoft",
            email="aurora@contoso.com",
            name="Aurora",
            is_room=True,
            capacity=8,
            building="HQ",
        ),
        "room2": state.account_create(
            provider="microsoft",
            email="borealis@contoso.com",
            name="Borealis",
            is_room=True,
            capacity=4,
            building="Annex",
        ),
    }


@pytest.fixture
def ms_client(emulator):
    """A registered Entra app: (client_id, client_secret, redirect_uri)."""
    emulator.state.client_register(
        provider="microsoft",
        client_id=MS_CLIENT_ID,
        client_secret=MS_CLIENT_SECRET,
        redirect_uris=[MS_REDIRECT_URI],
    )
    return MS_CLIENT_ID, MS_CLIENT_SECRET, MS_REDIRECT_URI


@pytest.fixture
def ms_o365(emulator, ms_accounts, ms_client):
    """ms_o365("rita.rep@contoso.com") -> an O365 Account signed in through the emulator's pages
    (O365 get_authorization_url -> browser -> request_token, msal via the host rewrite)."""
    from O365.utils.token import MemoryTokenBackend

    protocol_cls, account_cls = ms_classes(emulator.url)

    def make(email: str, *, timezone: str = "Europe/Stockholm", **kwargs):
        account = account_cls(
            (MS_CLIENT_ID, MS_CLIENT_SECRET),
            protocol=protocol_cls(timezone=timezone),
            token_backend=MemoryTokenBackend(),
            **kwargs,
        )
        auth_uri, flow = account.con.get_authorization_url(
            requested_scopes=account.protocol.get_scopes_for(MS_SCOPES),
            redirect_uri=MS_REDIRECT_URI,
        )
        redirect = MsBrowser().sign_in(auth_uri, email)
        assert redirect.status_code == 302, redirect.text
        assert account.con.request_token(redirect.headers["Location"], flow=flow)
        return account

    return make


@pytest.fixture
def ms_token(emulator, ms_accounts):
    """ms_token(email) -> an access token minted by the control API (no sign-in)."""

    def make(email: str) -> str:
        return emulator.state.token_mint(provider="microsoft", email=email).token

    return make


class MsReceiver:
    """A loopback webhook receiver for Graph subscriptions: echoes ?validationToken= as text/plain
    (mode "echo"), or fails the handshake ("fail": 500, "wrong": echoes something else,
    "json": echoes with a JSON content type). Records every notification POST."""

    def __init__(self) -> None:
        import json

        from werkzeug.serving import make_server
        from werkzeug.wrappers import Request, Response

        self.mode = "echo"
        self.validations: list[str] = []
        self.notifications: list[dict] = []
        self.cond = threading.Condition()

        @Request.application
        def app(request: Request) -> Response:
            token = request.args.get("validationToken")
            if token is not None:
                self.validations.append(token)
                if self.mode == "fail":
                    return Response("nope", status=500)
                if self.mode == "wrong":
                    return Response("not-the-token", content_type="text/plain")
                if self.mode == "json":
                    return Response(json.dumps(token), content_type="application/json")
                return Response(token, content_type="text/plain; charset=utf-8")
            with self.cond:
                self.notifications.append(
                    {
                        "path": request.path,
                        "headers": dict(request.headers),
                        "body": json.loads(request.get_data() or b"{}"),
                        "at": dt.datetime.now(dt.UTC),
                    }
                )
                self.cond.notify_all()
            return Response("", status=202)

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        base = f"http://127.0.0.1:{self.server.server_port}"
        self.url = base + "/graph/notifications"
        self.lifecycle_url = base + "/graph/lifecycle"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 1.0) -> list[dict]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.notifications) >= count, timeout=timeout)
            return list(self.notifications)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def ms_receiver():
    receiver = MsReceiver()
    yield receiver
    receiver.stop()
