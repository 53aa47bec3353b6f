from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from appointments.models import Appointment
from contacts.selectors import users_by_emails

pytestmark = pytest.mark.django_db

MODELS = [
    "auth.User",
    "auth.Group",
    "account.EmailAddress",
    "contacts.Company",
    "contacts.Contact",
    "contacts.ContactEmail",
    "appointments.AppointmentType",
    "appointments.Appointment",
    "appointments.Attendee",
]


def _state() -> dict:
    counts = {m: apps.get_model(m).objects.count() for m in MODELS}
    stamps = list(Appointment.objects.order_by("pk").values_list("pk", "updated_at", "outcome"))
    return {"counts": counts, "appointments": stamps}


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    first = _state()
    call_command("seed_demo")
    assert _state() == first
    assert "demo-pass-2024" in capsys.readouterr().out


def test_seed_demo_creates_reps_with_aliases_and_a_superuser():
    call_command("seed_demo")
    User = get_user_model()
    karl = User.objects.get(email="karl.andersson@exempel.se")
    assert not karl.is_staff and not karl.is_superuser
    assert karl.check_password("demo-pass-2024")
    assert set(karl.groups.values_list("name", flat=True)) == {"Sales reps", "Stockholm"}
    assert users_by_emails(["KARL@sthlm.exempel.se"]) == {"karl@sthlm.exempel.se": karl}
    assert EmailAddress.objects.filter(user=karl).count() == 3
    admin = User.objects.get(email="admin@exempel.se")
    assert admin.is_superuser and admin.is_staff


def test_seed_demo_books_past_and_upcoming_appointments_for_both_reps():
    from django.utils import timezone

    call_command("seed_demo")
    now = timezone.now()
    for email in ("karl.andersson@exempel.se", "eva.lind@exempel.se"):
        mine = Appointment.objects.filter(organizer__email=email)
        assert mine.filter(end__lt=now).exclude(outcome="planned").exists()
        assert mine.filter(start__gt=now).exists()
