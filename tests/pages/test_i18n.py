"""The language switch in the top bar turns the pages Swedish."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_switching_to_swedish_renders_swedish(rep_client):
    calendar = reverse("appointments:calendar")
    response = rep_client.post(reverse("set_language"), {"language": "sv", "next": calendar})
    assert response["Location"] == calendar
    html = rep_client.get(calendar).content.decode()
    assert '<html lang="sv">' in html
    for text in ("Kalender", "Möten", "Företag", "Kontakter", "Nytt möte", "Kalendrar"):
        assert text in html, text
    assert "Calendars" not in html


def test_swedish_form_and_settings(rep_client):
    rep_client.post(reverse("set_language"), {"language": "sv"})
    form = rep_client.get(reverse("appointments:create")).content.decode()
    assert "Deltagande användare" in form and "Externa deltagare" in form
    profile = rep_client.get(reverse("settings_profile")).content.decode()
    assert "Min profil" in profile and "Tvåfaktorsautentisering" in profile


def test_switching_back_to_english(rep_client):
    rep_client.post(reverse("set_language"), {"language": "sv"})
    rep_client.post(reverse("set_language"), {"language": "en"})
    assert "New appointment" in rep_client.get(reverse("appointments:calendar")).content.decode()


def test_the_swedish_catalogue_is_complete_and_compiled():
    from pathlib import Path

    from django.conf import settings

    po = (Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.po").read_text("utf-8")
    assert (Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.mo").exists()
    # An untranslated entry is a msgid (not the header) followed by an empty msgstr.
    untranslated = re.findall(r'\nmsgid "(.+)"\nmsgstr ""\n\n', po)
    assert untranslated == []
    assert "#, fuzzy" not in po


def test_seeded_types_show_in_the_users_language(rep_client):
    from appointments.models import AppointmentType

    AppointmentType.objects.create(name="Phone call")
    AppointmentType.objects.create(name="Kundbesök")  # typed by an administrator: as typed
    form = rep_client.get(reverse("appointments:create")).content.decode()
    assert "Phone call" in form and "Kundbesök" in form
    rep_client.post(reverse("set_language"), {"language": "sv"})
    form = rep_client.get(reverse("appointments:create")).content.decode()
    assert "Telefonsamtal" in form and "Phone call" not in form and "Kundbesök" in form


def test_swedish_plurals_and_dates():
    import datetime as dt

    from django.template import Context, Template
    from django.utils import timezone
    from django.utils.translation import override

    template = Template(
        "{% load i18n %}{% blocktranslate count n=n %}{{ n }} event logged in the CRM"
        "{% plural %}{{ n }} events logged in the CRM{% endblocktranslate %} · "
        '{{ when|date:"DATETIME_FORMAT" }}'
    )
    when = dt.datetime(2026, 12, 4, 14, 0, tzinfo=dt.UTC)
    with override("sv"), timezone.override("UTC"):
        assert template.render(Context({"n": 1, "when": when})) == (
            "1 händelse loggad i CRM · fre 4 dec 2026 14:00"
        )
        assert template.render(Context({"n": 2, "when": when})).startswith("2 händelser loggade")
    with override("en"), timezone.override("UTC"):
        assert template.render(Context({"n": 1, "when": when})) == (
            "1 event logged in the CRM · Fri 4 Dec 2026 14:00"
        )
