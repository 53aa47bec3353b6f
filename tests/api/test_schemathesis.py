"""The API keeps the promises of its OpenAPI schema: schemathesis generates requests for every
operation (valid and invalid input), sends them with a real token through Django's WSGI app, and
fails on any 5xx or on a response that does not match the schema. Bounded: a few examples per
operation, no deadline, so the whole file runs in well under two minutes."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from appointments.models import Appointment, AppointmentType
from calendar_sync.models import (
    CalendarConnection,
    EventLink,
    ExclusionEntry,
    ExportFailure,
    SyncRun,
)
from contacts.models import Company, Contact
from contacts.services import api_token_create_or_rotate
from tests.factories import AppointmentTypeFactory, CompanyFactory, ContactFactory, UserFactory

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
EXAMPLES_PER_OPERATION = 6

# Examples from the schema, then generated (valid and invalid) requests; the coverage phase's
# exhaustive edge cases are left out to keep the run short. A fixed seed: the same cases each run.
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 20261201,
        "phases": {"coverage": {"enabled": False}},
        "generation": {"max-examples": EXAMPLES_PER_OPERATION},
    }
)
# The schema the API serves at /api/v1/schema/, built the same way (no request, no database).
schema = schemathesis.openapi.from_dict(
    SchemaGenerator().get_schema(request=None, public=True), config=CONFIG
)
schema.app = get_wsgi_application()


@pytest.fixture
def keep_test_connection():
    """Django's WSGI handler closes the database connection after each request (as a server
    should); inside a test that would close the test's transaction (PostgreSQL), so the app is
    called as Django's own test client calls it."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(db, keep_test_connection):
    """A rep with a token and a bit of everything, so lists return rows to check."""
    rep = UserFactory(email="karl.andersson@exempel.se", is_staff=True)
    kind = AppointmentTypeFactory(name="Kundmöte")
    company = CompanyFactory(name="Acme Sverige AB", email_domains="acme.se")
    contact = ContactFactory(name="Johan Ek", company=company, emails=["johan.ek@acme.se"])
    start = timezone.now() + dt.timedelta(days=2)
    appointment = Appointment.objects.create(
        organizer=rep, title="Demo", appointment_type=kind, start=start,
        end=start + dt.timedelta(hours=1), company=company,
    )  # fmt: skip
    appointment.attendees.create(kind="contact", contact=contact, email="johan.ek@acme.se")
    # Parked, so nothing here calls a provider (no emulator in this file).
    connection = CalendarConnection.objects.create(
        user=rep, provider="google", account_email=rep.email, appointment_type=kind,
        activated_at=timezone.now(), state="needs_reconnect", last_error="revoked",
        last_sync_at=timezone.now(), last_sync_summary={"fetched": 2, "skipped": {"x": 1}},
    )  # fmt: skip
    EventLink.objects.create(
        connection=connection, appointment=appointment, provider_event_id="e1",
        ical_uid="e1@google.com", web_link="https://www.google.com/calendar/event?eid=ZTE",
        crm_updated_at=timezone.now(),
    )  # fmt: skip
    EventLink.objects.create(
        connection=connection, provider_event_id="e2", title="Intern", start=start,
        skip_reason="only_internal",
    )  # fmt: skip
    ExportFailure.objects.create(
        appointment=appointment, connection=connection, crm_updated_at=timezone.now(),
        error="HttpError 500", failed_at=timezone.now(),
    )  # fmt: skip
    SyncRun.objects.create(
        connection=connection, kind="full", trigger="activation", started_at=timezone.now(),
        finished_at=timezone.now(), fetched=2, skipped={"only_internal": 1},
    )  # fmt: skip
    ExclusionEntry.objects.create(owner=rep, value="@advokat.test", kind="domain")
    ExclusionEntry.objects.create(owner=None, value="*.bank.test", kind="subdomains")
    return {"Authorization": f"Token {api_token_create_or_rotate(user=rep)}"}


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_api_matches_its_schema(case, world):
    case.call_and_validate(headers=world, checks=CHECKS)


def test_every_read_with_real_rows_matches_the_schema(world):
    """The fuzzer's ids rarely exist: read each list and each object with real rows too."""
    statuses = {}
    for path, item in schema.raw_schema["paths"].items():
        if "get" not in item or "{" in path.replace("{id}", ""):
            continue
        operation = schema.find_operation_by_path("GET", path)
        for ids in _ids(path):
            case = operation.Case(path_parameters=ids)
            response = case.call_and_validate(headers=world, checks=CHECKS)
            statuses[case.formatted_path] = response.status_code
    assert len(statuses) == 19 and set(statuses.values()) == {200}, statuses


def _ids(path: str) -> list[dict]:
    return [{"id": pk} for pk in _pks(path)] if "{id}" in path else [{}]


def _pks(path: str) -> list[int]:
    models = {
        "/api/v1/appointments/": Appointment,
        "/api/v1/appointment-types/": AppointmentType,
        "/api/v1/calendar-connections/": CalendarConnection,
        "/api/v1/companies/": Company,
        "/api/v1/contacts/": Contact,
        "/api/v1/exclusions/": ExclusionEntry,
    }
    prefix = "/".join(path.split("/")[:4]) + "/"
    return list(models[prefix].objects.values_list("pk", flat=True))
