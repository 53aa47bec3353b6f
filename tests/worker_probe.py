"""Runs two real `qcluster` processes against a fresh database and counts who did the work.

Usage: python -m tests.worker_probe  (the broker follows REDIS_URL; the DB follows DATABASE_URL,
for which a throw-away database is created and dropped). Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TASKS = 24


def _probe_database_url() -> tuple[str, callable]:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"q2probe_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return urlunsplit(parts._replace(path=f"/{name}")), drop
    tmp = tempfile.mkdtemp()
    return f"sqlite:///{tmp}/probe.sqlite3", lambda: None


def _wait_until_running(logs: list[Path], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all("running" in log.read_text() for log in logs):
            return
        time.sleep(0.2)
    raise SystemExit(
        "the q2 clusters did not start: " + " | ".join(log.read_text() for log in logs)
    )


def main() -> None:
    db_url, drop = _probe_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "upsales_crm.settings",
        "DEBUG": "1",
        "Q_WORKERS": "1",
        "Q_QUEUE_LIMIT": "1",  # no cluster may prefetch the whole queue
        "Q_SYNC": "0",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    clusters: list[subprocess.Popen] = []
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        logs = [Path(tempfile.mkstemp(suffix=".log")[1]) for _ in range(2)]
        for log in logs:
            with log.open("w") as fh:
                clusters.append(
                    subprocess.Popen(
                        [sys.executable, "manage.py", "qcluster"],
                        cwd=ROOT,
                        env=env,
                        stdout=fh,
                        stderr=subprocess.STDOUT,
                    )
                )
        os.environ.update(env)
        import django

        django.setup()
        from django_q.models import Task
        from django_q.tasks import async_task

        _wait_until_running(logs)  # both clusters poll before any work arrives
        for _ in range(TASKS):
            async_task("upsales_crm.diagnostics.worker_pid", 0.25, sync=False)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and Task.objects.filter(success=True).count() < TASKS:
            time.sleep(0.5)
        pids = list(Task.objects.filter(success=True).values_list("result", flat=True))
        broker = "redis" if os.environ.get("REDIS_URL") else "orm"
        print(json.dumps({"broker": broker, "done": len(pids), "pids": sorted(set(pids))}))
    finally:
        for proc in clusters:
            proc.terminate()
        for proc in clusters:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
