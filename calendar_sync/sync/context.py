"""What stays the same for every page of one sync run."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contacts.selectors import UserDirectory

from ..models import CalendarConnection
from .locking import Lease
from .rules import Exclusions


@dataclass
class SyncContext:
    connection: CalendarConnection
    window: tuple[dt.datetime, dt.datetime]
    now: dt.datetime
    # The user directory (``reading.read_directory``): read with the first page that has
    # changes (``importer.import_page``), so an unchanged poll costs no read of it.
    directory: UserDirectory | None = None
    # The provider's policy (its registry spec, ``engine.build_context``); defaults are Google's.
    recurring_delete_removes: bool = True
    all_day_recurring_supported: bool = False
    series_cap: int = 0  # settings.SYNC_SERIES_CAP (engine.build_context); 0 = no cap
    private_events: str = "private"  # the rep's setting (``models.PrivateEvents``)
    # The rep's and the organisation's exclusion lists: read with the first page that has
    # events (``importer.import_page``), so an unchanged poll costs no query for them.
    exclusions: Exclusions | None = None
    # The sync's lease, given back with the run's final fields (``engine._finish``).
    lease: Lease | None = None
    stats: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)

    def _directory(self) -> UserDirectory:
        assert self.directory is not None, "reading.read_directory comes first"  # noqa: S101
        return self.directory

    @property
    def rep_addresses(self) -> set[str]:
        """The rep's addresses: logins and aliases, and the connected account's (read once)."""
        return self._directory().addresses

    @property
    def user_domains(self) -> set[str]:
        return self._directory().colleague_domains

    @property
    def address_domains(self) -> set[str]:
        return self._directory().address_domains

    def summary(self) -> dict[str, Any]:
        return {**dict(self.stats), "skipped": dict(self.skipped)}
