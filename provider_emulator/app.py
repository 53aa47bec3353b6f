"""The emulator as one WSGI application: /google, /microsoft and the control API."""

from __future__ import annotations

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from . import google, microsoft
from .control import ControlApp
from .state import EmulatorState


class _MarkDirty:
    """Wraps the app so that state is saved (debounced by the server) after a write."""

    def __init__(self, app, state: EmulatorState) -> None:  # noqa: ANN001
        self.app, self.state = app, state
        self.dirty = False

    def __call__(self, environ, start_response):  # noqa: ANN001
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS"):
            self.dirty = True
        return self.app(environ, start_response)


def create_app(state: EmulatorState) -> _MarkDirty:
    app = DispatcherMiddleware(
        ControlApp(state),
        {
            "/google": google.create_app(state),
            "/microsoft": microsoft.create_app(state),
        },
    )
    return _MarkDirty(app, state)
