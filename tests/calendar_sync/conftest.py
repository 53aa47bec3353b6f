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
def adapter_connection(db, emulator, provider_settings):
    """adapter_connection(provider, email) -> a CalendarConnection with real emulator tokens.

    Creates the emulator account and OAuth client, runs the code grant in the emulator's state
    (so a refresh token exists), and the User + CalendarApp + CalendarConnection rows."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from calendar_sync.models import CalendarApp, CalendarConnection
    from calendar_sync.providers.registry import get_provider

    def make(provider: str, email: str, *, expired: bool = False):
        state = emulator.state
        account = state.account_create(provider=provider, email=email)
        client_id, client_secret = ADAPTER_CLIENTS[provider]
        if client_id not in state.clients:
            state.client_register(
                provider=provider,
                client_id=client_id,
                client_secret=client_secret,
                redirect_uris=[ADAPTER_REDIRECT_URI],
            )
        scopes = list(get_provider(provider).scopes)
        code = state.code_issue(
            provider=provider,
            client_id=client_id,
            account=account,
            scopes=scopes,
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        _, body = state.code_exchange(
            provider=provider,
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        app, _ = CalendarApp.objects.update_or_create(
            provider=provider,
            defaults={"installed": True, "client_id": client_id, "client_secret": client_secret},
        )
        user = get_user_model().objects.create_user(username=email, email=email)
        expires = timezone.now() + dt.timedelta(seconds=int(body["expires_in"]))
        return CalendarConnection.objects.create(
            user=user,
            provider=provider,
            account_email=email,
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", ""),
            token_expires_at=timezone.now() - dt.timedelta(minutes=5) if expired else expires,
        )

    return make


# --- sync engine fixtures ---------------------------------------------------------------------------
# Every provider of the registry: a new one runs every parametrized test (and needs an actor).
PROVIDERS = list(REGISTRY)


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
def sync_connect(db, emulator, provider_settings, sync_type):
    """sync_connect(provider, user, aliases=()) -> an active CalendarConnection for ``user``,
    whose emulator account has the same address (plus provider-side aliases)."""
    import datetime as dt

    from django.utils import timezone

    from calendar_sync.models import CalendarApp, CalendarConnection
    from calendar_sync.providers.registry import get_provider

    def make(provider: str, user, *, aliases=(), activated_at=None, email=None):
        email = email or user.email
        state = emulator.state
        state.account_create(provider=provider, email=email, aliases=list(aliases))
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
            account=state.account_find(provider, email),
            scopes=list(get_provider(provider).scopes),
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        _, body = state.code_exchange(
            provider=provider,
            client_id=client_id,
            client_secret=client_secret,
            code=code,
            redirect_uri=ADAPTER_REDIRECT_URI,
        )
        return CalendarConnection.objects.create(
            user=user,
            provider=provider,
            account_email=email,
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token", ""),
            token_expires_at=timezone.now() + dt.timedelta(seconds=int(body["expires_in"])),
            appointment_type=sync_type,
            activated_at=activated_at or timezone.now(),
        )

    return make


@pytest.fixture
def sync_actor(emulator, provider_settings):
    """sync_actor(provider, email) -> that provider's CalendarActor (``actors.py``) acting in the
    account's calendar."""
    from .actors import actor_class

    return lambda provider, email: actor_class(provider)(emulator, email)
