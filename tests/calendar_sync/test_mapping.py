"""Conversions that are not rules: answers, the event body, ids, video links."""

from __future__ import annotations

import pytest

from calendar_sync.sync import mapping


def test_response_for_maps_needs_action_to_no_answer():
    assert mapping.response_for("needs_action") == "no_answer"
    assert mapping.response_for("declined") == "declined"


def test_invitation_text():
    assert mapping.invitation_text("  Hej Anna!\n") == "Hej Anna!"
    assert mapping.invitation_text("") == ""


def test_import_agenda():
    assert mapping.import_agenda("\nAgenda: pris\n\n") == "Agenda: pris"
    assert mapping.import_agenda(None) == ""  # type: ignore[arg-type]


def test_idempotency_key_stable_and_google_safe():
    key = mapping.idempotency_key(7, 3)
    assert key == mapping.idempotency_key(7, 3) != mapping.idempotency_key(7, 4)
    assert set(key) <= set("0123456789abcdefghijklmnopqrstuv")
    assert 5 <= len(key) <= 1024


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://meet.google.com/abc-defg-hij", True),
        (
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_x%40thread.v2/0?context=%7b%7d",
            True,
        ),
        ("  https://meet.google.com/abc-defg-hij  ", True),
        ("HTTPS://MEET.GOOGLE.COM/abc", True),
        ("javascript:alert(document.domain)", False),
        ("JavaScript:alert(1)//https://meet.google.com/", False),
        ("  javascript:alert(1)", False),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", False),
        ("vbscript:msgbox(1)", False),
        ("http://meet.google.com/abc", False),
        ("//evil.example/x", False),
        ("https://", False),
        ("https:///path-only", False),
        ("https://[::1", False),
        ("https://meet.google.com/a\njavascript:alert(1)", False),
        ("https://meet.google.com/a\x00b", False),
        ("https://meet.google.com/" + "a" * 1000, False),
        ("", False),
        (None, False),
    ],
)
def test_safe_video_link(url, kept):
    expected = url.strip() if kept else ""
    assert mapping.safe_video_link(url) == expected


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://www.google.com/calendar/event?eid=abc", True),
        ("https://outlook.office365.com/owa/?itemid=AAMk%3D&exvsurl=1&path=/calendar/item", True),
        ("https://outlook.office365.com/owa/?itemid=" + "A" * 1500, True),  # longer than Meet's
        ("https://outlook.office365.com/owa/?itemid=" + "A" * 2100, False),
        ("javascript:alert(1)", False),
        ("http://www.google.com/calendar/event?eid=abc", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_web_link(url, kept):
    assert mapping.safe_web_link(url) == (url if kept else "")


def test_crm_id_from_idempotency_key():
    key = mapping.idempotency_key(7, 3)
    assert mapping.crm_id_from_idempotency_key(key, 3) == "7"
    assert mapping.crm_id_from_idempotency_key(key, 4) == ""  # another connection's
    assert mapping.crm_id_from_idempotency_key(key.replace("crm7v", "crm8v"), 3) == ""
    assert mapping.crm_id_from_idempotency_key("", 3) == ""
    assert mapping.crm_id_from_idempotency_key("appointment-7", 3) == ""
