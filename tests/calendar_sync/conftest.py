"""Fixtures for calendar_sync tests. Adapter fixtures are prefixed ``adapter_`` / ``provider_``."""

from __future__ import annotations

import pytest

from calendar_sync.providers.registry import PROVIDERS as REGISTRY

# --- adapter fixtures (provider adapters against the emulator) -------------------------------------
ADAPTER_CLIENTS = {
    "google": ("crm-adapter.apps.googleusercontent.com", "GOCSPX-adapter-secret"),
    "microsoft": ("6731de76-14a6-49ae-97bc-6eba6914391e", "adapter~secret"),
}
ADAPTER_REDIRECT_URI = "http://127.0.0.1:9/complete/calendar/"


@pytest.fixture
def provider_settings(settings, emulator):
    """Point calendar_sync.conf at the running emulator."""
    settings.CALENDAR_EMULATOR_URL = emulator.url
    return settings


@pytest.fixture
def adapter_retry_sleeps(monkeypatch):
    """Record the adapters' retry waits instead of sleeping them (keeps 429 storms fast)."""
    from calendar_sync.providers import base

    waits: list[float] = []
    monkeypatch.setattr(base, "RETRY_SLEEP", waits.append)
    return waits


@pytest.fixture
def provider_account(db, emulator, provider_settings, request):
    """provider_account(provider, email, aliases=()) -> the CalendarConnection fields of a new
    account at the provider's server, and its CalendarApp installed.

    OAuth providers (the emulator): the account and OAuth client, the code grant run in the
    emulator's state (so a refresh token exists). Credentials providers (Radicale): the account
    with its calendar and password, through the provider's test actor."""
    import datetime as dt

    from django.utils import timezone

    from calendar_sync.models import CalendarApp
    from calendar_sync.providers.registry import get_provider

    def make(provider: str, email: str, *, aliases=(), expired: bool = False) -> dict:
        spec = get_provider(provider)
        if not spec.uses_oauth():
            CalendarApp.objects.update_or_create(provider=provider, defaults={"installed": True})
            actor = new_actor(request, emulator, provider, email)
            actor.add_aliases(aliases)
            return actor.connection_fields()
        state = emulator.state
        account = state.account_find(provider, email) or state.account_create(
            provider=provider, email=email, aliases=list(aliases)
        )
        client_id, client_secret = ADAPTER_CLIENTS[provider]
        if client_id not in state.clients:
            state.client_register(
                provider=provider,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=[ADAPTER_REDIRECT_URI],
            )
        CalendarApp.objects.update_or_create(
            provider=provider,
            defaults={"installed": True, "client_id": client_id, "client_secret": client_secret},
        )
        code = state.code_issue(
            provider=provider,
            client_id=client_id,
            account=account,
            scopes=list(spec.scopes),
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        _, body = state.code_exchange(
            provider=provider,
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        expires = timezone.now() + dt.timedelta(seconds=int(body["expires_in"]))
        return {
            "access_token": body["access_token"],
            "refresh_token": body.get("refresh_token", ""),
            "token_expires_at": timezone.now() - dt.timedelta(minutes=5) if expired else expires,
        }

    return make


def new_actor(request, emulator, provider: str, email: str):
    """The provider's test actor for ``email`` (with the server it needs)."""
    from .actors import actor_class

    cls = actor_class(provider)
    if cls.server == "radicale":
        return cls(emulator, email, radicale=request.getfixturevalue("radicale"))
    return cls(emulator, email)


@pytest.fixture
def adapter_connection(db, provider_account):
    """adapter_connection(provider, email) -> a CalendarConnection with a real account at the
    provider's server (``provider_account``)."""
    from django.contrib.auth import get_user_model

    from calendar_sync.models import CalendarConnection

    def make(provider: str, email: str, *, expired: bool = False):
        fields = provider_account(provider, email, expired=expired)
        user = get_user_model().objects.create_user(username=email, email=email)
        return CalendarConnection.objects.create(
            user=user, provider=provider, account_email=email, **fields
        )

    return make


# --- sync engine fixtures ---------------------------------------------------------------------------
# Every provider of the registry: a new one runs every parametrized test (and needs an actor).
PROVIDERS = list(REGISTRY)
# ... and those with a capability (the registry says; a test of it runs for each that has it):
OAUTH_PROVIDERS = [p for p, spec in REGISTRY.items() if spec.uses_oauth()]
PUSH_PROVIDERS = [p for p, spec in REGISTRY.items() if spec.push is not None]
VIDEO_PROVIDERS = [p for p, spec in REGISTRY.items() if spec.has_video()]
ROOM_PROVIDERS = [p for p, spec in REGISTRY.items() if spec.has_rooms]
VIDEO_ROOM_PROVIDERS = [p for p in VIDEO_PROVIDERS if p in ROOM_PROVIDERS]


@pytest.fixture
def sync_type(db):
    from appointments.models import AppointmentType

    return AppointmentType.objects.get_or_create(name="Kundmöte")[0]


@pytest.fixture
def sync_user(db):
    """sync_user(email, *aliases, **kw) -> a CRM user (a sales rep) with allauth aliases."""
    from allauth.account.models import EmailAddress

    from tests.factories import UserFactory

    def make(email: str, *aliases: str, **kw):
        user = UserFactory(email=email, username=email, **kw)
        for alias in aliases:
            EmailAddress.objects.create(user=user, email=alias, verified=True)
        return user

    return make


@pytest.fixture
def sync_connect(db, provider_account, sync_type):
    """sync_connect(provider, user, aliases=()) -> an active CalendarConnection for ``user``,
    whose account at the provider has the same address (plus provider-side aliases)."""
    from django.utils import timezone

    from calendar_sync.models import CalendarConnection

    def make(provider: str, user, *, aliases=(), activated_at=None, email=None):
        email = email or user.email
        fields = provider_account(provider, email, aliases=aliases)
        return CalendarConnection.objects.create(
            user=user,
            provider=provider,
            account_email=email,
            appointment_type=sync_type,
            activated_at=activated_at or timezone.now(),
            **fields,
        )

    return make


@pytest.fixture
def sync_actor(emulator, provider_settings, request):
    """sync_actor(provider, email) -> that provider's CalendarActor (``actors.py``) acting in the
    account's calendar."""
    return lambda provider, email: new_actor(request, emulator, provider, email)


# --- Karl, the sales rep most tests sync for ---------------------------------------------------------
KARL = "karl.andersson@exempel.se"


@pytest.fixture
def karl_aliases():
    """Karl's other addresses, as allauth aliases and at his provider account; none here. A module
    whose tests need them overrides this fixture (e.g. ``return KARL[1:]``)."""
    return ()


@pytest.fixture
def karl_activated_at():
    """When Karl's calendar connection was activated; None: now. A module whose tests need an
    older connection overrides this fixture."""
    return None


@pytest.fixture
def karl(sync_user, karl_aliases):
    """Karl Andersson, a sales rep (with ``karl_aliases``)."""
    return sync_user(KARL, *karl_aliases, first_name="Karl", last_name="Andersson")


@pytest.fixture
def karl_conn(provider, karl, sync_connect, karl_aliases, karl_activated_at):
    """Karl's active connection at ``provider`` (activated at ``karl_activated_at``)."""
    return sync_connect(provider, karl, aliases=karl_aliases, activated_at=karl_activated_at)


@pytest.fixture
def karl_cal(provider, karl_conn, sync_actor):
    """Karl acting directly in his own calendar at the provider (meetings the CRM never saw)."""
    return sync_actor(provider, KARL)
