"""A locked invitation says who invited in the reader's language: the appointment stores the
part (``lock_invited_by``), the detail page, the form's read-only reason, the API and the
calendar feed say it; rows stored as English text before move over (migration 0008)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from django.utils import timezone, translation

from appointments.models import Appointment
from tests.factories import AppointmentFactory, AppointmentTypeFactory, UserFactory

ENGLISH = "Invited by kund@acme.se: only the organizer can change it"
SWEDISH = "Inbjuden av kund@acme.se: bara organisatören kan ändra det"


@pytest.fixture
def invitation(db):
    rep = UserFactory(email="karl.andersson@exempel.se")
    return AppointmentFactory(
        organizer=rep, locked=True, lock_invited_by="kund@acme.se",
        start=timezone.now() + timedelta(days=2), end=timezone.now() + timedelta(days=2, hours=1),
    )  # fmt: skip


def test_the_reason_is_said_in_the_readers_language(invitation):
    with translation.override("en"):
        assert invitation.lock_reason_text == ENGLISH
    with translation.override("sv"):
        assert invitation.lock_reason_text == SWEDISH
    invitation.lock_invited_by, invitation.lock_reason = "", "a note written by hand"
    with translation.override("sv"):
        assert invitation.lock_reason_text == "a note written by hand"


@pytest.mark.parametrize(("language", "reason"), [("en", ENGLISH), ("sv", SWEDISH)])
def test_the_pages_and_the_api_say_the_reason_in_the_readers_language(
    client, invitation, language, reason
):
    client.force_login(invitation.organizer)
    client.post(reverse("set_language"), {"language": language})
    detail = client.get(reverse("appointments:detail", args=[invitation.pk])).content.decode()
    assert reason in detail
    form = client.get(reverse("appointments:edit", args=[invitation.pk])).context["form"]
    assert reason in form.readonly_reasons["location"]
    api = client.get(f"/api/v1/appointments/{invitation.pk}/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert api["lock_reason"] == reason
    other = ENGLISH if language == "sv" else SWEDISH
    assert other not in detail


@pytest.mark.django_db(transaction=True)
def test_reasons_stored_as_english_text_move_to_their_part_and_back():
    before, after = (
        [("appointments", "0007_appointment_private")],
        [("appointments", "0008_lock_invited_by")],
    )
    rep, kind = UserFactory(), AppointmentTypeFactory()
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("appointments", "Appointment")
    start = timezone.now()
    common = {"organizer_id": rep.pk, "appointment_type_id": kind.pk, "start": start,
              "end": start + timedelta(hours=1), "locked": True}  # fmt: skip
    invited = old.objects.create(title="a", lock_reason=ENGLISH, **common).pk
    by_hand = old.objects.create(title="b", lock_reason="Invited by phone", **common).pk

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    row = Appointment.objects.get(pk=invited)
    assert (row.lock_invited_by, row.lock_reason) == ("kund@acme.se", "")
    with translation.override("sv"):
        assert row.lock_reason_text == SWEDISH
    kept = Appointment.objects.get(pk=by_hand)
    assert (kept.lock_invited_by, kept.lock_reason) == ("", "Invited by phone")

    executor = MigrationExecutor(connection)
    executor.migrate(before)
    assert old.objects.get(pk=invited).lock_reason == ENGLISH
    executor = MigrationExecutor(connection)
    executor.migrate(after)
