"""Tiny q2 tasks used to prove that several workers share one queue (tests and ops checks)."""

from __future__ import annotations

import os
import time


def worker_pid(delay: float = 0.05) -> int:
    time.sleep(delay)
    return os.getpid()
