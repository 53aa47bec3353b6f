"""`make run`: the whole product offline — provider emulator, a CalDAV server (Radicale), CRM web
server and a q2 worker.

Migrates, seeds the demo organisation once, installs the calendar apps against the emulator,
then runs the emulator (:8025), Radicale (:5232, storage in .radicale/, demo accounts with the
password ``demo-dav-pass-2024``), a django-q2 worker and the CRM (http://127.0.0.1:8000) until
Ctrl-C. Every setting can be overridden from the environment (see README).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
HOST = "127.0.0.1"
PORT = int(os.environ.get("CRM_PORT", "8000"))
EMU_PORT = int(os.environ.get("EMULATOR_PORT", "8025"))
EMU_STATE = os.environ.get("EMULATOR_STATE", ".emulator-state.json")
CALDAV_PORT = int(os.environ.get("CALDAV_PORT", "5232"))
CALDAV_STORAGE = os.environ.get("CALDAV_STORAGE", ".radicale")
CALDAV_PASSWORD = "demo-dav-pass-2024"  # noqa: S105 - the demo accounts' password (demo Radicale)
CALDAV_ACCOUNTS = ("karl.andersson@exempel.se", "eva.lind@exempel.se", "johan.ek@acme.se")

ENV = {
    "DEBUG": "1",
    "CALENDAR_EMULATOR_URL": f"http://{HOST}:{EMU_PORT}",
    "PUBLIC_BASE_URL": f"http://{HOST}:{PORT}",
    "DJANGO_SETTINGS_MODULE": "upsales_crm.settings",
    "PYTHONUNBUFFERED": "1",
}


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def available_commands() -> set[str]:
    out = subprocess.run(
        [PY, "manage.py", "help", "--commands"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return set(out.stdout.split())


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing is listening on {HOST}:{port} after {timeout}s")


def port_free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex((HOST, port)) != 0


def main() -> None:
    for key, value in ENV.items():
        os.environ.setdefault(key, value)
    for port in (PORT, EMU_PORT, CALDAV_PORT):
        if not port_free(port):
            raise SystemExit(f"port {port} is in use: stop whatever runs there first")

    procs: list[subprocess.Popen] = []

    def stop(*_: object) -> None:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "provider_emulator",
                    "--port",
                    str(EMU_PORT),
                    "--state",
                    EMU_STATE,
                ],
                cwd=ROOT,
            )
        )
        wait_for_port(EMU_PORT)
        accounts = [f"--account={a}:{CALDAV_PASSWORD}" for a in CALDAV_ACCOUNTS]
        procs.append(
            subprocess.Popen(
                [
                    PY,
                    "-m",
                    "provider_emulator.radicale_server",
                    "--port",
                    str(CALDAV_PORT),
                    "--storage",
                    CALDAV_STORAGE,
                    *accounts,
                ],
                cwd=ROOT,
            )  # fmt: skip
        )
        wait_for_port(CALDAV_PORT)
        manage("migrate", "--noinput", "-v", "0")
        if not os.environ.get("REDIS_URL"):
            manage("createcachetable")
        commands = available_commands()
        for cmd in ("seed_demo", "install_calendar_apps", "setup_schedules"):
            if cmd in commands:
                manage(cmd)
        procs.append(subprocess.Popen([PY, "manage.py", "qcluster"], cwd=ROOT))
        procs.append(
            subprocess.Popen(
                [PY, "manage.py", "runserver", f"{HOST}:{PORT}", "--noreload"], cwd=ROOT
            )
        )
        wait_for_port(PORT, timeout=60)
        print(
            f"""
  ────────────────────────────────────────────────────────────────────────────
   Upsales CRM demo is running
     CRM               http://{HOST}:{PORT}/   sign in: karl.andersson@exempel.se
                                                         password: demo-pass-2024
     Admin             http://{HOST}:{PORT}/admin/   admin@exempel.se / demo-pass-2024
     API docs          http://{HOST}:{PORT}/api/v1/docs/
     Provider emulator http://{HOST}:{EMU_PORT}/   (play the customer: open johan.ek@acme.se
                       and create an event inviting karl@exempel.se)
     CalDAV (Radicale) http://{HOST}:{CALDAV_PORT}/   accounts {", ".join(CALDAV_ACCOUNTS[:2])}
                       password {CALDAV_PASSWORD}
   Connect a calendar: gear icon → My Profile → Google Calendar → Activate
   (CalDAV calendar → Activate: server http://{HOST}:{CALDAV_PORT}/, the password above).
   Ctrl-C stops everything.
  ────────────────────────────────────────────────────────────────────────────
""",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a process stopped; shutting down", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop()


if __name__ == "__main__":
    main()
