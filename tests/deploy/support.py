"""Helpers for the deployment tests: production's required variables and a production subprocess."""
from __future__ import annotations

import ast
import os
import secrets
import socket
import subprocess
import sys
from pathlib import Path

from tests.support.db import database_url  # noqa: F401  (re-exported for deploy tests)

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SETTINGS = ROOT / "platform" / "config" / "settings" / "production.py"


def required_env() -> list[str]:
    """production.REQUIRED_ENV, read from the source: importing the module needs those very variables."""
    tree = ast.parse(PRODUCTION_SETTINGS.read_text())
    for node in tree.body:
        targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "REQUIRED_ENV" for t in targets):
            return list(ast.literal_eval(node.value))
    raise AssertionError("production.py defines no module-level REQUIRED_ENV list")


def production_env(**overrides: str | None) -> dict[str, str]:
    """A complete, fake production environment. An override of None removes that variable."""
    env = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "STORAGE_S3_"))
        and k not in ("FIELD_ENCRYPTION_KEYS", "DEMO_DATA_ALLOWED")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="platform.example.org",
        DATABASE_URL="postgresql://liushou_app:unused@127.0.0.1:1/liushou",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        FIELD_ENCRYPTION_KEYS=secrets.token_urlsafe(32),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
        # Scripts that call `python` (deploy/entrypoint.sh) get this interpreter, as in the image.
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(args: list[str], env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    """A local TCP port nothing listens on (bound, then released): for a server to start on, or
    for a connection that must be refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
