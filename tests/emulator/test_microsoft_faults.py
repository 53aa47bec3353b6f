"""Faults on demand against Graph, seen through O365's connection (with and without its retries)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from requests import HTTPError


def _fault(emulator, **spec) -> None:
    resp = requests.post(
        f"{emulator.url}/_emulator/faults", json={"provider": "microsoft", **spec}, timeout=5
    )
    assert resp.status_code == 201, resp.text


def _count(emulator, endpoint: str) -> int:
    return emulator.state.request_summary()["by_endpoint"].get(f"microsoft {endpoint}", 0)


def test_429_with_retry_after(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com", request_retries=0)
    _fault(emulator, kind="429", endpoint="events.list", retry_after=7)
    with pytest.raises(HTTPError) as err:
        account.con.get(account.protocol.service_url + "me/events")
    resp = err.value.response
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "7"
    assert resp.json()["error"]["code"] == "TooManyRequests"
    assert account.con.get(account.protocol.service_url + "me/events").ok


def test_o365_retries_a_429_by_itself(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")  # O365's default: 3 retries honouring Retry-After
    _fault(emulator, kind="429", endpoint="events.list", retry_after=1)
    started = time.monotonic()
    assert account.con.get(account.protocol.service_url + "me/events").ok
    assert time.monotonic() - started >= 1
    assert _count(emulator, "GET events.list") == 2


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("403_rate_limit", 403, "ErrorAccessDenied"),
        ("500", 500, "generalException"),
        ("503", 503, "ServiceUnavailable"),
    ],
)
def test_error_faults(emulator, ms_o365, kind, status, code):
    account = ms_o365("rita.rep@contoso.com", request_retries=0)
    _fault(emulator, kind=kind, account="rita.rep@contoso.com", endpoint="calendarView")
    with pytest.raises(HTTPError) as err:
        account.con.get(
            account.protocol.service_url + "me/calendarView",
            params={"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-11-02T00:00:00Z"},
        )
    assert err.value.response.status_code == status
    assert err.value.response.json()["error"]["code"] == code
    if status == 503:
        assert "Retry-After" in err.value.response.headers


def test_fault_only_hits_its_account(emulator, ms_o365):
    carl = ms_o365("carl.customer@fabrikam.com", request_retries=0)
    _fault(emulator, kind="500", account="rita.rep@contoso.com")
    assert carl.con.get(carl.protocol.service_url + "me").ok


def test_delay_fault(emulator, ms_o365):
    account = ms_o365("rita.rep@contoso.com")
    _fault(emulator, kind="delay", delay=0.6, endpoint="me")
    started = time.monotonic()
    assert account.con.get(account.protocol.service_url + "me").ok
    assert time.monotonic() - started >= 0.6


def _subscribed(account, receiver):
    resp = account.con.post(
        account.protocol.service_url + "subscriptions",
        data={
            "changeType": "created,updated,deleted",
            "notificationUrl": receiver.url,
            "resource": "me/events",
            "expirationDateTime": (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),
            "clientState": "cs",
        },
    )
    assert resp.status_code == 201


def _touch(account, subject: str) -> None:
    account.con.post(
        account.protocol.service_url + "me/events",
        data={
            "subject": subject,
            "start": {"dateTime": "2026-11-25T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-25T11:00:00", "timeZone": "UTC"},
        },
    )


def test_drop_push(emulator, ms_o365, ms_receiver):
    account = ms_o365("rita.rep@contoso.com")
    _subscribed(account, ms_receiver)
    _fault(emulator, kind="drop_push")
    _touch(account, "lost")
    assert ms_receiver.wait_for(1, timeout=0.5) == []
    _touch(account, "delivered")
    assert len(ms_receiver.wait_for(1)) == 1
    outcomes = [d["outcome"] for d in emulator.state.push_log]
    assert "dropped" in outcomes


def test_duplicate_push(emulator, ms_o365, ms_receiver):
    account = ms_o365("rita.rep@contoso.com")
    _subscribed(account, ms_receiver)
    _fault(emulator, kind="duplicate_push")
    _touch(account, "twice")
    got = ms_receiver.wait_for(2)
    assert len(got) == 2 and got[0]["body"] == got[1]["body"]
