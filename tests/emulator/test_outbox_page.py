"""The emulator's outbox: a browser reads it as a list of mails, API clients get JSON."""

from __future__ import annotations

import requests


def test_a_browser_reads_the_outbox_as_mails_and_clients_get_json(emulator):
    emulator.state.outbox_add(
        provider="google", sender="karl@exempel.se", recipient="Johan.Ek@acme.se",
        kind="invitation", subject="Offertgenomgång <b>", event_id="e1",
        body="Agenda: priser\nVälkommen!",
    )  # fmt: skip
    url = f"{emulator.url}/_emulator/outbox"
    page = requests.get(url, headers={"Accept": "text/html,*/*;q=0.8"}, timeout=10)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Outbox (1 mail)" in page.text
    assert "Offertgenomgång &lt;b&gt;" in page.text and "Offertgenomgång <b>" not in page.text
    assert "From karl@exempel.se to johan.ek@acme.se" in page.text
    assert "Agenda: priser\nVälkommen!" in page.text
    data = requests.get(url, timeout=10).json()["messages"]
    assert [m["subject"] for m in data] == ["Offertgenomgång <b>"]
    as_json = requests.get(
        url, params={"format": "json"}, headers={"Accept": "text/html"}, timeout=10
    )
    assert as_json.json()["messages"][0]["to"] == "johan.ek@acme.se"
