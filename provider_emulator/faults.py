"""Faults on demand: the next N matching requests fail (or are delayed) in a chosen way."""

from __future__ import annotations

import itertools
import threading
from dataclasses import asdict, dataclass, field

# Kinds that make a request fail or wait. Push kinds are consumed by the push dispatcher.
REQUEST_KINDS = {"429", "403_rate_limit", "403_forbidden", "500", "503", "delay"}
PUSH_KINDS = {"drop_push", "duplicate_push"}
KINDS = REQUEST_KINDS | PUSH_KINDS

_ids = itertools.count(1)


@dataclass
class Fault:
    kind: str
    count: int = 1  # how many matching requests it still applies to
    provider: str | None = None  # None = both
    account: str | None = None  # e-mail; None = every account
    endpoint: str | None = None  # substring of the endpoint name; None = every endpoint
    retry_after: int = 1  # seconds, for 429/503
    delay: float = 0.0  # seconds, for "delay"
    id: int = field(default_factory=lambda: next(_ids))

    def matches(self, provider: str, account: str | None, endpoint: str) -> bool:
        return (
            (self.provider is None or self.provider == provider)
            and (self.account is None or (account or "").lower() == self.account.lower())
            and (self.endpoint is None or self.endpoint in endpoint)
        )

    def to_dict(self) -> dict:
        return asdict(self)


class FaultTable:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        if fault.kind not in KINDS:
            raise ValueError(f"unknown fault kind {fault.kind!r}; one of {sorted(KINDS)}")
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(
        self, provider: str, account: str | None, endpoint: str, kinds: set[str] = REQUEST_KINDS
    ) -> Fault | None:
        """Consume one use of the first matching fault, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.kind in kinds and fault.matches(provider, account, endpoint):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def list(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
