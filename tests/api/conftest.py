from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.appointments.conftest import *  # noqa: F403 - the shared fixtures


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def as_organizer(organizer):
    return client_for(organizer)


@pytest.fixture
def as_participant(participant):
    return client_for(participant)


@pytest.fixture
def as_outsider(outsider):
    return client_for(outsider)
