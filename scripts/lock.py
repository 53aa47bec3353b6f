"""The lock file: exact versions of every dependency (and theirs), as the tests passed with them.

    python scripts/lock.py compile [uv options]   # make lock: (re)write requirements.lock
    python scripts/lock.py check                  # make install / make lint: does it match?

``compile`` runs ``uv pip compile`` on pyproject.toml (all extras) and keeps the pins already in
requirements.lock unless told otherwise (``--upgrade-package NAME``, ``--upgrade``), so adding a
dependency changes only what it needs. The first line records a digest of pyproject.toml's
dependency lists; ``check`` compares it (offline, instantly) and fails when a dependency was
added, removed or changed without re-locking. Only the standard library is used here, so it runs
before anything is installed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
LOCK = ROOT / "requirements.lock"
DIGEST_PREFIX = "# pyproject.toml dependencies sha256: "


def dependencies_digest() -> str:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    declared = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional": {k: sorted(v) for k, v in project.get("optional-dependencies", {}).items()},
    }
    return hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()


def recorded_digest() -> str | None:
    if not LOCK.exists():
        return None
    first = LOCK.read_text(encoding="utf-8").partition("\n")[0]
    return first.removeprefix(DIGEST_PREFIX) if first.startswith(DIGEST_PREFIX) else None


def check() -> int:
    if recorded_digest() == dependencies_digest():
        return 0
    print(
        "requirements.lock does not match pyproject.toml's dependencies: run `make lock` and "
        "commit requirements.lock (see README, 'Dependencies').",
        file=sys.stderr,
    )
    return 1


def compile_lock(extra_args: list[str]) -> int:
    uv = Path(sys.executable).with_name("uv")
    body = LOCK.read_text(encoding="utf-8") if LOCK.exists() else ""
    # uv keeps the pins of its output file; give it the lock without our digest line.
    LOCK.write_text(body.partition("\n")[2] if body.startswith(DIGEST_PREFIX) else body)
    command = [str(uv), "pip", "compile", "pyproject.toml", "--all-extras", "--quiet"]
    command += ["--python", sys.executable, "--custom-compile-command", "make lock"]
    command += ["--output-file", LOCK.name, *extra_args]
    done = subprocess.run(command, cwd=ROOT, check=False)  # noqa: S603 - our own argv
    if done.returncode != 0:
        LOCK.write_text(body)
        return done.returncode
    LOCK.write_text(DIGEST_PREFIX + dependencies_digest() + "\n" + LOCK.read_text())
    return check()


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        return check()
    if argv[:1] == ["compile"]:
        return compile_lock(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
