"""Test settings: the same as production-shaped settings, with inline q2 tasks and fast hashing."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("DEBUG", "1")
# The run's own file cache (no Redis), inherited by the worker processes tests start: never the
# project's `.cache` of `make run`, nor another run's (each test renews the user directory's
# generation, which a run beside it would read as a change and re-read).
if "CACHE_DIR" not in os.environ:
    os.environ["CACHE_DIR"] = tempfile.mkdtemp(prefix="upsales-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CACHE_DIR"], True)
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")

from .settings import *  # noqa: E402,F403
from .settings import Q_CLUSTER  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # noqa: S303 - tests only
Q_CLUSTER["sync"] = True
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
FIELD_ENCRYPTION_KEYS = ["ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="]
