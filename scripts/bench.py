"""Sync benchmark: provider requests, DB queries and time, against the provider emulator.

    python scripts/bench.py [--events 2500] [--connections 200] [--provider google|microsoft|both]
                            [--repeat 3] [--emulator process|thread]

Uses a fresh SQLite file (or DATABASE_URL), with DEBUG off as in production (queries are
counted by an execute wrapper, not logged). Scenarios, per provider:
  (a) the first import of N events in one calendar (best of --repeat runs, each a new rep),
  (b) an unchanged incremental sync of that calendar,
  (c) M connections with unchanged calendars, synced one after the other,
  (d) a bare bulk_create of the same N appointment rows (the floor; best of --repeat), and the
      ratio (a)/(d).

The provider is remote in reality, so by default the emulator runs in its own process: its
serving cost (and its in-memory calendars, which the garbage collector would otherwise walk) is
not ours. "provider" is the time spent waiting inside the adapters' HTTP calls (request sent,
answer served and read; parsing the JSON is ours), "ours" is wall minus provider. The ratio is
taken on our side's time, and printed on wall time too.

Memory: one more first import runs under tracemalloc (untimed) and its peak Python allocations
are printed, with the process's peak RSS.

Targets: (a) one Google page (Graph: pages of 200) and a number of DB queries per page
independent of the number of events (on SQLite Django splits bulk writes into 999-parameter
batches, so (a) grows by N/batch there; on PostgreSQL it is flat); our side of (a) at most 3x
(d); (b) exactly one provider request, no appointment writes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT_SECRET, REDIRECT_URI = "bench-secret", "http://127.0.0.1:9/cb/"


# --- the emulator's side (runs wherever the emulator runs) -------------------------------------
def grant(state, provider: str, email: str, scopes: list[str]) -> dict:  # noqa: ANN001
    """Register the bench client, create the account and run the code grant: the token body."""
    client_id = f"bench-{provider}"
    if client_id not in state.clients:
        state.client_register(
            provider=provider,
            client_id=client_id,
            client_secret=CLIENT_SECRET,
            redirect_uris=[REDIRECT_URI],
        )
    account = state.account_create(provider=provider, email=email)
    code = state.code_issue(
        provider=provider,
        client_id=client_id,
        account=account,
        scopes=scopes,
        redirect_uri=REDIRECT_URI,
    )
    _, body = state.code_exchange(
        provider=provider,
        client_id=client_id,
        client_secret=CLIENT_SECRET,
        code=code,
        redirect_uri=REDIRECT_URI,
    )
    return body


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


COMMANDS: dict[str, Callable[..., Any]] = {"grant": grant, "seed": seed}


def _emulator_process(pipe) -> None:  # noqa: ANN001
    """The child: an emulator on a free port, and a loop running COMMANDS on its state."""
    import logging

    from provider_emulator import EmulatorServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = EmulatorServer().start()
    pipe.send(server.url)
    while True:
        name, args = pipe.recv()
        if name == "stop":
            server.stop()
            pipe.send(None)
            return
        pipe.send(COMMANDS[name](server.state, *args))


class Emulator:
    """The emulator in a separate process (default) or in a thread of this one."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        if mode == "thread":
            from provider_emulator import EmulatorServer

            self.server = EmulatorServer().start()
            self.url = self.server.url
            return
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(
            target=_emulator_process, args=(child,), name="emulator", daemon=True
        )
        self.process.start()
        self.url = self.pipe.recv()

    def call(self, name: str, *args: Any) -> Any:
        if self.mode == "thread":
            return COMMANDS[name](self.server.state, *args)
        self.pipe.send((name, args))
        return self.pipe.recv()

    def stop(self) -> None:
        if self.mode == "thread":
            self.server.stop()
            return
        self.pipe.send(("stop", ()))
        self.pipe.recv()
        self.process.join(timeout=10)


# --- the CRM's side ----------------------------------------------------------------------------
def setup_django() -> None:
    if not os.environ.get("DATABASE_URL"):
        db = Path(tempfile.mkdtemp(prefix="bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "upsales_crm.settings_test")
    os.environ["DEBUG"] = "0"  # production-like: no query log (its SQLite quoting costs time)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def connect(emulator: Emulator, provider: str, user):  # noqa: ANN001, ANN201
    from django.utils import timezone

    from appointments.models import AppointmentType
    from calendar_sync.models import CalendarApp, CalendarConnection
    from calendar_sync.providers.registry import get_provider

    scopes = list(get_provider(provider).scopes)
    body = emulator.call("grant", provider, user.email, scopes)
    CalendarApp.objects.update_or_create(
        provider=provider,
        defaults={
            "installed": True,
            "client_id": f"bench-{provider}",
            "client_secret": CLIENT_SECRET,
        },
    )
    kind, _ = AppointmentType.objects.get_or_create(name="Bench")
    return CalendarConnection.objects.create(
        user=user,
        provider=provider,
        account_email=user.email,
        access_token=body["access_token"],
        refresh_token=body.get("refresh_token", ""),
        token_expires_at=timezone.now() + dt.timedelta(hours=1),
        appointment_type=kind,
        activated_at=timezone.now(),
    )


def measure(label: str, work: Callable[[], Any]) -> dict:
    """Wall time, queries and appointment writes of ``work``; the provider share comes from the
    syncs' summaries (``provider_seconds``) and is filled in by the caller."""
    from django.db import connection

    sql: list[str] = []

    def count(execute, query, params, many, context):  # noqa: ANN001, ANN202
        sql.append(query)
        return execute(query, params, many, context)

    with connection.execute_wrapper(count):
        t0 = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - t0
    writes = sum(
        1
        for s in sql
        if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
        and "appointments_appointment" in s
    )
    return {"label": label, "queries": len(sql), "appointment_writes": writes,
            "seconds": elapsed, "provider": 0.0, "result": result}  # fmt: skip


def ours(row: dict) -> float:
    return row["seconds"] - row["provider"]


def report(row: dict, *, requests: int | None = None, pages: int | None = None) -> None:
    extra = f"pages: {pages:>3}  " if pages is not None else " " * 12
    extra += f"provider requests: {requests:>4}" if requests is not None else " " * 23
    print(
        f"{row['label']:<40}{extra}  DB queries: {row['queries']:>5}  "
        f"appointment writes: {row['appointment_writes']:>4}  wall: {row['seconds']:6.3f}s  "
        f"provider: {row['provider']:6.3f}s  ours: {ours(row):6.3f}s"
    )


def summary_of(connection_id: int) -> dict:
    from calendar_sync.models import CalendarConnection

    return CalendarConnection.objects.get(pk=connection_id).last_sync_summary or {}


def sync(connection_id: int, *, full: bool = False):  # noqa: ANN201
    from calendar_sync.sync import engine

    return engine.sync_connection(connection_id, trigger="bench", full=full)


def rep(email: str):  # noqa: ANN201
    from tests.factories import UserFactory

    return UserFactory(email=email, username=email, sales_rep=False)


def first_import(emulator: Emulator, provider: str, events: int, run: int) -> tuple[dict, Any]:
    user = rep(f"bench.{provider}.{run}@exempel.se")
    conn = connect(emulator, provider, user)
    emulator.call("seed", provider, user.email, events)
    row = measure(f"(a) first import of {events} events", lambda: sync(conn.pk, full=True))
    row["summary"] = summary_of(conn.pk)
    row["provider"] = row["summary"].get("provider_seconds", 0.0)
    return row, conn


def memory_of_first_import(emulator: Emulator, provider: str, events: int) -> str:
    """Peak Python memory of one more first import, traced (tracing slows Python down, so this
    run is not one of the timed ones), and the process's peak resident set so far."""
    user = rep(f"bench.{provider}.memory@exempel.se")
    conn = connect(emulator, provider, user)
    emulator.call("seed", provider, user.email, events)
    tracemalloc.start()
    try:
        sync(conn.pk, full=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return (
        f"    memory: peak Python allocations during a first import of {events} events "
        f"{peak / 2**20:.1f} MiB ({peak / max(events, 1) / 1024:.1f} KiB per event); "
        f"process peak RSS so far {rss_mib:.0f} MiB"
    )


def best(rows: list[dict]) -> dict:
    return min(rows, key=ours)


def runs_note(rows: list[dict]) -> str:
    times = " ".join(f"{ours(r):.3f}" for r in rows)
    return f"    ours per run: {times} (median {statistics.median(ours(r) for r in rows):.3f}s)"


def bench_provider(emulator: Emulator, provider: str, args: argparse.Namespace) -> None:
    from appointments.models import Appointment

    print(f"\n== {provider}: {args.events} events, {args.connections} connections ==")
    a_rows, conns = [], []
    for run in range(args.repeat):
        row, conn = first_import(emulator, provider, args.events, run)
        a_rows.append(row)
        conns.append(conn)
    a = best(a_rows)
    conn = conns[a_rows.index(a)]
    report(a, requests=a["result"].provider_requests, pages=a["summary"].get("pages", 0))
    run = a["result"]
    print(f"    created {run.created}, skipped {run.skipped}, error {run.error or '-'}")
    print(runs_note(a_rows))

    print(memory_of_first_import(emulator, provider, args.events))

    b = measure("(b) unchanged incremental sync", lambda: sync(conn.pk))
    b["provider"] = summary_of(conn.pk).get("provider_seconds", 0.0)
    report(b, requests=b["result"].provider_requests, pages=summary_of(conn.pk).get("pages", 0))

    many = []
    for i in range(args.connections):
        many.append(connect(emulator, provider, rep(f"rep{i}.{provider}@exempel.se")))
        emulator.call("seed", provider, many[-1].account_email, 2)
    for c in many:
        sync(c.pk, full=True)

    def all_unchanged() -> int:
        return sum(sync(c.pk).provider_requests for c in many)

    c_row = measure(f"(c) {args.connections} connections, unchanged", all_unchanged)
    c_row["provider"] = sum(summary_of(c.pk).get("provider_seconds", 0.0) for c in many)
    report(c_row, requests=c_row["result"])

    organizer = conn.user
    template = list(Appointment.objects.filter(organizer=organizer)[: args.events])
    d_rows = []
    for _ in range(args.repeat):
        Appointment.objects.filter(organizer=organizer).delete()
        for obj in template:
            obj.pk = None
        d_rows.append(
            measure(
                f"(d) bare bulk_create of {len(template)} rows",
                lambda: Appointment.objects.bulk_create(template),
            )  # fmt: skip
        )
    d = best(d_rows)
    report(d)
    print(runs_note(d_rows))
    print(
        f"ratio (a)/(d), our side (wall minus waiting for the provider): "
        f"{ours(a) / max(ours(d), 1e-9):.1f}x  [on wall time: "
        f"{a['seconds'] / max(d['seconds'], 1e-9):.1f}x]; queries: {a['queries']}/{d['queries']}"
    )


def provider_ids() -> list[str]:
    from calendar_sync.providers.registry import PROVIDERS

    return list(PROVIDERS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2500)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--provider", choices=[*provider_ids(), "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="runs of (a) and (d); best shown")
    parser.add_argument("--emulator", choices=["process", "thread"], default="process")
    args = parser.parse_args()
    setup_django()
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from django.conf import settings

    emulator = Emulator(args.emulator)
    settings.CALENDAR_EMULATOR_URL = emulator.url
    where = "a separate process" if args.emulator == "process" else "a thread of this process"
    print(f"emulator in {where}; best of {args.repeat} runs for (a) and (d); "
          f"ratio on our side's time (wall minus provider wait)")  # fmt: skip
    try:
        providers = provider_ids() if args.provider == "both" else [args.provider]
        for provider in providers:
            bench_provider(emulator, provider, args)
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
