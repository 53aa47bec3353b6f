"""python -m provider_emulator --port 8025 [--state FILE] [--seed-demo]"""

from __future__ import annotations

import argparse
import json
import logging

from .server import EmulatorServer
from .state import EmulatorState


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="provider_emulator", description=__doc__)
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--state", help="JSON file to load from and save to (survives restarts)")
    parser.add_argument(
        "--accounts",
        help="JSON file with a list of accounts to create at start "
        '([{"provider": "google", "email": ..., "name": ..., "aliases": [...], "two_step": false}])',
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s emulator %(message)s")
    state = EmulatorState(args.state)
    server = EmulatorServer(state, host=args.host, port=args.port)
    state.load_file()
    if args.accounts:
        with open(args.accounts) as fh:
            for spec in json.load(fh):
                state.account_create(**spec)
    print(
        f"Provider emulator on {server.url}  (Google: {server.url}/google/, Microsoft: {server.url}/microsoft/)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
