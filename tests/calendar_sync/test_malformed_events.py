"""One customer's invitation never stops a sync, on PostgreSQL above all: strings from the
provider are cleaned and clipped before the database, an event that still cannot be stored is
skipped as "could not be read" with its reason, and the page, the cursor and the run's summary
land with the rest. For Google and Microsoft over the emulator; CI's PostgreSQL leg runs these
on PostgreSQL (asserted), where a NUL byte or an over-long value is a DataError."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import pytest
from django.db import DataError, connection
from hypothesis import given, settings
from hypothesis import strategies as st

from appointments.models import Appointment
from calendar_sync.models import EventLink
from calendar_sync.sync import engine, rules
from calendar_sync.sync.rules import SkipReason

from .actors import actor_class
from .conftest import PROVIDERS

pytestmark = pytest.mark.django_db
every_provider = pytest.mark.parametrize("provider", PROVIDERS)

STOCKHOLM = ZoneInfo("Europe/Stockholm")
LONG_ADDRESS = "a" * 64 + "@" + ".".join(["b" * 61] * 3) + ".c.se"  # 255 characters


def at(days: int, hour: int = 10) -> dt.datetime:
    day = dt.datetime.now(STOCKHOLM).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour), STOCKHOLM)


@pytest.fixture
def karl_conn(provider, sync_user, sync_connect):
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert connection.vendor == "postgresql"  # CI's second leg really is PostgreSQL
    return sync_connect(provider, sync_user("karl.andersson@exempel.se"))


@pytest.fixture
def customer(provider, sync_actor):
    return sync_actor(provider, "kund@extern.se")


@pytest.fixture
def refuses_nul_like_postgresql():
    """On SQLite, refuse NUL in text the way PostgreSQL does (a DataError); on PostgreSQL the
    database refuses it itself."""

    def wrapper(execute, sql, params, many, context):  # noqa: ANN001, ANN202
        rows = params if many else [params]
        for row in rows or []:
            for value in row or []:
                if isinstance(value, str) and "\x00" in value:
                    raise DataError("A string literal cannot contain NUL (0x00) characters.")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


@every_provider
def test_control_characters_are_cleaned_and_values_clipped_before_the_database(
    karl_conn, customer, refuses_nul_like_postgresql
):
    customer.create(
        title="Pris\x00möte\x07", start=at(2), end=at(2, 11),
        description="rad 1\x00\nrad 2", location="Kontoret\x00" + "x" * 300,
        attendees=[karl_conn.account_email, "inköp\x00@extern.se"],
    )  # fmt: skip
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error == ""
    appointment = Appointment.objects.get()
    assert appointment.title == "Prismöte"
    assert "\x00" not in appointment.agenda and appointment.agenda.split() == [
        "rad",
        "1",
        "rad",
        "2",
    ]
    assert appointment.location.startswith("Kontoret") and len(appointment.location) == 255
    assert all("\x00" not in a.email for a in appointment.attendees.all())
    assert run.created == 1


@every_provider
def test_an_overlong_address_skips_that_event_only_and_the_cursor_is_saved(karl_conn, customer):
    customer.create(title="Bra", start=at(2), end=at(2, 11), attendees=[karl_conn.account_email])
    customer.create(
        title="Konstig", start=at(3), end=at(3, 11), attendees=[karl_conn.account_email, LONG_ADDRESS]
    )  # fmt: skip
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error == ""
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Bra"]
    link = EventLink.objects.get(title="Konstig")  # Karl's copy (Graph: its own id)
    assert link.skip_reason == SkipReason.MALFORMED
    assert "longer than 254 characters" in link.skip_detail
    assert run.created == 1 and run.skipped == {"malformed": 1}
    karl_conn.refresh_from_db()
    assert karl_conn.sync_cursor and karl_conn.last_error == ""
    assert engine.sync_connection(karl_conn.pk, trigger="test").error == ""  # and again


# iCalendar cannot carry a NUL (RFC 5545 forbids control characters): only JSON wires can.
@pytest.mark.parametrize(
    "provider", [p for p in PROVIDERS if actor_class(p).wire_carries_control_characters]
)
def test_a_page_the_database_refuses_is_written_event_by_event(
    karl_conn, customer, refuses_nul_like_postgresql, monkeypatch
):
    """Cleaning is the first line; should it ever miss a field, the database's refusal costs
    one event (skipped with the database's reason), not the page, and the summary counts
    only what was committed."""
    monkeypatch.setattr(engine, "clean_page", lambda page: None)  # a field cleaning missed
    customer.create(title="Bra", start=at(2), end=at(2, 11), attendees=[karl_conn.account_email])
    customer.create(
        title="Null\x00byte", start=at(3), end=at(3, 11), attendees=[karl_conn.account_email]
    )
    run = engine.sync_connection(karl_conn.pk, trigger="test")
    assert run.error == ""
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Bra"]
    assert run.created == 1
    assert run.skipped == {"malformed": 1}
    link = EventLink.objects.get(skip_reason=SkipReason.MALFORMED)
    assert "database refused" in link.skip_detail
    karl_conn.refresh_from_db()
    assert karl_conn.sync_cursor


@every_provider
def test_clean_text(provider):
    assert rules.clean_text("a\x00b\x07c\x7f") == "abc"
    assert rules.clean_text("one\ntwo\tthree") == "one two three"
    assert rules.clean_text("one\ntwo", multiline=True) == "one\ntwo"
    assert rules.clean_text("\ud800x") == "x"  # a lone surrogate cannot be stored as UTF-8
    assert rules.clean_text("abcdef", 3) == "abc"
    assert rules.clean_text(None) == ""


@settings(max_examples=300, deadline=None)
@given(text=st.text(), multiline=st.booleans(), limit=st.none() | st.integers(0, 20))
def test_clean_text_strips_every_control_character(text, multiline, limit):
    """The printable fast path changes nothing: the result is the two substitutions' result,
    for any text (control characters, line breaks, surrogates, other non-printables)."""
    expected = rules._CONTROL_CHARACTERS.sub("", text)
    if not multiline:
        expected = rules._LINE_BREAKS.sub(" ", expected)
    cleaned = rules.clean_text(text, limit, multiline=multiline)
    assert cleaned == (expected[:limit] if limit is not None else expected)
    assert not rules._CONTROL_CHARACTERS.search(cleaned)


@every_provider
def test_clean_event(provider):
    from calendar_sync.providers.base import ExternalAttendee, ExternalEvent

    ev = ExternalEvent(
        id="e1\x00", ical_uid="u", title="T\x00" + "t" * 300, start=None, end=None,
        attendees=[ExternalAttendee(email="a\x00@b.se", name="N\x01")],
    )  # fmt: skip
    rules.clean_event(ev)
    assert ev.id == "e1" and len(ev.title) == 255 and ev.unreadable == ""
    assert ev.attendees[0].email == "a@b.se" and ev.attendees[0].name == "N"
    ev.attendees.append(ExternalAttendee(email=LONG_ADDRESS))
    assert "longer than 254" in rules.clean_event(ev).unreadable


@every_provider
def test_overlong_address(provider):
    from calendar_sync.providers.base import ExternalAttendee, ExternalEvent

    ev = ExternalEvent(id="e", ical_uid="", title="", start=None, end=None)
    assert rules.overlong_address(ev) == ""
    ev.attendees = [ExternalAttendee(email=LONG_ADDRESS)]
    assert rules.overlong_address(ev) == LONG_ADDRESS
