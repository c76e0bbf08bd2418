"""docker-compose.yml, checked without a Docker engine: structure, names that exist, environment."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from django.db import connection

from . import compose_check
from .support import ROOT, database_url, free_port, production_env, required_env, run_python

COMPOSE_FILE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def check(data: dict) -> list[str]:
    return compose_check.problems(data, required_env=required_env(), root=ROOT)


def test_compose_file_passes_every_rule(compose):
    assert check(compose) == []


def test_five_services_and_exactly_one_beat(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}
    assert [n for n, s in compose["services"].items() if compose_check.is_beat(s)] == ["beat"]


def test_every_required_variable_reaches_web_worker_and_beat(compose):
    names = required_env()
    assert names  # the rule below must check something
    for service in ("web", "worker", "beat"):
        env = compose_check.environment(compose["services"][service])
        assert set(names) <= set(env), (service, set(names) - set(env))
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"


def test_only_web_migrates_and_holds_the_owner_and_superuser_urls(compose):
    """web's entrypoint migrates as the owner role; worker and beat run as the runtime role only."""
    services = compose["services"]
    web = compose_check.environment(services["web"])
    assert compose_check._url_user(web["DATABASE_OWNER_URL"]) == "liushou_owner"
    assert compose_check._url_user(web["DATABASE_URL"]) == "liushou_app"
    assert "${OWNER_DB_PASSWORD:?" in web["DATABASE_OWNER_URL"]
    for name in ("worker", "beat"):
        env = compose_check.environment(services[name])
        assert "DATABASE_OWNER_URL" not in env and "DATABASE_ADMIN_URL" not in env, name
        assert compose_check._url_user(env["DATABASE_URL"]) == "liushou_app"
    assert "OWNER_DB_PASSWORD=" in (ROOT / "deploy" / "env.example").read_text()


def test_deploy_files_exist():
    for path in ("deploy/Dockerfile", "deploy/gunicorn.conf.py", "deploy/entrypoint.sh"):
        assert (ROOT / path).is_file(), path
    assert os.access(ROOT / "deploy" / "entrypoint.sh", os.X_OK)
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    assert "pip install ." in dockerfile and "collectstatic" in dockerfile


# Each mutation breaks one rule; the checker must notice it (proof that the rules can fail).
def _drop_env(var, service):
    def mutate(data):
        data["services"][service]["environment"].pop(var)
    return mutate


def _set(path, value):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(data):
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return mutate


def _second_beat(data):
    data["services"]["beat2"] = copy.deepcopy(data["services"]["beat"])


MUTATIONS = {
    "missing env var in worker": (_drop_env("FIELD_ENCRYPTION_KEYS", "worker"), "worker: environment lacks FIELD_ENCRYPTION_KEYS"),
    "missing env var in beat": (_drop_env("DATABASE_URL", "beat"), "beat: environment lacks DATABASE_URL"),
    "empty env var in web": (_set(["services", "web", "environment", "CELERY_BROKER_URL"], ""), "web: environment lacks CELERY_BROKER_URL"),
    "silently empty interpolation": (_set(["services", "web", "environment", "DJANGO_SECRET_KEY"], "${DJANGO_SECRET_KEY}"), "empty when unset"),
    "second beat service": (_second_beat, "exactly one service may run Celery beat"),
    "worker with embedded beat": (_set(["services", "worker", "command"], ["celery", "-A", "config.celery_app", "worker", "-B"]), "exactly one service may run Celery beat"),
    "beat scaled": (_set(["services", "beat", "deploy"], {"replicas": 2}), "must not be scaled"),
    "beat without database scheduler": (_set(["services", "beat", "command"], ["celery", "-A", "config.celery_app", "beat"]), "DatabaseScheduler"),
    "missing redis service": (_delete(["services", "redis"]), "missing ['redis']"),
    "wrong postgres image": (_set(["services", "postgres", "image"], "postgres:13"), "postgres:16"),
    "missing gunicorn config": (_set(["services", "web", "command"], ["gunicorn", "--config", "deploy/nope.conf.py", "config.wsgi:application"]), "deploy/nope.conf.py"),
    "missing entrypoint": (_set(["services", "web", "entrypoint"], ["/app/deploy/missing.sh"]), "deploy/missing.sh"),
    "missing Dockerfile": (_set(["services", "worker", "build"], {"context": ".", "dockerfile": "deploy/Nope"}), "does not exist"),
    "healthcheck not on /healthz": (_set(["services", "web", "healthcheck", "test"], ["CMD", "true"]), "/healthz"),
    "beat without a healthcheck": (_delete(["services", "beat", "healthcheck"]), "beat: has no healthcheck"),
    "worker healthcheck disabled": (_set(["services", "worker", "healthcheck"], {"disable": True}), "worker: has no healthcheck"),
    "worker healthcheck checks nothing": (_set(["services", "worker", "healthcheck", "test"], ["CMD", "true"]),
                                          "worker: healthcheck must check the database and the broker"),
    "healthcheck names a missing command": (_set(["services", "beat", "healthcheck", "test"], "python manage.py healthcheck && python manage.py beat_alive"),
                                            "beat: healthcheck runs manage.py beat_alive, which does not exist"),
    "depends_on without health condition": (_set(["services", "web", "depends_on"], ["postgres", "redis"]), "service_healthy"),
    "beat does not wait for migrations": (_delete(["services", "beat", "depends_on", "web"]), "beat: must wait for web"),
    "postgres data not persisted": (_delete(["services", "postgres", "volumes"]), "named volume"),
    "media not on a volume": (_delete(["services", "worker", "volumes"]), "worker: DJANGO_MEDIA_ROOT"),
    "owner URL in the worker": (
        _set(["services", "worker", "environment", "DATABASE_OWNER_URL"], "postgresql://liushou_owner:x@postgres/liushou"),
        "worker: has DATABASE_OWNER_URL"),
    "superuser URL in beat": (
        _set(["services", "beat", "environment", "DATABASE_ADMIN_URL"], "postgresql://postgres:x@postgres/postgres"),
        "beat: has DATABASE_ADMIN_URL"),
    "migrating without the owner URL": (_drop_env("DATABASE_OWNER_URL", "web"), "web: migrates, so it needs DATABASE_OWNER_URL"),
    "migrating as the app's role": (
        _set(["services", "web", "environment", "DATABASE_OWNER_URL"], "postgresql://liushou_app:${APP_DB_PASSWORD:?x}@postgres/liushou"),
        "name the same role 'liushou_app'"),
}


@pytest.mark.parametrize("case", MUTATIONS)
def test_checker_catches_a_broken_compose_file(compose, case):
    mutate, expected = MUTATIONS[case]
    broken = copy.deepcopy(compose)
    mutate(broken)
    found = check(broken)
    assert any(expected in p for p in found), found


def test_every_app_service_has_a_healthcheck_on_the_database_and_broker(compose):
    services = compose["services"]
    assert "/healthz" in " ".join(compose_check.healthcheck_args(services["web"]))
    for name in ("worker", "beat"):
        args = compose_check.healthcheck_args(services[name])
        assert compose_check.HEALTH_COMMAND in compose_check.manage_commands(args), (name, args)
    assert compose_check.management_command_exists(ROOT, compose_check.HEALTH_COMMAND)
    assert compose_check.management_command_exists(ROOT, "migrate")  # Django's own count too
    assert not compose_check.management_command_exists(ROOT, "no_such_command")


@pytest.mark.django_db
def test_worker_and_beat_healthchecks_pass_as_the_containers_run_them(compose, tmp_path):
    # Each `manage.py ...` part of the healthcheck, run for real under production settings against
    # the test database and a filesystem broker (the worker's `inspect ping` part needs a worker).
    env = production_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL="filesystem://",
        CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"),
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
    )
    for name in ("worker", "beat"):
        args = compose_check.healthcheck_args(compose["services"][name])
        for command in compose_check.manage_commands(args):
            out = run_python(["manage.py", command], env)
            assert out.returncode == 0, (name, command, out.stderr)
            assert out.stdout.strip() == "ok: database, broker", out.stdout
    broken = run_python(["manage.py", compose_check.HEALTH_COMMAND], {**env, "CELERY_BROKER_URL": "redis://127.0.0.1:1/0"})
    assert broken.returncode == 1 and "unhealthy: broker" in broken.stderr, broken.stderr


def test_commands_name_modules_that_exist(compose):
    refs = compose_check.module_refs(compose)
    named = {ref for _, ref in refs}
    assert {"config.wsgi:application", "config.celery_app", compose_check.BEAT_SCHEDULER} <= named
    # Import each one the way the container would: production settings, platform/ on the path.
    code = (
        "import importlib, json, sys\n"
        "out = {}\n"
        "for ref in json.loads(sys.argv[1]):\n"
        "    module, _, attr = ref.partition(':')\n"
        "    obj = importlib.import_module(module)\n"
        "    obj = getattr(obj, attr) if attr else getattr(obj, 'app')\n"
        "    out[ref] = type(obj).__name__\n"
        "print(json.dumps(out))\n"
    )
    out = run_python(["-c", code, json.dumps(sorted(named))], production_env())
    assert out.returncode == 0, out.stderr
    kinds = json.loads(out.stdout.strip().splitlines()[-1])
    assert kinds["config.wsgi:application"] == "WSGIHandler"
    assert kinds["config.celery_app"] == "Celery"


def test_a_bad_module_reference_fails_to_import():
    out = run_python(["-c", "import importlib; importlib.import_module('config.wsgi_missing')"], production_env())
    assert out.returncode != 0


@pytest.mark.django_db
def test_web_command_serves_healthz(compose, tmp_path):
    # Run web's compose command for real (gunicorn, deploy/gunicorn.conf.py, production settings)
    # against the test database and the filesystem broker, then probe it as the healthcheck does.
    command = compose_check.as_list(compose["services"]["web"]["command"])
    assert command[0] == "gunicorn"
    port = free_port()
    env = production_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL="filesystem://",
        PORT=str(port),
        WEB_CONCURRENCY="1",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", *command], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline, body, status = time.monotonic() + 60, None, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?secret=xyz", timeout=5) as resp:
                    status, body = resp.status, json.loads(resp.read())
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
    finally:
        proc.terminate()
        try:
            logs = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            logs = proc.communicate()[0]
    assert status == 200, logs
    assert body["status"] == "ok", body
    # The access log has the path, never the query string.
    assert "GET /healthz HTTP/1.1\" 200" in logs, logs
    assert "secret=xyz" not in logs


def test_gunicorn_config_reads_the_environment():
    code = (
        "import json, runpy; c = runpy.run_path('deploy/gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('bind', 'workers', 'timeout', 'access_log_format', 'pythonpath')}))"
    )
    env = production_env(PORT="9123", WEB_CONCURRENCY="5", GUNICORN_TIMEOUT="42")
    out = run_python(["-c", code], env)
    assert out.returncode == 0, out.stderr
    conf = json.loads(out.stdout)
    assert conf["bind"] == "0.0.0.0:9123"
    assert conf["workers"] == 5 and conf["timeout"] == 42
    assert str(ROOT / "platform") in conf["pythonpath"].split(",")
    for query_bearing in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert query_bearing not in conf["access_log_format"]


def test_collectstatic_works_under_production_settings(tmp_path):
    # The Dockerfile runs this at build time with placeholder values.
    out = run_python(["manage.py", "collectstatic", "--noinput"], production_env(DJANGO_STATIC_ROOT=str(tmp_path)))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "staticfiles.json").is_file()


def test_every_compose_variable_is_in_the_env_example():
    import re

    lines = [line for line in COMPOSE_FILE.read_text().splitlines() if not line.lstrip().startswith("#")]
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", "\n".join(lines)))
    assert {"DJANGO_SECRET_KEY", "POSTGRES_PASSWORD", "APP_DB_PASSWORD"} <= used
    example = (ROOT / "deploy" / "env.example").read_text()
    assert sorted(v for v in used if not re.search(rf"^#?\s*{v}=", example, re.M)) == []
