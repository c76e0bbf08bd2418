"""Database restart during traffic.

A live gunicorn process serves the app from a PRIVATE PostgreSQL cluster of this test (initdb in
tmp_path, with the binaries bundled in the pgserver package: no database server needed on the
machine, and the machine's shared PostgreSQL is never touched). Connections are persistent
(DATABASE_CONN_MAX_AGE=60, as in production) and CONN_HEALTH_CHECKS is on.

- A restart with no traffic: the very next requests succeed (the health check replaces the dead
  persistent connections; no app restart).
- Traffic while the cluster restarts: every response is a 200 or a clean 503 (the page or, under
  /api/, JSON), never a traceback.
- The cluster stopped: pages answer 503 with Retry-After and the "briefly unavailable" page; the
  API answers 503 JSON. Started again: everything answers 200, from the same gunicorn workers.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from .support import PrivatePostgres, free_port

ROOT = Path(__file__).resolve().parents[2]
APP_URL = "postgresql://liushou_app:liushou_app@127.0.0.1:{port}/liushou"
OWNER_URL = "postgresql://liushou_owner:liushou_owner@127.0.0.1:{port}/liushou"  # migrates

SETUP = """
from tenancy.models import ApiToken
from tenancy import services
from tenancy.roles import Role
d = services.district_create(name="明光市教育局", code="mingguang")
s = services.school_create(district=d, name="古沛中心小学", code="gupei")
u = services.user_create(username="gupei_admin", password="Demo2026!x", display_name="管理员")
services.membership_grant(user=u, role=Role.SCHOOL_ADMIN, school=s)
print("TOKEN=" + ApiToken.objects.create(user=u)[1])
"""


class Client:
    """A tiny HTTP client with a cookie jar (the web session) and an API token."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.token = ""

    def request(self, path: str, data: dict | None = None, api: bool = False):
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"} if api else {}
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Referer"] = self.base + path
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return resp.status, dict(resp.headers), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read().decode("utf-8", "replace")

    def login(self, username: str, password: str) -> None:
        status, _h, page = self.request("/login/")
        assert status == 200, page
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        status, _h, page = self.request("/login/", {"csrfmiddlewaretoken": csrf, "username": username,
                                                    "password": password})
        assert status == 200, page
        assert any(c.name == "sessionid" for c in self.jar), "logged in"


def _run(args, env, timeout=600):
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def _worker_pids(master: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    return sorted(int(p) for p in out.stdout.split())


def _assert_clean(status: int, headers: dict, body: str, api: bool) -> None:
    assert status in (200, 503), (status, body[:500])
    assert "Traceback" not in body and "psycopg" not in body and 'File "' not in body, body[:2000]
    if status == 503:
        assert headers.get("Retry-After"), headers
        if api:
            assert json.loads(body)["code"] == "service_unavailable", body
        else:
            assert "服务暂时不可用" in body, body


@pytest.fixture
def live_app(tmp_path):
    """A private cluster, migrated, with one school admin; gunicorn serving it."""
    from config.db_roles import ensure_roles

    # Not under tmp_path: pytest (any concurrent session of the same user) resets its base folder
    # to mode 0700, which would lock the `pgserver` system user out of its data folder when the
    # tests run as root. A folder of our own in the system temp dir, removed afterwards.
    pg_dir = Path(tempfile.mkdtemp(prefix="liushou-faults-pg-"))
    os.chmod(pg_dir, 0o755)
    pg = PrivatePostgres(pg_dir)
    pg.start()
    ensure_roles(pg.admin_url(), dbname="liushou", owner="liushou_owner", owner_password="liushou_owner",
                 runtime="liushou_app", runtime_password="liushou_app")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=APP_URL.format(port=pg.port),
        DATABASE_OWNER_URL=OWNER_URL.format(port=pg.port),
        DATABASE_CONN_MAX_AGE="60",  # persistent connections: what CONN_HEALTH_CHECKS must rescue
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    )
    _run(["manage.py", "migrate", "--noinput"], env)
    token = re.search(r"TOKEN=(\w+)", _run(["manage.py", "shell", "-c", SETUP], env)).group(1)
    port = free_port()
    log = open(tmp_path / "gunicorn.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--timeout", "60", "--chdir", str(ROOT),
         "--pythonpath", f"{ROOT},{ROOT / 'platform'}", "--access-logfile", "-"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    client = Client(f"http://127.0.0.1:{port}")
    client.token = token
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if client.request("/login/")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()
            time.sleep(0.3)
        client.login("gupei_admin", "Demo2026!x")
        yield pg, server, client, tmp_path / "gunicorn.log"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        try:
            pg.stop()
        except RuntimeError:
            pass  # already stopped
        shutil.rmtree(pg_dir, ignore_errors=True)


PATHS = [("/", False), ("/api/v1/me/", True), ("/api/v1/schools/", True)]


def _all_ok(client, rounds: int = 4) -> None:
    for _ in range(rounds):
        for path, api in PATHS:
            status, _h, body = client.request(path, api=api)
            assert status == 200, (path, status, body[:1000])


def test_database_restart_during_traffic(live_app):
    pg, server, client, log = live_app
    _all_ok(client)  # warm: each gunicorn thread holds a persistent connection
    workers = _worker_pids(server)
    assert workers

    # 1. Restart with no traffic: the persistent connections are dead, the health check replaces them.
    pg.restart()
    _all_ok(client)

    # 2. Restart under traffic: only 200s and clean 503s.
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            for path, api in PATHS:
                status, headers, body = client.request(path, api=api)
                _assert_clean(status, headers, body, api)
                seen.append((status, path))

    errors: list[BaseException] = []

    def guarded():
        try:
            traffic()
        except BaseException as exc:  # reported below, with the server log
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=guarded) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1)
    pg.restart()
    time.sleep(1)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert not errors, f"{errors[0]!r}\n{log.read_text()[-5000:]}"
    assert seen and {s for s, _p in seen} <= {200, 503}

    # 3. The cluster is down: clean 503 page / JSON, no traceback.
    pg.stop()
    for path, api in PATHS:
        status, headers, body = client.request(path, api=api)
        assert status == 503, (path, status, body[:1000])
        _assert_clean(status, headers, body, api)
    status, headers, body = client.request("/login/")  # anonymous too
    assert status == 503 and "服务暂时不可用" in body

    # 4. Back: everything answers again, from the same gunicorn workers (no app restart).
    pg.start()
    _all_ok(client)
    assert _worker_pids(server) == workers, "the app recovered without a restart"
    assert "Traceback" not in "".join(b for _s, _h, b in [client.request(p, api=a) for p, a in PATHS])
