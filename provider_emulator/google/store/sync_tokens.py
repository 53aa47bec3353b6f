"""Sync tokens: issued on the last page of events.list, checked on the next one, expired on demand."""

from __future__ import annotations

import secrets

from ...state import Account
from .core import ApiError, StoreCore


class SyncTokensMixin(StoreCore):
    def expire_sync_state(self, account: Account) -> None:
        with self.state.lock:
            owned = {c["id"] for c in self.calendars.values() if c["owner"] == account.email}
            for token, info in list(self.sync_tokens.items()):
                if info["account"] == account.email or info["cal"] in owned:
                    del self.sync_tokens[token]

    def _issue_sync_token(self, account: Account, cal: dict, snapshot: int) -> str:
        """A token for the changes after change number ``snapshot`` of this calendar."""
        token = "C" + secrets.token_urlsafe(18) + "="
        self.sync_tokens[token] = {"cal": cal["id"], "seq": snapshot, "account": account.email}
        return token

    def _sync_since(self, token: str, cal: dict) -> int:
        """The change number a token was issued at; unknown, expired or another calendar's → 410."""
        info = self.sync_tokens.get(token)
        if info is None or info["cal"] != cal["id"]:
            raise ApiError(
                410,
                "fullSyncRequired",
                "Sync token is no longer valid, a full sync is required.",
            )
        return int(info["seq"])
