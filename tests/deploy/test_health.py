"""/healthz: database and broker, 200 only when both answer, 503 naming the failing part."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from config import health

from .support import ROOT, database_url, free_port


def _get(client, **extra):
    response = client.get("/healthz", **extra)
    return response, json.loads(response.content)


@pytest.mark.django_db
def test_healthz_ok_reports_database_and_broker(client):
    response, body = _get(client)
    assert response.status_code == 200, body
    assert response["Content-Type"] == "application/json"
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is True


@pytest.mark.django_db
def test_healthz_broken_broker_is_503_naming_the_broker(client):
    url = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}):
        response, body = _get(client)
    assert response.status_code == 503, body
    assert body["status"] == "error"
    assert body["failing"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["broker"]["error"]  # the exception's class, never its message
    assert str(url) not in response.content.decode()
    assert body["checks"]["database"] == {"ok": True}


@pytest.mark.django_db
def test_healthz_filesystem_broker_needs_its_folders(client, tmp_path):
    options = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }
    with override_settings(CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options):
        response, body = _get(client)
        assert response.status_code == 503 and body["failing"] == ["broker"], body
        for key in ("queue", "processed", "control"):
            (tmp_path / key).mkdir()
        response, body = _get(client)
        assert response.status_code == 200, body
        assert body["checks"]["broker"] == {"ok": True, "transport": "filesystem"}


@pytest.mark.django_db
def test_database_check_reports_an_unreachable_server():
    # A real connection object pointed at a port where nothing listens (no mock).
    broken = connection.copy()
    options = {k: v for k, v in connection.settings_dict["OPTIONS"].items() if k != "host"}
    broken.settings_dict = {
        **connection.settings_dict,
        "HOST": "127.0.0.1",
        "PORT": free_port(),
        "OPTIONS": {**options, "connect_timeout": 2},
    }
    try:
        result = health.check_database(broken)
    finally:
        broken.close()
    assert result["ok"] is False
    assert result["error"] == "OperationalError"


@pytest.mark.django_db
def test_healthz_touches_no_table(client):
    # Cheap: the only statement is SELECT 1 (plus the tenant scope's set_config from the middleware).
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response, _ = _get(client)
    assert response.status_code == 200
    statements = [q["sql"].strip().upper() for q in queries.captured_queries]
    assert "SELECT 1" in statements
    for sql in statements:
        assert " FROM " not in sql, sql


@pytest.mark.django_db
def test_middleware_answers_before_host_validation_and_scope(rf, settings):
    # Production puts HealthCheckMiddleware first: a probe with a Host outside ALLOWED_HOSTS (the
    # container's 127.0.0.1) still gets its answer, and other paths fall through untouched.
    settings.ALLOWED_HOSTS = ["platform.example.org"]
    middleware = health.HealthCheckMiddleware(lambda request: pytest.fail("must not reach the stack"))
    response = middleware(rf.get("/healthz", HTTP_HOST="127.0.0.1:8000"))
    assert response.status_code == 200
    assert json.loads(response.content)["status"] == "ok"

    passed = []
    middleware = health.HealthCheckMiddleware(lambda request: passed.append(request.path) or "next")
    assert middleware(rf.get("/healthz/other")) == "next"
    assert middleware(rf.post("/healthz")) == "next"
    assert passed == ["/healthz/other", "/healthz"]


# ---------------------------------------------------------------- manage.py healthcheck (worker, beat)

@pytest.mark.django_db
def test_healthcheck_command_reports_ok():
    out = io.StringIO()
    call_command("healthcheck", stdout=out)
    assert out.getvalue().strip() == "ok: database, broker"


@pytest.mark.django_db
def test_healthcheck_command_names_an_unreachable_broker():
    url = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(CELERY_BROKER_URL=url, CELERY_BROKER_TRANSPORT_OPTIONS={}):
        with pytest.raises(CommandError) as failed:
            call_command("healthcheck")
    message = str(failed.value)
    assert message.startswith("unhealthy: broker (") and "database" not in message, message
    assert url not in message and "\n" not in message


def _healthcheck_process(tmp_path, args=(), **env) -> subprocess.CompletedProcess:
    # As the worker and beat containers run it: a fresh process, settings from the environment.
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_"))}
    environ.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "platform")]),
    )
    environ.update(env)
    return subprocess.run([sys.executable, "manage.py", "healthcheck", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.django_db
def test_healthcheck_process_exits_0_when_healthy(tmp_path):
    out = _healthcheck_process(tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok: database, broker"


@pytest.mark.django_db
def test_healthcheck_process_exits_1_with_one_line_naming_the_broker(tmp_path):
    url = f"redis://127.0.0.1:{free_port()}/0"
    out = _healthcheck_process(tmp_path, CELERY_BROKER_URL=url)
    assert out.returncode == 1, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("CommandError: unhealthy: broker ("), out.stderr
    assert url not in out.stderr and "database" not in out.stderr
    # -v 2 adds the checks' log lines, with the details an operator needs.
    verbose = _healthcheck_process(tmp_path, CELERY_BROKER_URL=url, args=["-v", "2"])
    assert verbose.returncode == 1 and "broker check failed" in verbose.stderr, verbose.stderr


@pytest.mark.django_db
def test_healthcheck_process_exits_1_naming_an_unreachable_database(tmp_path):
    url = f"postgresql://liushou_app:x@127.0.0.1:{free_port()}/liushou"
    out = _healthcheck_process(tmp_path, DATABASE_URL=url)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert out.stderr.strip() == "CommandError: unhealthy: database (OperationalError)", out.stderr
