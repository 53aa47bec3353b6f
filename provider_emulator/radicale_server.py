"""A real CalDAV server for the tests and `make run`: Radicale, on loopback, with a temporary
storage folder and plain-text htpasswd accounts.

Unlike the emulator this is not a model of a provider: it is Radicale's own code answering over
HTTP. The only thing added in front of it is a fault switch, so tests can make the server answer
429 or 500: ``fail_next``, or the emulator's own fault table (``/_emulator/faults`` with the
CalDAV provider's id) when the server is given it (``use_faults``). Endpoint names are
``"<METHOD> <path>"``, e.g. ``"REPORT /rep@example.com/calendar/"``.

    python -m provider_emulator.radicale_server --port 5232 --storage .radicale \
        --account karl.andersson@exempel.se:demo-dav-pass-2024
"""

from __future__ import annotations

import argparse
import base64
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import make_server

CALENDAR = "calendar"  # each account's one calendar: /<user>/calendar/


class _Faults:
    """Answers the next requests with an error instead of passing them to Radicale."""

    STATUSES = {"429": 429, "500": 500, "503": 503, "403_forbidden": 403, "403_rate_limit": 403}

    def __init__(self, app: Any) -> None:
        self.app = app
        self.pending: list[tuple[int, str | None]] = []
        self.requests = 0  # every request that reached the server (faults included)
        self.lock = threading.Lock()
        self.table: Any = None  # the emulator's FaultTable, when shared (use_faults)
        self.provider = ""
        # GET answers rewritten on the way out, by the requested path's last segment: what a
        # server stores that Radicale itself would refuse (an event without a start).
        self.rewrites: dict[str, Any] = {}

    def _from_table(self, environ: dict) -> tuple[int, str | None] | None:
        if self.table is None or environ.get("HTTP_X_SERVER_SIDE"):
            return None  # (the server's own work a test client plays, e.g. scheduling)
        endpoint = f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"
        fault = self.table.take(self.provider, _user(environ), endpoint)
        if fault is None:
            return None
        if fault.kind == "delay":
            time.sleep(fault.delay)
            return None
        return self.STATUSES[fault.kind], str(fault.retry_after)

    def __call__(self, environ: dict, start_response: Any) -> Any:
        with self.lock:
            self.requests += 1
            fault = self.pending.pop(0) if self.pending else None
        fault = fault or self._from_table(environ)
        if fault is not None:
            status, retry_after = fault
            headers = [("Content-Type", "text/plain")]
            if retry_after is not None:
                headers.append(("Retry-After", retry_after))
            start_response(f"{status} Injected fault", headers)
            return [b"injected fault"]
        name = str(environ.get("PATH_INFO", "")).rstrip("/").rsplit("/", 1)[-1]
        rewrite = self.rewrites.get(name) if environ.get("REQUEST_METHOD") == "GET" else None
        if rewrite is None:
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}
        environ = {k: v for k, v in environ.items() if k != "HTTP_ACCEPT_ENCODING"}  # plain

        def keep(status: str, headers: list, exc_info: Any = None) -> None:
            answer.update(status=status, headers=headers)

        body = rewrite(b"".join(self.app(environ, keep)))
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response(answer["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]


def _user(environ: dict) -> str | None:
    auth = str(environ.get("HTTP_AUTHORIZATION") or "")
    if not auth.lower().startswith("basic "):
        return None
    try:
        return base64.b64decode(auth[6:]).decode().partition(":")[0]
    except ValueError:
        return None


class RadicaleServer:
    """``RadicaleServer().start()``; ``.url`` is http://127.0.0.1:<free port>/."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, storage: str | None = None):
        import radicale
        from radicale import config

        self._owns_storage = storage is None
        self.root = Path(storage or tempfile.mkdtemp(prefix="radicale-"))
        self.root.mkdir(parents=True, exist_ok=True)
        self.htpasswd = self.root / "users"
        self.htpasswd.touch()
        configuration = config.load()
        configuration.update(
            {
                "auth": {
                    "type": "htpasswd",
                    "htpasswd_filename": str(self.htpasswd),
                    "htpasswd_encryption": "plain",
                    "delay": "0",
                },
                "storage": {"filesystem_folder": str(self.root / "collections")},
                "rights": {"type": "owner_only"},
                "web": {"type": "none"},
                "logging": {"level": "warning"},
            },
            "radicale_server",
            privileged=True,
        )
        self.faults = _Faults(radicale.Application(configuration))
        self._server = make_server(host, port, self.faults, threaded=True)
        self.host, self.port = host, self._server.server_port
        self.url = f"http://{host}:{self.port}/"
        self._thread: threading.Thread | None = None
        self.passwords: dict[str, str] = {}
        # Another address of an account (what its calendar-user-address-set would list): a
        # test client delivering an invitation looks the attendee up here.
        self.aliases: dict[str, str] = {}

    # --- running -----------------------------------------------------------------------------
    def start(self) -> RadicaleServer:
        logging.getLogger("radicale").setLevel(logging.WARNING)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="radicale", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        if self._owns_storage:
            shutil.rmtree(self.root, ignore_errors=True)

    # --- accounts -----------------------------------------------------------------------------
    def account_create(self, user: str, password: str | None = None) -> str:
        """An account with one calendar (what iCloud/Fastmail give every user); its password."""
        if user in self.passwords and password in (None, self.passwords[user]):
            return self.passwords[user]
        password = password or uuid.uuid4().hex
        lines = [
            line
            for line in self.htpasswd.read_text().splitlines()
            if line and line.split(":", 1)[0] != user
        ]
        self.htpasswd.write_text("\n".join([*lines, f"{user}:{password}"]) + "\n")
        self.passwords[user] = password
        session = self.session(user)
        home = self.calendar_url(user)
        if session.request("PROPFIND", home, headers={"Depth": "0"}).status_code == 404:
            resp = session.request("MKCALENDAR", home)
            assert resp.status_code == 201, (resp.status_code, resp.text[:300])
        return password

    def session(self, user: str, *, server_side: bool = False) -> requests.Session:
        """Requests as ``user``; ``server_side``: what the server itself would do for the user
        (deliver an invitation, record a reply), which the faults of the table never hit."""
        session = requests.Session()
        session.auth = (user, self.passwords[user])
        if server_side:
            session.headers["X-Server-Side"] = "1"
        return session

    def calendar_url(self, user: str) -> str:
        return f"{self.url}{user}/{CALENDAR}/"

    def reset(self) -> None:
        """Every account and event gone (between tests)."""
        self.faults.pending.clear()
        self.faults.rewrites.clear()
        self.htpasswd.write_text("")
        self.passwords.clear()
        self.aliases.clear()
        for child in (self.root / "collections" / "collection-root").glob("*"):
            shutil.rmtree(child, ignore_errors=True)

    # --- what tests make the server do ----------------------------------------------------------
    def use_faults(self, table: Any, provider: str) -> None:
        """Take faults from the emulator's table, those addressed to ``provider``."""
        self.faults.table, self.faults.provider = table, provider

    def fail_next(self, status: int, count: int = 1, retry_after: str | None = None) -> None:
        with self.faults.lock:
            self.faults.pending += [(status, retry_after)] * count

    def expire_sync_tokens(self, user: str) -> None:
        """Forget every sync token of the user's calendar (Radicale then answers an old token
        with 403 valid-sync-token, as after a server's history clean-up)."""
        for folder in (self.root / "collections").rglob(".Radicale.cache"):
            if user in folder.parts:
                shutil.rmtree(folder / "sync-token", ignore_errors=True)


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5232)
    parser.add_argument("--storage", default=".radicale")
    parser.add_argument("--account", action="append", default=[], help="user:password")
    args = parser.parse_args(list(argv) if argv is not None else None)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("Radicale is started on loopback only")
    server = RadicaleServer(host=args.host, port=args.port, storage=args.storage)
    ready = threading.Event()

    def accounts() -> None:
        ready.wait()
        for account in args.account:
            user, _, password = account.partition(":")
            server.account_create(user, password)

    threading.Thread(target=accounts, daemon=True).start()
    ready.set()
    print(f"Radicale (CalDAV) on {server.url}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
