"""Sync benchmark: provider requests, DB queries and wall time against an in-process emulator.

    python scripts/bench.py [--events 2500] [--connections 200] [--provider google]

Uses a fresh SQLite file (or DATABASE_URL). Scenarios:
  (a) the first import of N events in one calendar,
  (b) an unchanged incremental sync of that calendar,
  (c) M connections with unchanged calendars, synced one after the other,
  (d) a bare bulk_create of the same N appointment rows (the floor), and the ratio (a)/(d).
Targets: (a) one Google page and a number of DB queries per page independent of the number of
events (on SQLite Django splits bulk writes into 999-parameter batches, so (a) grows by
N/batch there; on PostgreSQL it is flat); (b) exactly one provider request, no appointment writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        db = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "upsales_crm.settings_test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def connect(state, provider: str, email: str, user):  # noqa: ANN001, ANN201
    from django.utils import timezone

    from appointments.models import AppointmentType
    from calendar_sync.conf import GOOGLE_SCOPES, MICROSOFT_SCOPES
    from calendar_sync.models import CalendarApp, CalendarConnection

    client_id, secret, redirect = f"bench-{provider}", "bench-secret", "http://127.0.0.1:9/cb/"
    if client_id not in state.clients:
        state.client_register(
            provider=provider, client_id=client_id, client_secret=secret, redirect_uris=[redirect]
        )
    CalendarApp.objects.update_or_create(
        provider=provider,
        defaults={"installed": True, "client_id": client_id, "client_secret": secret},
    )
    account = state.account_create(provider=provider, email=email)
    scopes = GOOGLE_SCOPES if provider == "google" else MICROSOFT_SCOPES
    code = state.code_issue(
        provider=provider,
        client_id=client_id,
        account=account,
        scopes=scopes,
        redirect_uri=redirect,
    )
    _, body = state.code_exchange(
        provider=provider,
        client_id=client_id,
        client_secret=secret,
        code=code,
        redirect_uri=redirect,
    )
    kind, _ = AppointmentType.objects.get_or_create(name="Bench")
    return CalendarConnection.objects.create(
        user=user,
        provider=provider,
        account_email=email,
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", ""),
        token_expires_at=timezone.now() + dt.timedelta(hours=1),
        appointment_type=kind,
        activated_at=timezone.now(),
    )


def seed(state, provider: str, email: str, count: int) -> None:  # noqa: ANN001
    """Events straight into the emulator's store, as the rep, each with one external guest."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Europe/Stockholm")
    store = state.stores[provider]
    account = state.account_find(provider, email)
    first = dt.datetime.now(tz).replace(hour=8, minute=0, second=0, microsecond=0)
    for i in range(count):
        start = first + dt.timedelta(days=1 + i % 80, minutes=15 * (i % 36))
        end = start + dt.timedelta(minutes=30)
        guest = f"kund{i}@extern{i % 50}.se"
        if provider == "google":
            cal = store.resolve_calendar(account, "primary")
            body = {
                "summary": f"Möte {i}",
                "start": {"dateTime": start.isoformat(), "timeZone": "Europe/Stockholm"},
                "end": {"dateTime": end.isoformat(), "timeZone": "Europe/Stockholm"},
                "attendees": [{"email": guest}],
            }
            store.insert_event(account, cal, body, send_updates="none")
        else:
            store.demo_create_event(
                account, title=f"Möte {i}", start=start, end=end, attendees=[guest]
            )


def measure(label: str, work):  # noqa: ANN001, ANN201
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # the log is capped at 9000 entries: start each scenario empty
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - t0
    sql = [q["sql"] for q in queries.captured_queries]
    writes = sum(
        1
        for s in sql
        if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "appointments_appointment" in s
    )
    return {"label": label, "queries": len(sql), "appointment_writes": writes,
            "seconds": elapsed, "result": result}  # fmt: skip


def report(row: dict, requests: int | None = None) -> None:
    extra = f"  provider requests: {requests:>5}" if requests is not None else " " * 25
    print(
        f"{row['label']:<46}{extra}  DB queries: {row['queries']:>6}  "
        f"appointment writes: {row['appointment_writes']:>5}  wall: {row['seconds']:7.3f}s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2500)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--provider", choices=["google", "microsoft"], default="google")
    args = parser.parse_args()
    setup_django()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from django.conf import settings

    from appointments.models import Appointment
    from calendar_sync.sync import engine
    from provider_emulator import EmulatorServer
    from tests.factories import UserFactory

    server = EmulatorServer().start()
    settings.CALENDAR_EMULATOR_URL = server.url
    provider, state = args.provider, server.state
    try:
        rep = UserFactory(email="bench.rep@exempel.se", username="bench.rep@exempel.se",
                          sales_rep=False)  # fmt: skip
        conn = connect(state, provider, rep.email, rep)
        seed(state, provider, rep.email, args.events)
        print(f"provider: {provider}, events: {args.events}, connections: {args.connections}")

        def sync(pk: int, full: bool = False):  # noqa: ANN202
            return engine.sync_connection(pk, trigger="bench", full=full)

        a = measure(f"(a) first import of {args.events} events", lambda: sync(conn.pk, True))
        report(a, a["result"].provider_requests)
        run = a["result"]
        print(f"    created {run.created}, skipped {run.skipped}, error {run.error or '-'}")
        b = measure("(b) unchanged incremental sync", lambda: sync(conn.pk))
        report(b, b["result"].provider_requests)

        conns = []
        for i in range(args.connections):
            user = UserFactory(email=f"rep{i}@exempel.se", username=f"rep{i}@exempel.se",
                               sales_rep=False)  # fmt: skip
            conns.append(connect(state, provider, user.email, user))
            seed(state, provider, user.email, 2)
        for c in conns:
            sync(c.pk, True)

        def all_unchanged() -> int:
            return sum(sync(c.pk).provider_requests for c in conns)

        c_row = measure(f"(c) {args.connections} connections, unchanged", all_unchanged)
        report(c_row, c_row["result"])

        template = list(Appointment.objects.filter(organizer=rep)[: args.events])
        Appointment.objects.filter(organizer=rep).delete()
        for obj in template:
            obj.pk = None

        d = measure(f"(d) bare bulk_create of {len(template)} rows",
                    lambda: Appointment.objects.bulk_create(template))  # fmt: skip
        report(d)
        print(f"ratio (a)/(d) wall time: {a['seconds'] / max(d['seconds'], 1e-9):.1f}x; "
              f"queries: {a['queries']}/{d['queries']}")  # fmt: skip
    finally:
        server.stop()


if __name__ == "__main__":
    main()
