"""The emulator's shared state: accounts, OAuth clients and grants, outbox, request log, faults.

Each provider keeps its calendars in its own store (``state.stores["google"]`` /
``state.stores["microsoft"]``), registered by the provider package; a store implements
``to_dict()``, ``load(data)``, ``reset()`` and may implement ``expire_sync_state(account)``.
All mutation happens under ``state.lock`` (an RLock): the server is threaded.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .clock import utcnow
from .faults import FaultTable

PROVIDERS = ("google", "microsoft")
ACCESS_TOKEN_LIFETIME = 3600


class OAuthError(Exception):
    """An OAuth protocol error (RFC 6749 section 5.2): ``error`` and ``error_description``."""

    def __init__(self, error: str, description: str = "", status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


class Store(Protocol):
    def to_dict(self) -> dict: ...
    def load(self, data: dict) -> None: ...
    def reset(self) -> None: ...


@dataclass
class Account:
    provider: str
    email: str
    name: str
    aliases: list[str] = field(default_factory=list)
    two_step: bool = False
    # Google "sub" (21 digits) / Microsoft object id (uuid), stable for the account.
    id: str = ""
    tenant_id: str = "9188040d-6c67-4c5b-b112-36a304b66dad"
    is_room: bool = False
    capacity: int = 0
    building: str = ""

    def addresses(self) -> set[str]:
        return {self.email.lower(), *(a.lower() for a in self.aliases)}

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class OAuthClient:
    provider: str
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class AuthCode:
    code: str
    provider: str
    client_id: str
    account_email: str
    scopes: list[str]
    redirect_uri: str
    code_challenge: str = ""
    code_challenge_method: str = ""
    offline: bool = True
    nonce: str = ""
    used: bool = False
    expires_at: float = 0.0


@dataclass
class Grant:
    """A user's consent to a client: one refresh token (rotated for Microsoft)."""

    id: str
    provider: str
    client_id: str
    account_email: str
    scopes: list[str]
    refresh_token: str = ""
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    provider: str
    account_email: str
    scopes: list[str]
    expires_at: float
    grant_id: str = ""


def _pkce_s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class EmulatorState:
    def __init__(self, path: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self.path = Path(path) if path else None
        self.faults = FaultTable()
        self.stores: dict[str, Any] = {}
        self.base_url = ""  # set by the server once it knows its port
        self._reset_data()

    # -- lifecycle ----------------------------------------------------------------------------
    def _reset_data(self) -> None:
        self.accounts: dict[tuple[str, str], Account] = {}
        self.clients: dict[str, OAuthClient] = {}
        self.codes: dict[str, AuthCode] = {}
        self.grants: dict[str, Grant] = {}
        self.access_tokens: dict[str, AccessToken] = {}
        self.outbox: list[dict] = []
        self.push_log: list[dict] = []
        self.request_counts: Counter[tuple[str, str, str]] = Counter()
        self.request_log: list[dict] = []

    def register_store(self, provider: str, store: Any) -> None:
        self.stores[provider] = store

    def reset(self) -> None:
        with self.lock:
            self._reset_data()
            self.faults.clear()
            for store in self.stores.values():
                store.reset()

    # -- persistence ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        with self.lock:
            return {
                "accounts": [a.to_dict() for a in self.accounts.values()],
                "clients": [c.to_dict() for c in self.clients.values()],
                "grants": [asdict(g) for g in self.grants.values()],
                "access_tokens": [asdict(t) for t in self.access_tokens.values()],
                "outbox": self.outbox,
                "stores": {name: store.to_dict() for name, store in self.stores.items()},
            }

    def load(self, data: dict) -> None:
        with self.lock:
            self._reset_data()
            for a in data.get("accounts", []):
                acc = Account(**a)
                self.accounts[(acc.provider, acc.email.lower())] = acc
            for c in data.get("clients", []):
                self.clients[c["client_id"]] = OAuthClient(**c)
            for g in data.get("grants", []):
                self.grants[g["id"]] = Grant(**g)
            for t in data.get("access_tokens", []):
                self.access_tokens[t["token"]] = AccessToken(**t)
            self.outbox = list(data.get("outbox", []))
            for name, store_data in data.get("stores", {}).items():
                if name in self.stores:
                    self.stores[name].load(store_data)

    def save(self) -> None:
        if not self.path:
            return
        data = json.dumps(self.to_dict(), indent=1, default=str)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(data)
        tmp.replace(self.path)

    def load_file(self) -> None:
        if self.path and self.path.exists():
            self.load(json.loads(self.path.read_text()))

    # -- accounts -------------------------------------------------------------------------------
    def account_create(
        self,
        *,
        provider: str,
        email: str,
        name: str = "",
        aliases: list[str] | None = None,
        two_step: bool = False,
        is_room: bool = False,
        capacity: int = 0,
        building: str = "",
    ) -> Account:
        if provider not in PROVIDERS:
            raise ValueError(f"provider must be one of {PROVIDERS}")
        email = email.strip().lower()
        with self.lock:
            existing = self.accounts.get((provider, email))
            if existing:
                return existing
            acc_id = (
                str(secrets.randbelow(10**21)).rjust(21, "1")
                if provider == "google"
                else str(uuid.uuid4())
            )
            account = Account(
                provider=provider,
                email=email,
                name=name or email.split("@")[0].replace(".", " ").title(),
                aliases=[a.strip().lower() for a in aliases or []],
                two_step=two_step,
                id=acc_id,
                is_room=is_room,
                capacity=capacity,
                building=building,
            )
            self.accounts[(provider, email)] = account
            for store in self.stores.values():
                if hasattr(store, "on_account_created") and store.provider == provider:
                    store.on_account_created(account)
            return account

    def account_find(self, provider: str, address: str) -> Account | None:
        """The account whose e-mail or alias is ``address`` (case-insensitive)."""
        address = (address or "").strip().lower()
        with self.lock:
            acc = self.accounts.get((provider, address))
            if acc:
                return acc
            for acc in self.accounts.values():
                if acc.provider == provider and address in acc.addresses():
                    return acc
        return None

    def account_list(
        self, provider: str | None = None, *, rooms: bool | None = None
    ) -> list[Account]:
        with self.lock:
            return [
                a
                for a in self.accounts.values()
                if (provider is None or a.provider == provider)
                and (rooms is None or a.is_room == rooms)
            ]

    # -- OAuth ------------------------------------------------------------------------------------
    def client_register(
        self, *, provider: str, client_id: str, client_secret: str, redirect_uris: list[str]
    ) -> OAuthClient:
        with self.lock:
            client = OAuthClient(provider, client_id, client_secret, list(redirect_uris))
            self.clients[client_id] = client
            return client

    def client_check(
        self, provider: str, client_id: str, redirect_uri: str | None = None
    ) -> OAuthClient:
        client = self.clients.get(client_id)
        if client is None or client.provider != provider:
            raise OAuthError("invalid_client", "The OAuth client was not found.", 401)
        if redirect_uri is not None and redirect_uri not in client.redirect_uris:
            raise OAuthError("redirect_uri_mismatch", "The redirect URI is not registered.")
        return client

    def code_issue(
        self,
        *,
        provider: str,
        client_id: str,
        account: Account,
        scopes: list[str],
        redirect_uri: str,
        code_challenge: str = "",
        code_challenge_method: str = "",
        offline: bool = True,
        nonce: str = "",
    ) -> str:
        code = (
            "4/0" + secrets.token_urlsafe(24)
            if provider == "google"
            else "M." + secrets.token_urlsafe(32)
        )
        with self.lock:
            self.codes[code] = AuthCode(
                code=code,
                provider=provider,
                client_id=client_id,
                account_email=account.email,
                scopes=scopes,
                redirect_uri=redirect_uri,
                code_challenge=code_challenge,
                code_challenge_method=code_challenge_method,
                offline=offline,
                nonce=nonce,
                expires_at=utcnow().timestamp() + 600,
            )
        return code

    def code_exchange(
        self,
        *,
        provider: str,
        client_id: str,
        client_secret: str,
        code: str,
        redirect_uri: str,
        code_verifier: str = "",
    ) -> tuple[AuthCode, dict]:
        with self.lock:
            client = self.client_check(provider, client_id)
            if client.client_secret != client_secret:
                raise OAuthError("invalid_client", "Unauthorized", 401)
            auth = self.codes.get(code)
            if auth is None or auth.provider != provider or auth.client_id != client_id:
                raise OAuthError("invalid_grant", "Malformed auth code.")
            if auth.used:
                # A replayed code also revokes what it granted (RFC 6749 section 4.1.2).
                for grant in self.grants.values():
                    if grant.id == f"code:{code}":
                        self._revoke_grant(grant)
                raise OAuthError("invalid_grant", "Code was already redeemed.")
            if auth.expires_at < utcnow().timestamp():
                raise OAuthError("invalid_grant", "Code expired.")
            if auth.redirect_uri != redirect_uri:
                raise OAuthError("redirect_uri_mismatch", "Bad Request")
            if auth.code_challenge:
                if not code_verifier or _pkce_s256(code_verifier) != auth.code_challenge:
                    raise OAuthError("invalid_grant", "Invalid code verifier.")
            auth.used = True
            grant = Grant(
                id=f"code:{code}",
                provider=provider,
                client_id=client_id,
                account_email=auth.account_email,
                scopes=auth.scopes,
                refresh_token=self._new_refresh_token(provider) if auth.offline else "",
            )
            self.grants[grant.id] = grant
            return auth, self._token_response(grant)

    def refresh(
        self, *, provider: str, client_id: str, client_secret: str, refresh_token: str
    ) -> tuple[Grant, dict]:
        with self.lock:
            client = self.client_check(provider, client_id)
            if client.client_secret != client_secret:
                raise OAuthError("invalid_client", "Unauthorized", 401)
            grant = next(
                (g for g in self.grants.values() if g.refresh_token == refresh_token),
                None,
            )
            if grant is None or grant.revoked or grant.client_id != client_id:
                raise OAuthError("invalid_grant", "Token has been expired or revoked.")
            if provider == "microsoft":  # Microsoft rotates refresh tokens
                grant.refresh_token = self._new_refresh_token(provider)
            return grant, self._token_response(grant, include_refresh=provider == "microsoft")

    def token_mint(
        self,
        *,
        provider: str,
        email: str,
        scopes: list[str] | None = None,
        lifetime: int = ACCESS_TOKEN_LIFETIME,
    ) -> AccessToken:
        with self.lock:
            account = self.account_find(provider, email)
            if account is None:
                raise KeyError(email)
            token = AccessToken(
                token=self._new_access_token(provider),
                provider=provider,
                account_email=account.email,
                scopes=scopes or [],
                expires_at=utcnow().timestamp() + lifetime,
            )
            self.access_tokens[token.token] = token
            return token

    def authenticate(self, provider: str, authorization: str | None) -> Account | None:
        """The account behind a ``Bearer`` header, or None (missing, unknown, expired, revoked)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        value = authorization.split(None, 1)[1].strip()
        with self.lock:
            token = self.access_tokens.get(value)
            if token is None or token.provider != provider:
                return None
            if token.expires_at < utcnow().timestamp():
                return None
            if (
                token.grant_id
                and self.grants.get(token.grant_id, Grant("", "", "", "", [], revoked=True)).revoked
            ):
                return None
            return self.account_find(provider, token.account_email)

    def revoke(self, provider: str, token: str) -> bool:
        with self.lock:
            access = self.access_tokens.get(token)
            if access and access.provider == provider:
                grant = self.grants.get(access.grant_id)
                if grant:
                    self._revoke_grant(grant)
                else:
                    access.expires_at = 0
                return True
            for grant in self.grants.values():
                if grant.provider == provider and grant.refresh_token == token:
                    self._revoke_grant(grant)
                    return True
        return False

    def revoke_account(self, provider: str, email: str) -> int:
        """Revoke every grant of an account (as when the user removes the app's access)."""
        with self.lock:
            grants = [
                g
                for g in self.grants.values()
                if g.provider == provider and g.account_email == email.lower() and not g.revoked
            ]
            for grant in grants:
                self._revoke_grant(grant)
            return len(grants)

    def _revoke_grant(self, grant: Grant) -> None:
        grant.revoked = True
        for token in self.access_tokens.values():
            if token.grant_id == grant.id:
                token.expires_at = 0

    def _token_response(self, grant: Grant, include_refresh: bool = True) -> dict:
        access = AccessToken(
            token=self._new_access_token(grant.provider),
            provider=grant.provider,
            account_email=grant.account_email,
            scopes=grant.scopes,
            expires_at=utcnow().timestamp() + ACCESS_TOKEN_LIFETIME,
            grant_id=grant.id,
        )
        self.access_tokens[access.token] = access
        body = {
            "access_token": access.token,
            "expires_in": ACCESS_TOKEN_LIFETIME,
            "token_type": "Bearer",
            "scope": " ".join(grant.scopes),
        }
        if grant.refresh_token and include_refresh:
            body["refresh_token"] = grant.refresh_token
        return body

    @staticmethod
    def _new_access_token(provider: str) -> str:
        return ("ya29.a0" if provider == "google" else "eyJ0eXAiOiJKV1Qi.") + secrets.token_urlsafe(
            40
        )

    @staticmethod
    def _new_refresh_token(provider: str) -> str:
        return ("1//0" if provider == "google" else "0.AXoA") + secrets.token_urlsafe(40)

    # -- outbox and logs ----------------------------------------------------------------------------
    def outbox_add(
        self,
        *,
        provider: str,
        sender: str,
        recipient: str,
        kind: str,
        subject: str,
        event_id: str,
        body: str = "",
        extra: dict | None = None,
    ) -> dict:
        """Record an e-mail the provider would have sent (invitation, update, cancellation)."""
        entry = {
            "id": len(self.outbox) + 1,
            "provider": provider,
            "from": sender,
            "to": recipient.lower(),
            "kind": kind,
            "subject": subject,
            "event_id": event_id,
            "body": body,
            "sent_at": utcnow().isoformat(),
            **(extra or {}),
        }
        with self.lock:
            self.outbox.append(entry)
        return entry

    def log_request(self, provider: str, account: str | None, method: str, endpoint: str) -> None:
        with self.lock:
            self.request_counts[(provider, account or "", f"{method} {endpoint}")] += 1
            self.request_log.append(
                {
                    "provider": provider,
                    "account": account or "",
                    "method": method,
                    "endpoint": endpoint,
                    "at": utcnow().isoformat(),
                }
            )
            if len(self.request_log) > 20000:
                del self.request_log[:10000]

    def request_summary(self) -> dict:
        with self.lock:
            by_endpoint: Counter[str] = Counter()
            by_account: Counter[str] = Counter()
            rows = []
            for (provider, account, endpoint), n in sorted(self.request_counts.items()):
                rows.append(
                    {"provider": provider, "account": account, "endpoint": endpoint, "count": n}
                )
                by_endpoint[f"{provider} {endpoint}"] += n
                by_account[f"{provider} {account}"] += n
            return {
                "total": sum(self.request_counts.values()),
                "by_endpoint": dict(by_endpoint),
                "by_account": dict(by_account),
                "rows": rows,
            }

    def now(self) -> dt.datetime:
        return utcnow()
