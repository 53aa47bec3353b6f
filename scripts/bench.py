"""Sync benchmark: what one rep's calendar costs, against the provider emulator in its own process.

    make bench                      # everything below; BENCH_QUICK=1 leaves out the biggest sizes
    python scripts/bench.py [--rounds 3] [--sizes 250,2500,10000] [--fleet 100,1000,5000]
                            [--only import,poll,fleet,rss]

The database follows DATABASE_URL: on PostgreSQL a throw-away database is created on that server
(and dropped); without it, a temporary SQLite file. REDIS_URL, when set, is the broker and cache
(as in production). Settings are production's (DEBUG off). The machine may be shared: every
figure is wall time on this machine as it was, so read the ratios, which compare runs made
side by side in the same loop.

Sections (the targets of issue 12 are printed next to each figure):
  import  first import of N events vs a bare ``bulk_create`` of the same appointment rows, the
          two interleaved round by round, and the providers' rounds in turn (each meets tables
          of the same size); wall time, the provider's wait apart, min/median;
          the ratio is each round's import over the bulk_create run right after it (min/median
          of those pairs: a slow moment of the machine weighs on both sides of a pair); sizes
          under 2,500 run more rounds (--rounds x 2,500/N, at most 10x: their figures are
          tens of milliseconds); "ours" is the wall time less all of the provider's wait (from
          the second page on, pages are read while the one before is imported, so with
          several pages it is a lower bound); target: import <= 3x the bulk_create (wall).
  poll    one unchanged sync through the task as a worker runs it (q2's task wrapper and
          result saving included): provider requests, DB queries, rows written, CPU; targets:
          1 request, <= 4 queries, 0 rows written, <= 15 ms CPU.
  fleet   M unchanged connections through the real worker path: the poll tick enqueues them
          (batches through the broker) and 2 ``qcluster`` processes sync them; wall time, the
          clusters' CPU per sync, and the slope over the sizes; target: 1,000 in <= 30 s
          (PostgreSQL + Redis).
  rss     peak RSS of a fresh process that does a first import of the largest quick size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLIENT_SECRET, REDIRECT_URI = "bench-secret", "http://127.0.0.1:9/cb/"
QUICK = os.environ.get("BENCH_QUICK") == "1"


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


def grant_many(state, provider: str, emails: list[str], scopes: list[str]) -> list[dict]:  # noqa: ANN001
    return [grant(state, provider, email, scopes) for email in emails]


COMMANDS: dict[str, Callable[..., Any]] = {
    "grant": grant,
    "seed": seed,
    "grant_many": grant_many,
}


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

    def cpu(self) -> float:
        """CPU seconds the emulator has used (its own process; 0 in thread mode)."""
        return 0.0 if self.mode == "thread" else _proc_cpu(self.process.pid or 0)

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


# --- environment ---------------------------------------------------------------------------------
def bench_environment() -> Callable[[], None]:
    """Production settings on a throw-away database; returns the clean-up."""
    from cryptography.fernet import Fernet

    drop: Callable[[], None] = lambda: None  # noqa: E731
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"bench_{uuid.uuid4().hex[:8]}"
        admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        os.environ["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    else:
        tmp = Path(tempfile.mkdtemp(prefix="bench-"))
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp / 'bench.sqlite3'}"
        os.environ["CACHE_DIR"] = str(tmp / "cache")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="upsales_crm.settings",
        DEBUG="0",
        SECRET_KEY="bench-" + uuid.uuid4().hex * 2,
        FIELD_ENCRYPTION_KEYS=os.environ.get("FIELD_ENCRYPTION_KEYS")
        or Fernet.generate_key().decode(),
        Q_SYNC="0",
        # Its own cache keys and broker queue, even on a Redis database something else uses.
        CACHE_KEY_PREFIX=f"bench-{uuid.uuid4().hex[:8]}",
        Q_CLUSTER_NAME=f"bench-{uuid.uuid4().hex[:8]}",
        SECURE_SSL_REDIRECT="0",
    )
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return drop


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def database_label() -> str:
    from django.conf import settings
    from django.db import connection

    broker = "Redis" if settings.REDIS_URL else "ORM broker"
    return f"{connection.vendor} + {broker}"


def rep(email: str):  # noqa: ANN201
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create(email=email, username=email)


def app_and_type(provider: str):  # noqa: ANN201
    from appointments.models import AppointmentType
    from calendar_sync.models import CalendarApp

    CalendarApp.objects.update_or_create(
        provider=provider,
        defaults={"installed": True, "client_id": f"bench-{provider}",
                  "client_secret": CLIENT_SECRET},
    )  # fmt: skip
    return AppointmentType.objects.get_or_create(name="Bench")[0]


def provider_ids() -> list[str]:
    from calendar_sync.providers.registry import with_oauth

    # The emulator's providers (CalDAV runs against a real Radicale and is not benchmarked here).
    return [p.id for p in with_oauth()]


def scopes_of(provider: str) -> list[str]:
    from calendar_sync.providers.registry import get_provider

    return list(get_provider(provider).scopes)


def connection_row(provider: str, user, body: dict, kind):  # noqa: ANN001, ANN201
    from django.utils import timezone

    from calendar_sync.models import CalendarConnection

    now = timezone.now()
    return CalendarConnection(
        user=user, provider=provider, account_email=user.email,
        access_token=body["access_token"], refresh_token=body.get("refresh_token", ""),
        token_expires_at=now + dt.timedelta(hours=1), appointment_type=kind, activated_at=now,
    )  # fmt: skip


def connect(emulator: Emulator, provider: str, user):  # noqa: ANN001, ANN201
    kind = app_and_type(provider)
    body = emulator.call("grant", provider, user.email, scopes_of(provider))
    conn = connection_row(provider, user, body, kind)
    conn.save()
    return conn


def sync(connection_id: int, *, full: bool = False):  # noqa: ANN201
    from calendar_sync.sync import engine

    return engine.sync_connection(connection_id, trigger="bench", full=full)


def _proc_cpu(pid: int) -> float:
    """utime+stime of one process (from /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_pids(everyone: bool = False) -> list[int]:
    """PostgreSQL server processes serving the bench database (``everyone``) or this process
    (their CPU is the database's share of a figure); [] on SQLite, which runs in-process."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        if everyone:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        else:
            cursor.execute("SELECT pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


class CpuClock:
    """CPU seconds of this process plus the database processes serving it (or the bench DB):
    on a shared machine, wall time is the machine's, CPU time is ours."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids

    def now(self) -> float:
        return time.process_time() + sum(_proc_cpu(pid) for pid in self.pids)


def stats(values: list[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def line(label: str, text: str) -> None:
    print(f"  {label:<46}{text}")


# --- import: first import vs bulk_create, interleaved -------------------------------------------
def import_rounds(rounds: int, events: int) -> int:
    """More rounds for the small sizes, whose figures are tens of milliseconds."""
    return rounds * min(10, max(1, 2500 // max(events, 1)))


def _import_round(emulator: Emulator, provider: str, events: int, r: int, clock: CpuClock,
                  figures: dict[str, list]) -> None:  # fmt: skip
    """One round: the first import, then the same rows as one bare bulk_create."""
    from appointments.models import Appointment

    user = rep(f"imp.{provider}.{events}.{r}.{uuid.uuid4().hex[:6]}@exempel.se")
    conn = connect(emulator, provider, user)
    emulator.call("seed", provider, user.email, events)
    c0, t0 = clock.now(), time.perf_counter()
    run = sync(conn.pk, full=True)
    figures["walls"].append(time.perf_counter() - t0)
    figures["cpus"].append(clock.now() - c0)
    assert run is not None and not run.error, run and run.error  # noqa: S101
    summary = type(conn).objects.get(pk=conn.pk).last_sync_summary
    figures["waits"].append(summary.get("provider_seconds", 0.0))
    figures["pages"] = [summary.get("pages", 0)]
    # The baseline, right after, in the same loop: the same rows as one bare bulk_create.
    rows = list(Appointment.objects.filter(organizer=user))
    owner = rep(f"base.{provider}.{events}.{r}.{uuid.uuid4().hex[:6]}@exempel.se")
    for row in rows:
        row.pk, row.organizer = None, owner
    c0, t0 = clock.now(), time.perf_counter()
    Appointment.objects.bulk_create(rows)
    figures["bases"].append(time.perf_counter() - t0)
    figures["base_cpus"].append(clock.now() - c0)


def bench_import(emulator: Emulator, providers: list[str], events: int, rounds: int) -> None:
    """The providers' rounds interleaved (one round of each in turn): each meets tables of the
    same size (run one after the other, the second met the first one's rows too)."""
    rounds = import_rounds(rounds, events)
    clock = CpuClock(database_pids())
    keys = ("walls", "waits", "bases", "cpus", "base_cpus", "pages")
    figures: dict[str, dict[str, list]] = {p: {k: [] for k in keys} for p in providers}
    for r in range(rounds):
        for provider in providers:
            _import_round(emulator, provider, events, r, clock, figures[provider])
    for provider in providers:
        _print_import(provider, events, rounds, figures[provider])


def _print_import(provider: str, events: int, rounds: int, f: dict[str, list]) -> None:
    walls, waits, bases, cpus, base_cpus = (
        f["walls"],
        f["waits"],
        f["bases"],
        f["cpus"],
        f["base_cpus"],
    )
    pages = f["pages"][0] if f["pages"] else 0
    (wmin, wmed), (bmin, bmed) = stats(walls), stats(bases)
    ours = [w - p for w, p in zip(walls, waits, strict=True)]
    rmin, ratio = stats([w / max(b, 1e-9) for w, b in zip(walls, bases, strict=True)])
    ours_ratio = statistics.median(o / max(b, 1e-9) for o, b in zip(ours, bases, strict=True))
    cpu_ratio = statistics.median(cpus) / max(statistics.median(base_cpus), 1e-9)
    line(
        f"{provider} {events:>6} events ({pages} pages, {rounds} rounds)",
        f"import {wmin:6.2f}/{wmed:6.2f}s (provider wait {statistics.median(waits):5.2f}s, "
        f"ours {statistics.median(ours):5.2f}s) | bulk_create {bmin:5.2f}/{bmed:5.2f}s | "
        f"ratio {rmin:4.1f}/{ratio:4.1f}x wall, "
        f"{ours_ratio:4.1f}x ours  [target <= 3x] "
        f"{'OK' if ratio <= 3 else 'OVER'} | CPU {statistics.median(cpus):5.2f}s vs "
        f"{statistics.median(base_cpus):5.2f}s = {cpu_ratio:4.1f}x",
    )


# --- poll: one unchanged sync through the task, in this process ------------------------------------
def bench_poll(emulator: Emulator, provider: str, rounds: int) -> None:
    from django.db import connection
    from django_q.tasks import async_task

    conns = []
    for i in range(rounds + 2):
        conn = connect(emulator, provider, rep(f"poll{i}.{provider}@exempel.se"))
        emulator.call("seed", provider, conn.account_email, 2)
        sync(conn.pk, full=True)
        conns.append(conn)
    for conn in conns:  # the first incremental run of each (token and directory caches filled)
        sync(conn.pk)
    sql: list[str] = []

    def count(execute, query, params, many, context):  # noqa: ANN001, ANN202
        sql.append(query)
        return execute(query, params, many, context)

    cpu, requests = [], []
    for conn in conns:
        del sql[:]
        with connection.execute_wrapper(count):
            t0 = time.process_time()
            # As a worker runs it: q2's wrapper and its result saving (off for sync tasks).
            async_task("calendar_sync.tasks.sync_connection", conn.pk, "schedule",
                       q_options={"save": False, "sync": True})  # fmt: skip
            cpu.append(time.process_time() - t0)
        summary = type(conn).objects.get(pk=conn.pk).last_sync_summary
        requests.append(summary.get("provider_requests", -1))
    writes = [q for q in sql if q.lstrip().upper().startswith(("INSERT", "DELETE"))]
    cmin, cmed = stats(cpu[2:])
    line(
        f"{provider} unchanged sync (task, in process)",
        f"provider requests {max(requests)} [1] | DB queries {len(sql)} [<= 4] | rows inserted "
        f"{len(writes)} [0] | CPU {cmin * 1000:5.1f}/{cmed * 1000:5.1f} ms [<= 15 ms]",
    )


# --- fleet: M connections through the real worker path -------------------------------------------
def _cpu_seconds(root_pids: list[int]) -> float:
    """utime+stime of these processes and all their descendants (from /proc)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    total = 0.0
    for pid in times:
        p = pid
        while p and p not in root_pids:
            p = parents.get(p, 0)
        total += times[pid] if p else 0.0
    return total


class Clusters:
    """Two ``qcluster`` processes, as on two hosts (Q_WORKERS workers each)."""

    def __init__(self, emulator_url: str) -> None:
        env = {**os.environ, "CALENDAR_EMULATOR_URL": emulator_url, "LOG_LEVEL": "WARNING"}
        self.logs = [Path(tempfile.mkstemp(suffix=".log")[1]) for _ in range(2)]
        self.procs = [
            subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
                             stdout=log.open("w"), stderr=subprocess.STDOUT)
            for log in self.logs
        ]  # fmt: skip
        time.sleep(8)  # the clusters start their workers and settle

    def cpu(self) -> float:
        return _cpu_seconds([p.pid for p in self.procs])

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _grow_fleet(emulator: Emulator, target: int, have: int) -> None:
    """Connections ``have..target``, alternating providers (empty calendars: the first poll
    only sets the cursor; what is measured is the unchanged poll after it)."""
    from calendar_sync.models import CalendarConnection

    ids = provider_ids()
    for n, provider in enumerate(ids):
        kind = app_and_type(provider)
        emails = [f"fleet{i}@exempel.se" for i in range(have, target) if i % len(ids) == n]
        for start in range(0, len(emails), 500):
            chunk = emails[start : start + 500]
            bodies = emulator.call("grant_many", provider, chunk, scopes_of(provider))
            users = [rep(email) for email in chunk]
            CalendarConnection.objects.bulk_create(
                [connection_row(provider, u, b, kind) for u, b in zip(users, bodies, strict=True)]
            )


def _poll_everyone_and_wait(size: int, timeout: float) -> tuple[float, int]:
    """The poll tick as the scheduler runs it, covering a whole interval; then wait for every
    connection's release (last_sync_at). Returns (wall seconds, connections done)."""
    from django.core.cache import cache
    from django.utils import timezone

    from calendar_sync.models import CalendarConnection
    from calendar_sync.sync import polling

    start = timezone.now()
    t0 = time.perf_counter()
    cache.set(polling.LAST_TICK_KEY, polling.minute_of(start) - 60)
    polling.poll_tick(start)
    done = 0
    while time.perf_counter() - t0 < timeout:
        done = CalendarConnection.objects.filter(
            account_email__startswith="fleet", last_sync_at__gte=start
        ).count()
        if done >= size:
            break
        time.sleep(0.25)
    from django.db.models import Max, Min

    span = CalendarConnection.objects.filter(
        account_email__startswith="fleet", last_sync_at__gte=start
    ).aggregate(first=Min("last_sync_at"), last=Max("last_sync_at"))
    if span["first"]:
        print(f"    (first sync done {(span['first'] - start).total_seconds():.1f}s after the "
              f"tick, last {(span['last'] - start).total_seconds():.1f}s)")  # fmt: skip
    return time.perf_counter() - t0, done


def bench_fleet(emulator: Emulator, sizes: list[int]) -> None:
    from django_q.models import Schedule

    from calendar_sync.models import CalendarConnection

    # The bench drives the poll tick itself; the other schedules (the daily window refresh of
    # every connection, channel renewal) would run at once on this fresh database.
    Schedule.objects.all().delete()
    clusters = Clusters(emulator.url)
    points = []
    try:
        have = 0
        for size in sizes:
            _grow_fleet(emulator, size, have)
            have = size
            first, done = _poll_everyone_and_wait(size, timeout=size * 0.5 + 120)
            line(f"{size:>5} connections, first poll (full)", f"{first:6.1f}s ({done} done)")
            database = database_pids(everyone=True)
            cpu0, emu0 = clusters.cpu(), emulator.cpu()
            db0 = sum(_proc_cpu(pid) for pid in database)
            wall, done = _poll_everyone_and_wait(size, timeout=size * 0.2 + 60)
            cpu = clusters.cpu() - cpu0
            emu = emulator.cpu() - emu0
            db = sum(_proc_cpu(pid) for pid in database) - db0
            wait = sum(
                (s or {}).get("provider_seconds", 0.0)
                for s in CalendarConnection.objects.values_list("last_sync_summary", flat=True)
            )
            runs = CalendarConnection.objects.filter(sync_cursor="").count()
            points.append((size, wall))
            target = " [target <= 30 s]" if size == 1000 else ""
            line(
                f"{size:>5} connections, unchanged",
                f"{wall:6.1f}s wall{target} ({done} done, {size / wall:5.0f} syncs/s) | provider "
                f"wait {wait:5.1f}s summed over syncs | clusters' CPU {cpu:6.1f}s = "
                f"{cpu / max(done, 1) * 1000:5.1f} ms per sync (q2 included)"
                + (f" | {runs} without a cursor" if runs else ""),
            )
            per = 1000 / max(done, 1)
            line(
                "",
                f"CPU per sync: clusters {cpu * per:4.1f} ms, emulator {emu * per:4.1f} ms, "
                f"database {db * per:4.1f} ms (the machine's {os.cpu_count()} cores, shared)",
            )
    finally:
        clusters.stop()
    if len(points) >= 2:
        n = [p[0] for p in points]
        w = [p[1] for p in points]
        slope, intercept = statistics.linear_regression(n, w)
        per = ", ".join(f"{wall / size * 1000:.1f}" for size, wall in points)
        line("slope", f"{slope * 1000:.1f} ms per connection (+{intercept:.1f}s fixed); "
                      f"ms per connection at each size: {per} (flat = linear)")  # fmt: skip


# --- rss: a fresh process ----------------------------------------------------------------------------
def rss_child(provider: str, events: int, emulator_url: str) -> None:
    """In a fresh process: one first import; prints the peak RSS before and after (MiB).
    The parent has migrated the database: a migration run here would set the peak itself."""
    import django

    django.setup()
    from django.conf import settings

    settings.CALENDAR_EMULATOR_URL = emulator_url
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    from calendar_sync.models import CalendarConnection

    conn = CalendarConnection.objects.get(account_email=os.environ["BENCH_RSS_ACCOUNT"])
    sync(conn.pk, full=True)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"before": before, "after": after}))


def bench_rss(emulator: Emulator, provider: str, events: int) -> None:
    conn = connect(emulator, provider, rep(f"rss.{provider}@exempel.se"))
    emulator.call("seed", provider, conn.account_email, events)
    env = {**os.environ, "BENCH_RSS_ACCOUNT": conn.account_email}
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", provider, str(events), emulator.url],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    rss = json.loads(out)
    line(f"{provider} fresh process, first import of {events}",
         f"peak RSS {rss['after']:.0f} MiB (after start-up: {rss['before']:.0f} MiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="250,2500" if QUICK else "250,2500,10000")
    parser.add_argument("--fleet", default="100,1000" if QUICK else "100,1000,5000")
    parser.add_argument("--only", default="import,poll,fleet,rss")
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child[0], int(args.rss_child[1]), args.rss_child[2])
        return
    drop = bench_environment()
    emulator = None
    try:
        setup_django()
        import logging

        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        logging.getLogger("django-q").setLevel(logging.WARNING)
        from django.conf import settings

        emulator = Emulator("process")
        settings.CALENDAR_EMULATOR_URL = emulator.url
        only = set(args.only.split(","))
        print(f"{database_label()}; emulator in its own process; {os.cpu_count()} cores "
              f"(shared: figures are noisy, compare the side-by-side ratios); min/median")  # fmt: skip
        if "import" in only:
            print("\nfirst import vs bare bulk_create, interleaved:")
            for events in [int(x) for x in args.sizes.split(",")]:
                bench_import(emulator, provider_ids(), events, args.rounds)
        if "poll" in only:
            print("\nunchanged sync through the task:")
            for provider in provider_ids():
                bench_poll(emulator, provider, max(args.rounds, 5))
        if "fleet" in only:
            print(f"\nfleet through the poll tick, the broker and 2 qcluster processes "
                  f"({settings.Q_CLUSTER['workers']} workers each):")  # fmt: skip
            bench_fleet(emulator, [int(x) for x in args.fleet.split(",")])
        if "rss" in only:
            print("\nmemory:")
            for provider in provider_ids():
                bench_rss(emulator, provider, 2500)
    finally:
        if emulator is not None:
            emulator.stop()
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
