"""The platform itself: production settings, migrations, settings from the environment, workers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    drop = ("DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )


PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!q9#production-grade-secret-key-with-plenty-of-entropy-0f3a9c2e71b4d8",
    "ALLOWED_HOSTS": "crm.example.com",
    "FIELD_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
}


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**PRODUCTION_ENV}
    env.pop("SECRET_KEY")
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_models_and_migrations_agree():
    result = run_manage("makemigrations", "--check", "--dry-run", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def _settings_in_subprocess(env: dict[str, str]) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s;"
        "print(json.dumps({'q': s.Q_CLUSTER, 'cache': s.CACHES['default']['BACKEND'],"
        "'db': s.DATABASES['default']['ENGINE']}))"
    )
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "upsales_crm.settings", "DEBUG": "1", **env}
    full_env.pop("REDIS_URL", None) if "REDIS_URL" not in env else None
    full_env.pop("DATABASE_URL", None) if "DATABASE_URL" not in env else None
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def test_without_redis_url_q2_uses_the_orm_broker_and_sqlite_by_default():
    conf = _settings_in_subprocess({})
    assert conf["q"]["orm"] == "default" and "redis" not in conf["q"]
    assert conf["db"] == "django.db.backends.sqlite3"


def test_redis_url_switches_broker_and_cache_to_redis_and_database_url_to_postgres():
    conf = _settings_in_subprocess(
        {"REDIS_URL": "redis://127.0.0.1:6379/3", "DATABASE_URL": "postgres://u@127.0.0.1:5432/x"}
    )
    assert conf["q"]["redis"] == "redis://127.0.0.1:6379/3" and "orm" not in conf["q"]
    assert conf["cache"] == "upsales_crm.cache.RedisCache"
    assert conf["db"] == "django.db.backends.postgresql"


def _redis_available(url: str | None = None) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url or os.environ["REDIS_URL"], socket_timeout=2).ping())
    except Exception:  # noqa: BLE001 - any failure means "not available"
        return False


def test_two_qcluster_processes_share_one_queue():
    """Several `qcluster` workers on one broker and one database split the work (both paths:
    ORM broker + SQLite by default; Redis + PostgreSQL when REDIS_URL / DATABASE_URL are set)."""
    if os.environ.get("REDIS_URL"):
        require_service(_redis_available(), "Redis at REDIS_URL")
    result = subprocess.run(
        [sys.executable, "-m", "tests.worker_probe"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["done"] == 24, report
    assert len(report["pids"]) >= 2, report
    assert report["broker"] == ("redis" if os.environ.get("REDIS_URL") else "orm")


@pytest.mark.django_db
def test_the_suite_runs_on_the_database_database_url_names():
    """In the PostgreSQL CI run the suite must not silently fall back to SQLite."""
    from django.db import connection

    expected = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    assert connection.vendor == expected


def test_the_redis_cache_shares_one_client_and_works_as_djangos():
    """upsales_crm.cache.RedisCache: Django's Redis cache, one client per pool for every call."""
    import uuid

    from upsales_crm.cache import RedisCache

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    require_service(_redis_available(url), f"Redis at {url}")
    cache = RedisCache(url, {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    assert cache.add("k", {"a": 1}, 30) and not cache.add("k", 2, 30)
    assert cache.get("k") == {"a": 1}
    cache.set_many({"x": 1, "y": [2]}, 30)
    assert cache.get_many(["x", "y", "z"]) == {"x": 1, "y": [2]}
    assert cache.incr("x") == 2
    cache.delete_many(["k", "x", "y"])
    assert cache.get("k") is None and cache.get("x", "gone") == "gone"
