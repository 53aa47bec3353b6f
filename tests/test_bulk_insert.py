"""upsales_crm.bulk: the importer's bulk writes (COPY / UNNEST on PostgreSQL, executemany and
multi-row INSERT ... RETURNING on SQLite) behave as the ORM's writes would, on either database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from appointments.models import Appointment, Attendee, AttendeeKind
from calendar_sync.models import CalendarConnection, EventLink, MeetingKey
from calendar_sync.sync.rows import EventLinkRow, MeetingKeyRow
from tests.factories import AppointmentTypeFactory, UserFactory
from upsales_crm.bulk import create_rows, insert_rows

pytestmark = pytest.mark.django_db


def _appointments(n: int) -> list[Appointment]:
    kind, rep = AppointmentTypeFactory(), UserFactory()
    start = timezone.now() + dt.timedelta(days=1)
    return [
        Appointment(title=f"Möte {i} – ’quoted’, \\ and \t tab", appointment_type=kind,
                    organizer=rep, start=start + dt.timedelta(hours=i),
                    end=start + dt.timedelta(hours=i, minutes=30), agenda="rad 1\nrad 2")
        for i in range(n)
    ]  # fmt: skip


def _link(conn: CalendarConnection, event_id: str, **values) -> EventLinkRow:
    defaults = dict(ical_uid=f"{event_id}@uid", series_id="", original_start=None, etag='"1"',
                    provider_updated=None, title="Möte", start=timezone.now(), synced_hash="h1",
                    crm_updated_at=None)  # fmt: skip
    return EventLinkRow(connection_id=conn.pk, provider_event_id=event_id,
                        **{**defaults, **values})  # fmt: skip


@pytest.fixture
def conn():
    user = UserFactory()
    return CalendarConnection.objects.create(user=user, provider="google", account_email=user.email)


def test_create_rows_sets_every_pk_in_order_with_the_stamps():
    # More rows than one SQLite statement of 999 variables holds (27 columns: 37 rows).
    new = _appointments(120)
    with CaptureQueriesContext(connection) as queries:
        create_rows(Appointment, new)
    assert len(queries.captured_queries) == 1
    assert len({a.pk for a in new}) == 120 and all(not a._state.adding for a in new)
    stored = {a.pk: a for a in Appointment.objects.filter(pk__in=[a.pk for a in new])}
    for made in new:
        row = stored[made.pk]
        assert (row.title, row.start, row.agenda) == (made.title, made.start, made.agenda)
        assert row.created_at == row.updated_at == made.created_at is not None


def test_plain_insert_is_one_statement_and_keeps_every_value():
    appointment = _appointments(1)[0]
    create_rows(Appointment, [appointment])
    users = UserFactory.create_batch(3)
    rows = [Attendee(appointment=appointment, kind=AttendeeKind.USER, user=u, name=f"Namn {i}")
            for i, u in enumerate(users)]  # fmt: skip
    rows.append(Attendee(appointment=appointment, kind=AttendeeKind.EXTERNAL, email="x@e.se"))
    with CaptureQueriesContext(connection) as queries:
        insert_rows(Attendee, rows)
    assert len(queries.captured_queries) == 1
    stored = Attendee.objects.filter(appointment=appointment).order_by("pk")
    assert [(a.kind, a.user_id, a.email, a.name) for a in stored] == [
        *((AttendeeKind.USER, u.pk, "", f"Namn {i}") for i, u in enumerate(users)),
        (AttendeeKind.EXTERNAL, None, "x@e.se", ""),
    ]


def test_upsert_updates_only_the_named_fields(conn):
    insert_rows(EventLink, [_link(conn, "a", crm_fingerprint="kept"), _link(conn, "b")])
    first = EventLink.objects.get(provider_event_id="a")
    later = [_link(conn, "a", synced_hash="h2", crm_fingerprint="ignored", title="Nytt"),
             _link(conn, "c", crm_attendees=["x@e.se", "y@e.se"])]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        insert_rows(EventLink, later, unique_fields=["connection", "provider_event_id"],
                    update_fields=["synced_hash", "title", "updated_at"])  # fmt: skip
    assert len(queries.captured_queries) == 1
    a = EventLink.objects.get(provider_event_id="a")
    assert (a.pk, a.synced_hash, a.title, a.crm_fingerprint) == (first.pk, "h2", "Nytt", "kept")
    assert a.created_at == first.created_at and a.updated_at > first.updated_at
    assert EventLink.objects.get(provider_event_id="c").crm_attendees == ["x@e.se", "y@e.se"]
    assert EventLink.objects.filter(connection=conn).count() == 3


def test_ignore_conflicts_keeps_the_first_claim():
    one, two = _appointments(2)
    create_rows(Appointment, [one, two])
    insert_rows(MeetingKey, [MeetingKeyRow("uid", "", one.pk)], ignore_conflicts=True)
    insert_rows(MeetingKey, [MeetingKeyRow("uid", "", two.pk), MeetingKeyRow("uid2", "", two.pk)],
                ignore_conflicts=True)  # fmt: skip
    assert dict(MeetingKey.objects.values_list("ical_uid", "appointment_id")) == {
        "uid": one.pk,
        "uid2": two.pk,
    }


def test_a_refused_row_raises_the_django_error_and_writes_nothing():
    """The engine's per-event fallback catches ``django.db.DatabaseError``: COPY and UNNEST
    raise it as any ORM write does."""
    bad = _appointments(3)
    bad[1].end = bad[1].start - dt.timedelta(hours=1)  # appt_end_after_start
    with pytest.raises(IntegrityError), transaction.atomic():
        create_rows(Appointment, bad)
    assert not Appointment.objects.filter(title__startswith="Möte").exists()
    appointment = _appointments(1)[0]
    create_rows(Appointment, [appointment])
    wrong = Attendee(appointment=appointment, kind=AttendeeKind.USER, user=None)  # check fails
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(Attendee, [wrong])
    assert not Attendee.objects.exists()


def test_build_makes_what_the_constructor_makes():
    from calendar_sync.models import SyncRun
    from upsales_crm.bulk import build

    def attrs(obj):
        return {k: v for k, v in vars(obj).items() if k != "_state"}

    values = dict(appointment_type_id=3, organizer_id=4, source="google", title="Möte")
    built = build(Appointment, **values)
    assert attrs(built) == attrs(Appointment(**values))
    assert built._state.adding and built._state.db is None and built.pk is None
    assert build(Appointment, title="Annat").title == "Annat" and built.title == "Möte"
    # A callable default (a dict per run) is never shared: the constructor runs.
    one, two = build(SyncRun, kind="full"), build(SyncRun, kind="full")
    assert one.skipped == {} and one.skipped is not two.skipped


def test_claim_rows_returns_the_claims_that_went_in():
    from upsales_crm.bulk import claim_rows

    one, two = _appointments(2)
    create_rows(Appointment, [one, two])
    insert_rows(MeetingKey, [MeetingKeyRow("taken", "", one.pk)], ignore_conflicts=True)
    rows = [MeetingKeyRow("taken", "", two.pk), MeetingKeyRow("free", "k", two.pk),
            MeetingKeyRow("free", "k", one.pk)]  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        won = claim_rows(MeetingKey, rows, ("ical_uid", "original_start_key", "appointment_id"))
    assert len(queries.captured_queries) == 1
    assert won == [("free", "k", two.pk)]  # the first of a page's two claims of one key
    assert dict(MeetingKey.objects.values_list("ical_uid", "appointment_id")) == {
        "taken": one.pk,
        "free": two.pk,
    }


def test_meeting_claims_are_read_back_only_when_one_was_lost():
    from calendar_sync.providers.base import ExternalEvent
    from calendar_sync.sync import meetings

    def event(event_id: str, uid: str) -> ExternalEvent:
        return ExternalEvent(id=event_id, ical_uid=uid, title="", start=None, end=None)

    first, second, third = _appointments(3)
    create_rows(Appointment, [first, second, third])
    with CaptureQueriesContext(connection) as queries:
        assert meetings.claim([(event("a", "uid-1"), first)]) == {}
    assert len(queries.captured_queries) == 1  # all won: nothing read back
    # Another import's claim, and the same meeting twice on one page: both lose to the first.
    lost = meetings.claim([(event("b", "uid-1"), second), (event("c", "uid-2"), second),
                           (event("d", "uid-2"), third)])  # fmt: skip
    assert lost == {"b": first.pk, "d": second.pk}


@settings(max_examples=200, deadline=None)
@given(
    value=st.datetimes(timezones=st.sampled_from([dt.UTC, ZoneInfo("Europe/Stockholm"),
                                                  ZoneInfo("America/St_Johns")]))
    | st.datetimes()
    | st.none()
)  # fmt: skip
def test_datetimes_reach_the_driver_as_django_hands_them(value):
    """The bulk writes' datetime preparation (a fast path on SQLite) is Django's, value for
    value: aware ones in any zone, naive ones, None."""
    from upsales_crm.bulk import _preparer

    prepare = _preparer(Appointment._meta.get_field("start"), connection)
    assert prepare is not None
    assert prepare(value) == connection.ops.adapt_datetimefield_value(value)


@pytest.mark.parametrize("model", [Attendee, EventLink, MeetingKey])
def test_a_first_imports_side_tables_carry_every_index_once(model):
    """A first import writes a row per event (or participant) into each of these tables, and
    every index with it: none repeats another or the first columns of a wider one."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    partial = {c.name for c in model._meta.constraints if getattr(c, "condition", None)}
    indexes = {
        name: tuple(c["columns"])
        for name, c in found.items()
        if (c["index"] or c["unique"]) and not c["primary_key"] and name not in partial
    }
    redundant = sorted(
        name for name, columns in indexes.items()
        if not found[name]["unique"]
        and any(other[: len(columns)] == columns for o, other in indexes.items() if o != name)
    )  # fmt: skip
    assert redundant == []
    assert not [name for name in found if name.endswith("_like")]  # PostgreSQL's LIKE twins
