"""The product as `make run` starts it: real processes (emulator, q2 worker, CRM server), no
inline tasks. A customer creates an event on the emulator's demo page inviting a rep; the
provider's push reaches the CRM webhook, the worker syncs, and the meeting appears in the CRM
— with nobody running a command."""

from __future__ import annotations

import datetime as dt
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

ROOT = Path(__file__).resolve().parent.parent
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class DemoStack:
    def __init__(self, tmp: Path) -> None:
        self.crm_port, self.emu_port = free_port(), free_port()
        self.db = tmp / "demo.sqlite3"
        self.crm = f"http://127.0.0.1:{self.crm_port}"
        self.emu = f"http://127.0.0.1:{self.emu_port}"
        drop = {"DJANGO_ALLOW_ASYNC_UNSAFE", "DATABASE_URL", "Q_SYNC"}
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env.update(
            DJANGO_SETTINGS_MODULE="upsales_crm.settings",
            DEBUG="1",
            DATABASE_URL=f"sqlite:///{self.db}",
            CRM_PORT=str(self.crm_port),
            EMULATOR_PORT=str(self.emu_port),
            EMULATOR_STATE=str(tmp / "emulator.json"),
            CALENDAR_EMULATOR_URL=self.emu,
            PUBLIC_BASE_URL=self.crm,
            Q_WORKERS="1",
        )
        self.output: list[str] = []
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "scripts/run_demo.py"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError("make run exited:\n" + "".join(self.output))
            return any("demo is running" in line for line in self.output)

        wait_for(up, 180, "make run")

    def _read(self) -> None:
        assert self.proc and self.proc.stdout
        for line in self.proc.stdout:
            self.output.append(line)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def manage(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert out.returncode == 0, out.stdout + out.stderr
        return out.stdout

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with sqlite3.connect(self.db, timeout=20) as conn:
            return conn.execute(sql, params).fetchall()

    def log_tail(self) -> str:
        return "".join(self.output[-60:])


def test_a_customer_invitation_appears_in_the_crm_by_push_with_real_processes(tmp_path):
    stack = DemoStack(tmp_path)
    stack.start()
    try:
        reps = [
            ("karl.andersson@exempel.se", "google", "johan.ek@acme.se", "karl@exempel.se"),
            (
                "eva.lind@exempel.se",
                "microsoft",
                "anna.berg@nordisklogistik.se",
                "eva.lind@exempel.se",
            ),
        ]
        for rep, provider, *_ in reps:
            stack.manage(
                "connect_calendar",
                "--user",
                rep,
                "--provider",
                provider,
                "--account",
                rep,
                "--appointment-type",
                "Meeting",
            )
        # The worker runs the activation (first import/export, push channel) by itself.
        wait_for(
            lambda: (
                stack.query(
                    "SELECT count(*) FROM calendar_sync_calendarconnection "
                    "WHERE state = 'active' AND last_sync_at IS NOT NULL AND channel_id != ''"
                )[0][0]
                == 2
            ),
            90,
            "both activations to finish in the worker:\n" + stack.log_tail(),
        )
        pushes_before = len(
            requests.get(f"{stack.emu}/_emulator/push-log", timeout=10).json()["deliveries"]
        )
        day = (dt.datetime.now(STOCKHOLM) + dt.timedelta(days=2)).date().isoformat()
        for rep, provider, customer, invited in reps:
            title = f"Offer review with {customer}"
            resp = requests.post(
                f"{stack.emu}/_emulator/demo/{provider}/{customer}/events",
                data={
                    "title": title,
                    "date": day,
                    "start": "13:00",
                    "end": "14:00",
                    "attendees": invited,
                    "location": "Teams",
                    "description": "Prices",
                },
                allow_redirects=False,
                timeout=10,
            )
            assert resp.status_code == 303, resp.text
            row = wait_for(
                lambda title=title: stack.query(
                    "SELECT a.id, a.source, a.locked, u.email FROM appointments_appointment a "
                    "JOIN auth_user u ON u.id = a.organizer_id WHERE a.title = ?",
                    (title,),
                ),
                30,
                f"the {provider} invitation to reach the CRM:\n" + stack.log_tail(),
            )
            appt_id, source, locked, organizer = row[0]
            assert (source, bool(locked), organizer) == (provider, True, rep)
            contacts = stack.query(
                "SELECT e.email FROM appointments_attendee t JOIN contacts_contactemail e "
                "ON e.contact_id = t.contact_id WHERE t.appointment_id = ?",
                (appt_id,),
            )
            assert (customer,) in contacts
        # It came by push: the emulator delivered change notifications to the CRM's webhooks,
        # and the CRM acknowledged them.
        deliveries = requests.get(f"{stack.emu}/_emulator/push-log", timeout=10).json()[
            "deliveries"
        ]
        hooks = [
            d
            for d in deliveries[pushes_before:]
            if d["url"].startswith(f"{stack.crm}/webhooks/calendar/")
            and d["outcome"].startswith("2")
        ]
        seen = [(d["provider"], d["url"], d["kind"], d["outcome"]) for d in deliveries]
        assert {d["provider"] for d in hooks} == {"google", "microsoft"}, (stack.crm, seen)
        # And the rep sees it through the running web server (API with a token).
        token = stack.manage("drf_create_token", "karl.andersson@exempel.se").split()[2]
        listing = requests.get(
            f"{stack.crm}/api/v1/appointments/",
            params={"start": f"{day}T00:00:00Z", "end": f"{day}T23:59:59Z"},
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        )
        assert listing.status_code == 200, listing.text
        titles = [a["title"] for a in listing.json()["results"]]
        assert "Offer review with johan.ek@acme.se" in titles
        # A person at http://127.0.0.1:<port>/ gets the sign-in page; the demo rep signs in and
        # sees the demo appointments (and the synced one) in the calendar.
        browser = requests.Session()
        first = browser.get(stack.crm + "/", timeout=10)
        assert first.url.startswith(stack.crm + "/accounts/login/"), first.url
        signed_in = browser.post(
            first.url,
            data={
                "login": "karl.andersson@exempel.se",
                "password": "demo-pass-2024",
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            headers={"Referer": first.url},
            timeout=10,
        )
        assert signed_in.url.startswith(stack.crm + "/calendar/"), signed_in.url
        tomorrow = (dt.datetime.now(STOCKHOLM) + dt.timedelta(days=1)).date()

        def titles(first) -> list[str]:  # the calendar page's feed, for one day
            first = dt.date.fromisoformat(str(first))
            span = {"start": f"{first}T00:00:00", "end": f"{first + dt.timedelta(days=1)}T00:00:00"}
            feed = browser.get(stack.crm + "/calendar/events/", params=span, timeout=10)
            return [e["title"] for e in feed.json()]

        assert "Demo av kalenderintegration" in titles(tomorrow)  # seed_demo puts it tomorrow
        assert "Offer review with johan.ek@acme.se" in titles(day)
    finally:
        stack.stop()
