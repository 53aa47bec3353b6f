"""calendarView/delta: rounds of changes, their $skiptoken pages and $deltatoken, expiry."""

from __future__ import annotations

import datetime as dt
import secrets

from ...state import Account
from .core import GraphError, StoreCore


class DeltaMixin(StoreCore):
    def _epoch(self, mailbox: str) -> int:
        return self.sync_epoch.get(mailbox, 0)

    def expire_sync_state(self, account: Account) -> None:
        with self.state.lock:
            self.sync_epoch[account.email] = self._epoch(account.email) + 1

    def _new_token(self, record: dict) -> str:
        token = secrets.token_urlsafe(48)
        self.sync_states[token] = record
        while len(self.sync_states) > 5000:
            self.sync_states.pop(next(iter(self.sync_states)))
        return token

    def delta_start(
        self, account: Account, calendar_id: str | None, ws: dt.datetime, we: dt.datetime
    ) -> str:
        """A full-sync round: returns the skiptoken of its first page."""
        with self.state.lock:
            cal = self.calendar(account, calendar_id)
            return self._round(account, cal["id"], ws, we, previous={})

    def _round(
        self, account: Account, calendar_id: str, ws: dt.datetime, we: dt.datetime, previous: dict
    ) -> str:
        current = {e["id"]: e["seq"] for e in self.view(account, ws, we, calendar_id)}
        changed = [i for i, s in current.items() if i not in previous or s > previous[i]]
        removed = [i for i in previous if i not in current]
        base = {
            "mailbox": account.email,
            "calendar_id": calendar_id,
            "start": ws.isoformat(),
            "end": we.isoformat(),
            "epoch": self._epoch(account.email),
        }
        delta = self._new_token({**base, "kind": "delta", "ids": current})
        items = [[i, False] for i in changed] + [[i, True] for i in removed]
        return self._new_token(
            {**base, "kind": "page", "items": items, "offset": 0, "delta": delta}
        )

    def delta_resume(self, account: Account, token: str, kind: str) -> dict:
        """Check a $skiptoken / $deltatoken; a $deltatoken starts a new round (returns its page)."""
        with self.state.lock:
            record = self.sync_states.get(token)
            if (
                record is None
                or record["kind"] != kind
                or record["mailbox"] != account.email
                or record["epoch"] != self._epoch(account.email)
            ):
                raise GraphError(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. Full synchronization is required.",
                )
            if kind == "page":
                return record
            ws = dt.datetime.fromisoformat(record["start"])
            we = dt.datetime.fromisoformat(record["end"])
            page = self._round(account, record["calendar_id"], ws, we, previous=record["ids"])
            return self.sync_states[page]

    def delta_page(
        self, account: Account, page: dict, offset: int, size: int
    ) -> tuple[list[tuple[str, dict | None]], int | None]:
        """Items [offset, offset+size) of a round: (id, record or None for removed); next offset."""
        with self.state.lock:
            items = page["items"][offset : offset + size]
            out: list[tuple[str, dict | None]] = []
            for event_id, removed in items:
                record = None
                if not removed:
                    try:
                        record = self.get_record(account, event_id)
                    except GraphError:
                        record = None
                out.append((event_id, record))
            nxt = offset + size
            return out, (nxt if nxt < len(page["items"]) else None)

    def page_token(self, page: dict, offset: int) -> str:
        with self.state.lock:
            return self._new_token({**page, "offset": offset})
