"""Graph subscriptions with a local receiver: validation handshake, notifications, renew, lifecycle."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from requests import HTTPError


def _expiry(minutes: int) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)).strftime(
        "%Y-%m-%dT%H:%M:%S.0000000Z"
    )


def _subscribe(account, receiver, **extra) -> requests.Response:
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": receiver.url,
        "resource": "me/events",
        "expirationDateTime": _expiry(60 * 24 * 2),
        "clientState": "secret-client-state",
        **extra,
    }
    return account.con.post(account.protocol.service_url + "subscriptions", data=body)


def _event(con, base, subject: str = "Hook me") -> dict:
    return con.post(
        base + "me/events",
        data={
            "subject": subject,
            "start": {"dateTime": "2026-11-25T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-25T11:00:00", "timeZone": "UTC"},
        },
    ).json()


def test_subscription_handshake_notifications_renew_delete(
    emulator, ms_o365, ms_receiver, ms_accounts
):
    rita = ms_o365("rita.rep@contoso.com")
    con, base = rita.con, rita.protocol.service_url
    resp = _subscribe(rita, ms_receiver)
    assert resp.status_code == 201
    sub = resp.json()
    assert ms_receiver.validations and ms_receiver.validations[0].startswith("Validation: ")
    assert sub["resource"] == "me/events" and sub["clientState"] == "secret-client-state"
    assert sub["changeType"] == "created,updated,deleted"
    assert sub["applicationId"] == "6731de76-14a6-49ae-97bc-6eba6914391e"
    assert sub["creatorId"] == ms_accounts["rep"].id

    before = dt.datetime.now(dt.UTC)
    ev = _event(con, base)
    got = ms_receiver.wait_for(1, timeout=1.0)
    assert len(got) == 1 and got[0]["at"] - before < dt.timedelta(seconds=1)
    note = got[0]["body"]["value"][0]
    assert note["subscriptionId"] == sub["id"] and note["changeType"] == "created"
    assert note["clientState"] == "secret-client-state"
    assert note["resource"] == f"Users/{ms_accounts['rep'].id}/Events/{ev['id']}"
    assert note["resourceData"]["id"] == ev["id"]
    assert note["resourceData"]["@odata.type"] == "#Microsoft.Graph.Event"
    assert note["resourceData"]["@odata.etag"] == ev["@odata.etag"]
    assert note["tenantId"] == ms_accounts["rep"].tenant_id
    assert "subscriptionExpirationDateTime" in note

    con.patch(base + f"me/events/{ev['id']}", data={"subject": "changed"})
    con.delete(base + f"me/events/{ev['id']}")
    got = ms_receiver.wait_for(3)
    assert [n["body"]["value"][0]["changeType"] for n in got] == ["created", "updated", "deleted"]

    # renew
    new_expiry = _expiry(60 * 24 * 5)
    renewed = con.patch(
        base + f"subscriptions/{sub['id']}", data={"expirationDateTime": new_expiry}
    )
    assert renewed.json()["expirationDateTime"][:16] == new_expiry[:16]
    listed = con.get(base + "subscriptions").json()["value"]
    assert [s["id"] for s in listed] == [sub["id"]]
    assert con.get(base + f"subscriptions/{sub['id']}").json()["id"] == sub["id"]

    assert con.delete(base + f"subscriptions/{sub['id']}").status_code == 204
    with pytest.raises(HTTPError) as err:
        con.get(base + f"subscriptions/{sub['id']}")
    assert err.value.response.status_code == 404
    _event(con, base, "after delete")
    assert len(ms_receiver.wait_for(4, timeout=0.5)) == 3


def test_attendee_mailbox_gets_its_own_notifications(emulator, ms_o365, ms_receiver):
    rita = ms_o365("rita.rep@contoso.com")
    carl = ms_o365("carl.customer@fabrikam.com")
    assert _subscribe(carl, ms_receiver, clientState="carl-state").status_code == 201
    rita.con.post(
        rita.protocol.service_url + "me/events",
        data={
            "subject": "Invite",
            "start": {"dateTime": "2026-11-25T10:00:00", "timeZone": "UTC"},
            "end": {"dateTime": "2026-11-25T11:00:00", "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": "carl.customer@fabrikam.com"}}],
        },
    )
    note = ms_receiver.wait_for(1)[0]["body"]["value"][0]
    assert note["changeType"] == "created" and note["clientState"] == "carl-state"


@pytest.mark.parametrize("mode", ["fail", "wrong", "json"])
def test_failing_handshake_is_a_400(emulator, ms_o365, ms_receiver, mode):
    rita = ms_o365("rita.rep@contoso.com")
    ms_receiver.mode = mode
    with pytest.raises(HTTPError) as err:
        _subscribe(rita, ms_receiver)
    assert err.value.response.status_code == 400
    error = err.value.response.json()["error"]
    assert error["code"] == "ValidationError"
    assert error["message"].startswith("Subscription validation request failed.")
    assert rita.con.get(rita.protocol.service_url + "subscriptions").json()["value"] == []


def test_unreachable_receiver_is_a_400(emulator, ms_o365):
    rita = ms_o365("rita.rep@contoso.com")

    class Nowhere:
        url = "http://127.0.0.1:9/nothing-listens-here"

    with pytest.raises(HTTPError) as err:
        _subscribe(rita, Nowhere)
    assert err.value.response.json()["error"]["code"] == "ValidationError"


def test_subscription_limits(emulator, ms_o365, ms_receiver):
    rita = ms_o365("rita.rep@contoso.com")
    with pytest.raises(HTTPError) as err:
        _subscribe(rita, ms_receiver, expirationDateTime=_expiry(10080 + 60))
    assert err.value.response.status_code == 400
    assert "10080 minutes" in err.value.response.json()["error"]["message"]
    with pytest.raises(HTTPError):
        _subscribe(rita, ms_receiver, clientState="x" * 129)
    with pytest.raises(HTTPError):
        _subscribe(rita, ms_receiver, changeType="created,exploded")
    assert _subscribe(rita, ms_receiver, expirationDateTime=_expiry(10070)).status_code == 201


def test_lifecycle_notifications(emulator, ms_o365, ms_receiver):
    rita = ms_o365("rita.rep@contoso.com")
    sub = _subscribe(rita, ms_receiver, lifecycleNotificationUrl=ms_receiver.lifecycle_url).json()
    assert len(ms_receiver.validations) == 2  # both URLs were validated
    assert sub["lifecycleNotificationUrl"] == ms_receiver.lifecycle_url
    hook = f"{emulator.url}/microsoft/_emulator/subscriptions/{sub['id']}/lifecycle"
    for n, event in enumerate(["reauthorizationRequired", "missed", "subscriptionRemoved"], 1):
        assert requests.post(hook, json={"event": event}, timeout=5).json()["sent"] is True
        got = ms_receiver.wait_for(n)
        assert got[-1]["path"] == "/graph/lifecycle"
        item = got[-1]["body"]["value"][0]
        assert item["lifecycleEvent"] == event and item["subscriptionId"] == sub["id"]
        assert item["clientState"] == "secret-client-state"
    with pytest.raises(HTTPError):
        rita.con.get(rita.protocol.service_url + f"subscriptions/{sub['id']}")
    assert requests.post(hook, json={"event": "missed"}, timeout=5).status_code == 404
