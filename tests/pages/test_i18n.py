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
