"""``__any`` (upsales_crm.lookups): the same rows as ``__in``, one array parameter on
PostgreSQL, an IN list elsewhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext

from contacts.models import ContactEmail
from tests.factories import ContactFactory
from upsales_crm import lookups  # noqa: F401 - registers ``__any``

pytestmark = pytest.mark.django_db

ADDRESSES = ["anna@acme.se", "o'brien@x.se", "åsa@exempel.se", 'quo"te@x.se', "back\\slash@x.se"]


@pytest.fixture
def emails():
    for address in ADDRESSES:
        ContactEmail.objects.create(contact=ContactFactory(), email=address)


def test_any_finds_what_in_finds(emails):
    wanted = [*ADDRESSES[1:], *(f"nobody{i}@x.se" for i in range(3000)), None]
    with CaptureQueriesContext(connection) as queries:
        found = set(ContactEmail.objects.filter(email__any=wanted).values_list("email", flat=True))
    assert found == set(ADDRESSES[1:])
    assert found == set(
        ContactEmail.objects.filter(email__in=wanted[:-1]).values_list("email", flat=True)
    )
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert ("= ANY(" in sql) == (connection.vendor == "postgresql")


def test_any_on_an_expression_and_with_nothing_to_find(emails):
    rows = ContactEmail.objects.annotate(low=Lower("email"))
    assert list(rows.filter(low__any={"ANNA@ACME.SE".lower()}).values_list("email", flat=True)) == [
        "anna@acme.se"
    ]
    assert list(rows.filter(low__any=[])) == []
