"""Smoke test of `make run`'s entry point: `manage.py run_platform` serves, and SIGTERM stops it all.

It runs against the test database (DATABASE_URL set, so no second embedded PostgreSQL: the
EMBEDDED_PG_DIR it is given must stay empty) with a private filesystem broker, `--no-seed`, and
without DATABASE_ADMIN_URL (no db_bootstrap: roles are the session's business). Its `migrate` runs
as the owner role (DATABASE_OWNER_URL, the same database) and finds nothing to apply; the
post-migrate hooks rewrite the same RLS policies and beat rows, and `transactional_db` empties every
table afterwards, as for the other real-worker tests.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

from tests.support.db import database_env

from .support import ROOT, free_port

STARTUP_TIMEOUT = 180  # migrate (nothing to apply) + runserver's checks + worker and beat start-up


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _group_members(pgid: int) -> dict[int, str]:
    """Live (non-zombie) processes of a process group: pid -> command line."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # exited meanwhile
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            found[int(entry.name)] = cmdline.strip()
    return found


def test_run_platform_serves_and_sigterm_stops_web_worker_and_beat(transactional_db, tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_ADMIN_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",  # what `make run` uses
        **database_env(connection.settings_dict),
        EMBEDDED_PG_DIR=str(tmp_path / "embedded-pg"),
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "run_platform.log"
    with open(log_path, "wb") as log:
        # Its own process group, so that the check below sees every descendant, and cleanup can
        # reach them if the test fails half-way.
        proc = subprocess.Popen([sys.executable, "manage.py", "run_platform", "--no-seed"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def logs() -> str:
        return log_path.read_text(errors="replace")

    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT
        statuses: dict[str, int | None] = {}
        while time.monotonic() < deadline and proc.poll() is None:
            statuses = {path: _status(base + path) for path in ("/healthz", "/login/")}
            if (all(code == 200 for code in statuses.values())
                    and " ready." in logs() and "beat: Starting" in logs()):
                break
            time.sleep(0.5)
        assert proc.poll() is None, f"run_platform exited early ({proc.returncode}):\n{logs()}"
        assert statuses == {"/healthz": 200, "/login/": 200}, (statuses, logs())
        assert " ready." in logs() and "beat: Starting" in logs(), logs()

        children = _group_members(proc.pid)
        commands = " | ".join(children.values())
        assert "runserver" in commands and " worker " in commands and " beat " in commands, commands
        assert not (tmp_path / "embedded-pg").exists(), "DATABASE_URL is set: no embedded PostgreSQL may start"

        proc.send_signal(signal.SIGTERM)  # as `kill <pid>` would
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        while _group_members(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _group_members(proc.pid) == {}, (children, logs())
        assert _status(base + "/healthz") is None  # nothing serves any more
    finally:
        if proc.poll() is None or _group_members(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
            proc.wait(timeout=30)
