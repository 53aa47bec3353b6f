"""Settings → Exclusion list (server-rendered) and the admin's exclusion lists: who may change
what, the removal offer, and bad entries refused with a reason (never a 500)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment, AppointmentType
from calendar_sync import services
from calendar_sync.models import ExclusionEntry
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/settings/calendar/exclusions/"
ADMIN_URL = "/admin/calendar_sync/exclusionentry/"


@pytest.fixture
def rep():
    return UserFactory(email="karl.andersson@exempel.se")


@pytest.fixture
def rep_client(rep):
    client = Client()
    client.force_login(rep)
    return client


@pytest.fixture
def admin():
    user = UserFactory(email="admin@exempel.se", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_exclusionentry", "add_exclusionentry",
                                                 "view_exclusionentry", "delete_exclusionentry"])
    )  # fmt: skip
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def admin_client(admin):
    client = Client()
    client.force_login(admin)
    return client


def test_the_page_is_in_the_settings_menu(rep_client):
    assert reverse("calendar_sync:exclusions") == PAGE
    html = rep_client.get(reverse("settings_profile")).content.decode()
    assert f'href="{PAGE}"' in html


def test_a_rep_adds_an_entry_normalised(rep_client, rep):
    response = rep_client.post(PAGE, {"value": "  @LawFirm.TEST "}, follow=True)
    assert response.status_code == 200
    assert ExclusionEntry.objects.get().value == "@lawfirm.test"
    assert ExclusionEntry.objects.get().owner == rep
    html = response.content.decode()
    assert "@lawfirm.test was added." in html
    assert 'id="exclusions-personal"' in html


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b.test", "Null characters are not allowed."),
        ("x" * 300, "at most 254 characters"),
        ("@com", "is not a domain"),
        ("ceo@@client.test", "is not an e-mail address"),
    ],
)
def test_a_bad_entry_is_refused_with_a_reason(rep_client, value, reason):
    response = rep_client.post(PAGE, {"value": value})
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not ExclusionEntry.objects.exists()


def test_the_same_entry_twice_says_so(rep_client):
    rep_client.post(PAGE, {"value": "ceo@client.test"})
    response = rep_client.post(PAGE, {"value": "CEO@client.test"})
    assert response.status_code == 400
    assert "ceo@client.test is already on this list." in response.content.decode()


def test_a_rep_reads_the_organisation_list_without_editing_it(rep_client, rep, admin):
    entry = services.exclusion_add(actor=admin, value="*.bank.test", organisation=True)
    html = rep_client.get(PAGE).content.decode()
    assert "*.bank.test" in html and "Only an administrator can change it." in html
    assert reverse("calendar_sync:exclusion_delete", args=[entry.pk]) not in html
    assert 'name="organisation"' not in html
    # A forged "organisation" field is not there for a rep: the entry goes to their own list.
    rep_client.post(PAGE, {"value": "@x.test", "organisation": "1"})
    assert ExclusionEntry.objects.get(value="@x.test").owner == rep
    refused = rep_client.post(reverse("calendar_sync:exclusion_delete", args=[entry.pk]))
    assert refused.status_code == 403
    assert ExclusionEntry.objects.filter(pk=entry.pk).exists()


def test_a_rep_cannot_remove_another_reps_entry(rep_client):
    evas = services.exclusion_add(actor=UserFactory(), value="doktor@vard.test")
    assert "doktor@vard.test" not in rep_client.get(PAGE).content.decode()
    response = rep_client.post(reverse("calendar_sync:exclusion_delete", args=[evas.pk]))
    assert response.status_code == 404
    assert ExclusionEntry.objects.filter(pk=evas.pk).exists()


def test_an_admin_edits_the_organisation_list_on_the_page(admin_client):
    html = admin_client.get(PAGE).content.decode()
    assert "You can change it as an administrator." in html
    admin_client.post(PAGE, {"value": "@lawfirm.test", "organisation": "1"})
    entry = ExclusionEntry.objects.get()
    assert entry.owner is None
    admin_client.post(reverse("calendar_sync:exclusion_delete", args=[entry.pk]))
    assert not ExclusionEntry.objects.exists()


def test_adding_an_entry_offers_to_remove_what_it_excludes(rep_client, rep):
    kind = AppointmentType.objects.get_or_create(name="Kundmöte")[0]
    start = timezone.now() + dt.timedelta(days=2)
    for title, source in (("Privat", "google"), ("Bokat i CRM", "crm"), ("Båda", "google")):
        appointment = Appointment.objects.create(
            organizer=rep, title=title, appointment_type=kind, start=start,
            end=start + dt.timedelta(hours=1), source=source,
        )  # fmt: skip
        appointment.attendees.create(kind="external", email="doktor@vard.test")
    appointment.attendees.create(kind="external", email="kund@acme.test")  # on "Båda" only
    assert 'id="exclusions-logged"' not in rep_client.get(PAGE).content.decode()
    html = rep_client.post(PAGE, {"value": "@vard.test"}, follow=True).content.decode()
    assert "1 appointment already logged would not be logged now" in html
    assert "Privat" in html and "Bokat i CRM" not in html
    assert "Excluded people are taken off 1 other appointment logged from your calendar." in html
    done = rep_client.post(reverse("calendar_sync:exclusion_remove_logged"), follow=True)
    assert "1 appointment was removed from the CRM." in done.content.decode()
    assert "Excluded people were taken off 1 appointment." in done.content.decode()
    assert set(Appointment.objects.values_list("title", flat=True)) == {"Bokat i CRM", "Båda"}
    assert [a.email for a in Appointment.objects.get(title="Båda").attendees.all()] == [
        "kund@acme.test"
    ]
    assert 'id="exclusions-logged"' not in done.content.decode()


def test_admin_adds_checks_and_lists_entries(admin_client, rep):
    response = admin_client.post(f"{ADMIN_URL}add/", {"owner": "", "value": " *.Bank.test "})
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = ExclusionEntry.objects.get()
    assert (entry.value, entry.kind, entry.owner, entry.created_by.email) == (
        "*.bank.test", "subdomains", None, "admin@exempel.se",
    )  # fmt: skip
    again = admin_client.post(f"{ADMIN_URL}add/", {"owner": "", "value": "*.bank.test"})
    assert "This entry is already on this list." in again.content.decode()
    bad = admin_client.post(f"{ADMIN_URL}add/", {"owner": rep.pk, "value": "nul\x00.test"})
    assert bad.status_code == 200 and ExclusionEntry.objects.count() == 1
    listing = admin_client.get(f"{ADMIN_URL}?list=organisation").content.decode()
    assert "*.bank.test" in listing and "The organisation&#x27;s list" in listing
