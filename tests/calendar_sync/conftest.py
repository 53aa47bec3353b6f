"""Fixtures for calendar_sync tests. Adapter fixtures are prefixed ``adapter_`` / ``provider_``."""

from __future__ import annotations

import pytest

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
PROVIDERS = ["google", "microsoft"]


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


class SyncActor:
    """Someone using their own calendar at the emulator, over the providers' wire APIs."""

    def __init__(self, emulator, provider: str, email: str) -> None:
        import requests

        self.emulator, self.provider, self.email = emulator, provider, email
        emulator.state.account_create(provider=provider, email=email)
        token = emulator.state.token_mint(provider=provider, email=email, lifetime=4 * 3600)
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token.token}"
        if provider == "google":
            self.base = f"{emulator.url}/google/calendar/v3/calendars/primary/events"
        else:
            self.base = f"{emulator.url}/microsoft/v1.0/me/events"

    def _body(self, *, title=None, start=None, end=None, attendees=None, all_day=False,
              recurrence_count=0, description=None, location=None, rooms=()):  # fmt: skip
        import datetime as dt

        body: dict = {}
        google = self.provider == "google"
        if title is not None:
            body["summary" if google else "subject"] = title
        if description is not None:
            body["description"] = description
            if not google:
                body = {**body, "body": {"contentType": "text", "content": description}}
                body.pop("description")
        if location is not None:
            body["location"] = location if google else {"displayName": location}
        if start is not None:
            if google:
                if all_day:
                    body["start"] = {"date": start.date().isoformat()}
                    body["end"] = {"date": end.date().isoformat()}
                else:
                    body["start"] = {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"}
                    body["end"] = {"dateTime": end.isoformat(), "timeZone": "Europe/Stockholm"}
            else:
                utc = dt.UTC
                fmt = "%Y-%m-%dT%H:%M:%S"
                if all_day:
                    body["isAllDay"] = True
                    s = dt.datetime.combine(start.date(), dt.time(), utc)
                    e = dt.datetime.combine(end.date(), dt.time(), utc)
                else:
                    s, e = start.astimezone(utc), end.astimezone(utc)
                body["start"] = {"dateTime": s.strftime(fmt), "timeZone": "UTC"}
                body["end"] = {"dateTime": e.strftime(fmt), "timeZone": "UTC"}
        if attendees is not None:
            if google:
                body["attendees"] = [{"email": a} for a in attendees] + [
                    {"email": r, "resource": True} for r in rooms
                ]
            else:
                body["attendees"] = [
                    {"emailAddress": {"address": a}, "type": "required"} for a in attendees
                ] + [{"emailAddress": {"address": r}, "type": "resource"} for r in rooms]
        if recurrence_count:
            if google:
                body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={recurrence_count}"]
            else:
                day = start.astimezone(dt.UTC) if not all_day else start
                body["recurrence"] = {
                    "pattern": {
                        "type": "weekly",
                        "interval": 1,
                        "daysOfWeek": [day.strftime("%A").lower()],
                    },
                    "range": {
                        "type": "numbered",
                        "startDate": day.date().isoformat(),
                        "numberOfOccurrences": recurrence_count,
                    },
                }
        return body

    def _check(self, resp):
        assert resp.status_code < 300, (resp.status_code, resp.text[:500])
        return resp.json() if resp.content else {}

    def create(self, **kw) -> dict:
        params = {"sendUpdates": "all"} if self.provider == "google" else {}
        return self._check(self.http.post(self.base, params=params, json=self._body(**kw)))

    def update(self, event_id: str, **kw) -> dict:
        params = {"sendUpdates": "all"} if self.provider == "google" else {}
        url = f"{self.base}/{event_id}"
        return self._check(self.http.patch(url, params=params, json=self._body(**kw)))

    def delete(self, event_id: str) -> None:
        params = {"sendUpdates": "all"} if self.provider == "google" else {}
        self._check(self.http.delete(f"{self.base}/{event_id}", params=params))

    def respond(self, event_id: str, response: str) -> None:
        """Answer an invitation in this account's own calendar (``event_id`` as seen there)."""
        store = self.emulator.state.stores[self.provider]
        account = self.emulator.state.account_find(self.provider, self.email)
        store.demo_respond(account, event_id, response)

    def events(self) -> list[dict]:
        """This account's events as its own calendar shows them (ids, iCalUIDs, subjects)."""
        import datetime as dt

        now = dt.datetime.now(dt.UTC)
        if self.provider == "google":
            params = {
                "singleEvents": "true",
                "timeMin": (now - dt.timedelta(days=2)).isoformat(),
                "timeMax": (now + dt.timedelta(days=200)).isoformat(),
                "maxResults": 2500,
            }
            return self._check(self.http.get(self.base, params=params)).get("items", [])
        url = self.base.replace("/me/events", "/me/calendarView")
        params = {
            "startDateTime": (now - dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (now + dt.timedelta(days=200)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "$top": 999,
        }
        return self._check(self.http.get(url, params=params)).get("value", [])


@pytest.fixture
def sync_actor(emulator, provider_settings):
    """sync_actor(provider, email) -> a SyncActor acting in that account's calendar."""
    return lambda provider, email: SyncActor(emulator, provider, email)
