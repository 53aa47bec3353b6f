"""A reconnect is not an activation (issue 9, item 1), over the emulator for Google and Microsoft.

The spec's "attendees of appointments created before the app was installed are not synced" is
about the rep's FIRST activation. Disconnecting and connecting the same account again picks up
the same connection (its event links, its activation); another account of the same provider
starts a new calendar: meetings already sent from the old one are never sent again."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import requests
from django.utils import timezone

from appointments.services import appointment_create, appointment_update
from calendar_sync import services
from calendar_sync.models import CalendarConnection, EventLink
from calendar_sync.pipeline import tokens_from_response
from calendar_sync.sync import exporter

from .conftest import ADAPTER_CLIENTS, ADAPTER_REDIRECT_URI, KARL, OAUTH_PROVIDERS

# Reconnecting through the OAuth flow (the registry's connect_kind).
pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("provider", OAUTH_PROVIDERS)]

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CUSTOMER = "kund@extern.se"


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


def mails(emulator, kind: str, to: str = CUSTOMER) -> list[dict]:
    messages = requests.get(f"{emulator.url}/_emulator/outbox", timeout=10).json()["messages"]
    return [m for m in messages if m["kind"] == kind and m["to"] == to]


@pytest.fixture
def karl_activated_at():
    """Karl's calendar connection here was activated a day ago."""
    return timezone.now() - dt.timedelta(days=1)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(work):
        with django_capture_on_commit_callbacks(execute=True):
            return work()

    return run


@pytest.fixture
def reconnect(emulator, provider, karl, sync_type, run_on_commit):
    """What the rep's browser does: the OAuth grant for ``email`` at the emulator, the pipeline's
    ``connection_link``, and "Save" on the type step when the page asks for it."""
    from calendar_sync.providers.registry import get_provider

    def run(email: str = KARL) -> CalendarConnection:
        state = emulator.state
        account = state.account_find(provider, email) or state.account_create(
            provider=provider, email=email
        )
        client_id, client_secret = ADAPTER_CLIENTS[provider]
        code = state.code_issue(
            provider=provider,
            client_id=client_id,
            account=account,
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
        connection = run_on_commit(
            lambda: services.connection_link(
                user=karl,
                provider=provider,
                account_email=email,
                account_id=email,
                tokens=tokens_from_response(body),
            )
        )
        if not connection.is_active:  # the page asks for the type: the rep saves it
            run_on_commit(
                lambda: services.connection_activate(
                    connection=connection, actor=karl, appointment_type=sync_type
                )
            )
        connection.refresh_from_db()
        return connection

    return run


def disconnect(connection, karl, run_on_commit) -> None:
    run_on_commit(lambda: services.connection_disconnect(connection=connection, actor=karl))


def book_with_customer(karl, sync_type, run_on_commit):
    return run_on_commit(
        lambda: appointment_create(
            organizer=karl,
            title="Offertgenomgång",
            appointment_type=sync_type,
            start=at(3),
            end=at(3, 11),
            external_emails=[CUSTOMER],
        )
    )


def move(appointment, karl, run_on_commit, hour: int) -> None:
    run_on_commit(
        lambda: appointment_update(
            appointment=appointment, actor=karl, start=at(3, hour), end=at(3, hour + 1)
        )
    )


def test_a_reconnect_reuses_the_event_and_customers_still_get_updates(
    provider, karl, karl_conn, sync_type, sync_actor, emulator, reconnect, run_on_commit
):
    appointment = book_with_customer(karl, sync_type, run_on_commit)
    assert len(mails(emulator, "invitation")) == 1
    move(appointment, karl, run_on_commit, 12)
    assert len(mails(emulator, "update")) == 1

    disconnect(karl_conn, karl, run_on_commit)
    again = reconnect()
    assert again.pk == karl_conn.pk  # the same connection: its links and its activation
    assert again.activated_at == karl_conn.activated_at
    move(appointment, karl, run_on_commit, 14)

    assert len(mails(emulator, "update")) == 2  # the customer hears of the move
    assert len(mails(emulator, "invitation")) == 1  # and is never invited twice
    events = sync_actor(provider, KARL).events()
    assert len([e for e in events if e.get("status") != "cancelled"]) == 1  # no duplicate
    assert EventLink.objects.filter(appointment=appointment).count() == 1


def test_appointments_booked_while_disconnected_are_sent_with_invitations_on_reconnect(
    provider, karl, karl_conn, sync_type, emulator, reconnect, run_on_commit
):
    disconnect(karl_conn, karl, run_on_commit)
    appointment = book_with_customer(karl, sync_type, run_on_commit)
    assert not EventLink.objects.filter(appointment=appointment).exists()
    reconnect()
    assert EventLink.objects.filter(appointment=appointment).count() == 1
    assert len(mails(emulator, "invitation")) == 1


def test_another_account_of_the_same_provider_never_invites_twice(
    provider, karl, karl_conn, sync_type, sync_actor, emulator, reconnect, run_on_commit
):
    appointment = book_with_customer(karl, sync_type, run_on_commit)
    disconnect(karl_conn, karl, run_on_commit)
    other = reconnect("karl@exempel.se")
    assert other.pk != karl_conn.pk
    # The old account's event and link stay as they were (history of the old calendar).
    assert EventLink.objects.filter(connection=karl_conn, appointment=appointment).count() == 1
    # The new calendar gets the meeting, without attendees: the customer has the invitation
    # from the old calendar already, a second one would be a duplicate meeting for them.
    [event] = [
        e
        for e in sync_actor(provider, "karl@exempel.se").events()
        if e.get("status") != "cancelled"
    ]
    attendees = [a for a in event.get("attendees", []) if not a.get("organizer")]
    assert attendees == []
    assert len(mails(emulator, "invitation")) == 1
    move(appointment, karl, run_on_commit, 14)
    assert len(mails(emulator, "invitation")) == 1
    # A meeting booked after the switch is a normal booking: its customer is invited.
    later = run_on_commit(
        lambda: appointment_create(
            organizer=karl,
            title="Uppföljning",
            appointment_type=sync_type,
            start=at(5),
            end=at(5, 11),
            external_emails=["ny@extern.se"],
        )
    )
    assert EventLink.objects.get(appointment=later).connection_id == other.pk
    assert len(mails(emulator, "invitation", to="ny@extern.se")) == 1


def test_a_reconnect_does_not_make_old_appointments_lose_their_attendees(
    provider, karl, karl_conn, sync_type, emulator, reconnect, run_on_commit
):
    """Created after the first activation, so its attendees are synced after any reconnect."""
    appointment = book_with_customer(karl, sync_type, run_on_commit)
    disconnect(karl_conn, karl, run_on_commit)
    again = reconnect()
    draft = exporter.build_draft(appointment, again)
    assert draft.attendee_emails == [CUSTOMER] and draft.send_invitations
