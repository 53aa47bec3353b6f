"""Runs the emulator on a loopback port, in a background thread (tests) or the foreground (CLI)."""

from __future__ import annotations

import logging
import threading

from werkzeug.serving import make_server

from .state import EmulatorState

log = logging.getLogger(__name__)


class EmulatorServer:
    """``with EmulatorServer() as emu: emu.url`` -> http://127.0.0.1:<free port>."""

    def __init__(
        self, state: EmulatorState | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        from .app import create_app

        self.state = state or EmulatorState()
        self.app = create_app(self.state)
        self._server = make_server(host, port, self.app, threaded=True)
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self.state.base_url = self.url
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._saver: threading.Thread | None = None

    def start(self) -> EmulatorServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="emulator", daemon=True
        )
        self._thread.start()
        self._start_saver()
        return self

    def serve_forever(self) -> None:
        self._start_saver()
        try:
            self._server.serve_forever()
        finally:
            self._stop.set()
            self.state.save()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self.state.save()

    def _start_saver(self) -> None:
        if not self.state.path or self._saver:
            return

        def loop() -> None:
            while not self._stop.wait(1.0):
                if self.app.dirty:
                    self.app.dirty = False
                    try:
                        self.state.save()
                    except OSError:
                        log.exception("could not save emulator state")

        self._saver = threading.Thread(target=loop, name="emulator-saver", daemon=True)
        self._saver.start()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
