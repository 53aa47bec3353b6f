"""Microsoft 365: the identity platform (sign-in, tokens) and Graph v1.0 calendars, mounted at /microsoft.

See provider_emulator/README.md, section "Microsoft".
"""

from __future__ import annotations

from .app import GraphApp
from .store import GraphStore

__all__ = ["GraphApp", "GraphStore", "create_app"]


def create_app(state):  # noqa: ANN001, ANN201 - WSGI app factory used by provider_emulator.app
    store = GraphStore(state)
    state.register_store("microsoft", store)
    return GraphApp(state, store)
