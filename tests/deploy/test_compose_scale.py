"""deploy/docker-compose.scale.yml layered over docker-compose.yml, checked without a Docker engine
by the same rules as the base file (tests/deploy/compose_check.py), plus the layout's own."""
from __future__ import annotations

import copy

import pytest

from config.queues import queues

from . import compose_check
from .support import ROOT, required_env

BASE = ROOT / "docker-compose.yml"
OVERRIDE = ROOT / "deploy" / "docker-compose.scale.yml"
SERVICES = {"postgres", "redis", "migrate", "web", "nginx", "worker", "worker-exports", "beat"}
QUEUES = queues("celery")  # compose sets no CELERY_TASK_DEFAULT_QUEUE


@pytest.fixture(scope="module")
def layout() -> dict:
    return compose_check.merged(BASE, OVERRIDE)


def check(data: dict) -> list[str]:
    return compose_check.problems(data, required_env=required_env(), root=ROOT, expected=SERVICES, queues=QUEUES)


def test_scale_layout_passes_every_rule(layout):
    assert check(layout) == []


def test_base_file_consumes_every_queue_too():
    base = compose_check.load(BASE)
    assert compose_check.problems(base, required_env=required_env(), root=ROOT, queues=QUEUES) == []


def test_each_queue_has_its_own_pool(layout):
    s = layout["services"]
    assert compose_check.worker_queues(s["worker"]) == {"celery"}
    assert compose_check.worker_queues(s["worker-exports"]) == {"celery-exports"}
    # Distinct node names, and each healthcheck pings its own node.
    assert "interactive@%h" in s["worker"]["command"] and "exports@%h" in s["worker-exports"]["command"]
    assert "interactive@" in " ".join(s["worker"]["healthcheck"]["test"])
    assert "exports@" in " ".join(s["worker-exports"]["healthcheck"]["test"])


def test_replicas_behind_nginx_and_one_migrator(layout):
    s = layout["services"]
    assert s["web"]["deploy"]["replicas"] == "${WEB_REPLICAS:-3}"
    assert not s["web"].get("ports"), "replicas cannot share a published port; nginx publishes"
    assert s["nginx"]["ports"] == ["127.0.0.1:${WEB_PORT:-8000}:80"]
    assert s["web"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert s["migrate"]["entrypoint"] == ["/app/deploy/entrypoint.sh"] and s["migrate"]["restart"] == "no"
    assert "DATABASE_ADMIN_URL" in compose_check.environment(s["migrate"])
    assert not compose_check.environment(s["web"]).get("DATABASE_ADMIN_URL"), "web needs no superuser URL"
    assert compose_check._url_user(compose_check.environment(s["migrate"])["DATABASE_OWNER_URL"]) == "liushou_owner"
    assert not compose_check.environment(s["web"]).get("DATABASE_OWNER_URL"), "web replicas run as the runtime role"
    assert [n for n, sv in s.items() if compose_check.is_beat(sv)] == ["beat"]
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server web:8000" in conf and "X-Forwarded-Proto $http_x_forwarded_proto" in conf


def test_merge_follows_compose_rules():
    """The checker reads what compose would run: extends copies, !reset removes, lists append."""
    base = {"services": {"a": {"command": ["x"], "ports": ["1:1"], "environment": {"A": "1"}}}}
    over = {"services": {"a": {"command": ["y"], "ports": compose_check._Reset(), "environment": {"B": "2"}},
                         "b": {"extends": {"service": "a"}, "volumes": ["v:/v"]}}}
    merged = {"services": dict(base["services"])}
    for name, service in over["services"].items():
        service = compose_check._resolve_extends(name, service, BASE, over["services"])
        merged["services"][name] = compose_check._merge(merged["services"].get(name), service)
    a, b = merged["services"]["a"], merged["services"]["b"]
    assert a["command"] == ["y"] and "ports" not in a and a["environment"] == {"A": "1", "B": "2"}
    assert b["command"] == ["y"] and b["volumes"] == ["v:/v"]


def _drop(name):
    def mutate(data):
        del data["services"][name]
    return mutate


def _set(service, key, value):
    def mutate(data):
        data["services"][service][key] = value
    return mutate


MUTATIONS = {
    "no exports pool": (_drop("worker-exports"), "no worker consumes the Celery queue 'celery-exports'"),
    "interactive pool on the wrong queue": (
        _set("worker", "command", ["celery", "-A", "config.celery_app", "worker", "-Q", "exports"]),
        "no worker consumes the Celery queue 'celery'"),
    "replicas migrating": (_set("web", "entrypoint", ["/app/deploy/entrypoint.sh"]), "exactly one service may run deploy/entrypoint.sh"),
    "scaled migrator": (_set("migrate", "deploy", {"replicas": 2}), "must not be scaled"),
    "missing nginx.conf": (_set("nginx", "volumes", ["./deploy/nope.conf:/etc/nginx/conf.d/default.conf:ro"]), "deploy/nope.conf"),
    "exports pool lacks a secret": (
        lambda d: d["services"]["worker-exports"]["environment"].pop("FIELD_ENCRYPTION_KEYS"),
        "worker-exports: environment lacks FIELD_ENCRYPTION_KEYS"),
    "exports pool without media": (_set("worker-exports", "volumes", []), "worker-exports: DJANGO_MEDIA_ROOT"),
    "second beat": (_set("worker-exports", "command", ["celery", "-A", "config.celery_app", "worker", "-B"]),
                    "exactly one service may run Celery beat"),
    "web replicas with the owner URL": (
        lambda d: d["services"]["web"]["environment"].update(DATABASE_OWNER_URL="postgresql://liushou_owner:x@postgres/liushou"),
        "web: has DATABASE_OWNER_URL"),
    "waits on a long-running service to exit": (
        _set("web", "depends_on", {"nginx": {"condition": "service_completed_successfully"}}), "service_healthy"),
}


@pytest.mark.parametrize("case", MUTATIONS)
def test_checker_catches_a_broken_scale_layout(layout, case):
    mutate, expected = MUTATIONS[case]
    broken = copy.deepcopy(layout)
    mutate(broken)
    found = check(broken)
    assert any(expected in p for p in found), found
