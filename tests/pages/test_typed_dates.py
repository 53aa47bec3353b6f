"""Swedish pages ask for dates and times as typed text in the Swedish format (2026-12-07, 14:30):
a browser's own pickers follow the browser's locale, not the page's (appointments/widgets.py).
English pages keep the pickers. What is typed is read the Swedish way on the server."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from appointments.models import Appointment
from tests.factories import AppointmentFactory

pytestmark = pytest.mark.django_db
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def _input(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


def _swedish(client) -> None:
    client.post(reverse("set_language"), {"language": "sv"})


def test_a_swedish_form_asks_for_the_swedish_format_as_text(rep_client, rep, meeting_type):
    appointment = AppointmentFactory(
        organizer=rep, appointment_type=meeting_type,
        start=datetime(2030, 3, 4, 9, 30, tzinfo=STOCKHOLM),
        end=datetime(2030, 3, 4, 10, 45, tzinfo=STOCKHOLM),
    )  # fmt: skip
    _swedish(rep_client)
    html = rep_client.get(reverse("appointments:edit", args=[appointment.pk])).content.decode()
    date, start = _input(html, "date"), _input(html, "start_time")
    assert 'type="text"' in date and 'value="2030-03-04"' in date
    assert 'placeholder="ÅÅÅÅ-MM-DD"' in date and 'data-typed="date"' in date
    assert 'type="text"' in start and 'value="09:30"' in start
    assert 'placeholder="TT:MM"' in start
    assert 'value="10:45"' in _input(html, "end_time")
    listing = rep_client.get(reverse("appointments:list")).content.decode()
    assert 'type="text"' in _input(listing, "start")


def test_an_english_form_keeps_the_browsers_pickers(rep_client, rep, meeting_type):
    html = rep_client.get(reverse("appointments:create")).content.decode()
    assert 'type="date"' in _input(html, "date")
    assert 'type="time"' in _input(html, "start_time")
    assert "data-typed" not in html


@pytest.mark.parametrize(
    ("date", "start", "end"),
    [("2030-03-04", "09:30", "10:45"), ("20300304", "930", "10.45"), ("300304", "9:30", "1045")],
)
def test_a_swedish_booking_reads_what_swedes_type(rep_client, rep, meeting_type, date, start, end):
    _swedish(rep_client)
    data = {
        "title": "Genomgång", "appointment_type": meeting_type.pk,
        "date": date, "start_time": start, "end_time": end,
    }  # fmt: skip
    response = rep_client.post(reverse("appointments:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    appointment = Appointment.objects.get()
    assert appointment.start == datetime(2030, 3, 4, 9, 30, tzinfo=STOCKHOLM)
    assert appointment.end == datetime(2030, 3, 4, 10, 45, tzinfo=STOCKHOLM)


def test_a_swedish_date_that_cannot_be_read_says_so_and_keeps_what_was_typed(
    rep_client, meeting_type
):
    _swedish(rep_client)
    data = {
        "title": "Genomgång", "appointment_type": meeting_type.pk,
        "date": "4 mars", "start_time": "25:00", "end_time": "10:45",
    }  # fmt: skip
    response = rep_client.post(reverse("appointments:create"), data)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Fyll i ett giltigt datum." in html and "Fyll i en giltig tid." in html
    assert 'value="4 mars"' in _input(html, "date")
    assert not Appointment.objects.exists()
