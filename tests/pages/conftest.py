from __future__ import annotations

import pytest

from tests.factories import (
    AppointmentTypeFactory,
    CompanyFactory,
    ContactFactory,
    UserFactory,
)


@pytest.fixture
def rep(db):
    return UserFactory(first_name="Karl", last_name="Andersson", email="karl.andersson@exempel.se")


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def meeting_type(db):
    return AppointmentTypeFactory(name="Meeting")


@pytest.fixture
def company(db):
    return CompanyFactory(name="Kund AB", email_domains="kund.se")


@pytest.fixture
def contact(company):
    return ContactFactory(name="Johanna Svensson", company=company, emails=["johanna@kund.se"])
