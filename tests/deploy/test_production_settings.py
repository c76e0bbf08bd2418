"""Production settings: required variables, `check --deploy` clean, no demo data, hardened stack."""
from __future__ import annotations

import json

import pytest
from django.db import connection

from .support import database_url, production_env, required_env, run_python

# Runs the role checks (E001) against the cluster: one xdist process runs all such tests.
pytestmark = pytest.mark.xdist_group("cluster_roles")


def test_required_env_names_the_essentials():
    names = required_env()
    for name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL",
                 "FIELD_ENCRYPTION_KEYS"):
        assert name in names
    assert len(names) == len(set(names))


def test_complete_environment_imports():
    out = run_python(["-c", "import config.settings.production"], production_env())
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("missing", required_env())
def test_import_fails_naming_each_missing_variable(missing):
    for env in (production_env(**{missing: None}), production_env(**{missing: "  "})):
        out = run_python(["-c", "import config.settings.production"], env)
        assert out.returncode != 0
        assert "ImproperlyConfigured" in out.stderr
        message = out.stderr.strip().splitlines()[-1]
        assert missing in message
        # Only the missing one is named.
        assert [n for n in required_env() if n in message] == [missing]


@pytest.mark.parametrize("name, value", [
    ("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-0123456789abcdef"),
    ("FIELD_ENCRYPTION_KEYS", "dev-only-field-key"),
])
def test_development_defaults_are_refused(name, value):
    out = run_python(["-c", "import config.settings.production"], production_env(**{name: value}))
    assert out.returncode != 0 and name in out.stderr


@pytest.mark.django_db
def test_check_deploy_gives_no_warning():
    # --database runs the database checks too (tenancy.E001: the app role cannot bypass RLS),
    # against the test database this process uses.
    env = production_env(DATABASE_URL=database_url(connection.settings_dict))
    out = run_python(
        ["manage.py", "check", "--deploy", "--database", "default", "--fail-level", "WARNING"], env
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout, out.stdout + out.stderr


def test_seed_demo_is_refused_even_if_the_environment_allows_demo_data():
    # The database URL points nowhere: if the refusal were missing, the command would fail
    # differently (and could never write to a real database).
    out = run_python(["manage.py", "seed_demo"], production_env(DEMO_DATA_ALLOWED="true"))
    assert out.returncode != 0
    assert "seed_demo is refused under production settings" in out.stderr, out.stderr


PROBE = r"""
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
health = c.get("/healthz", HTTP_HOST="127.0.0.1:8000")
page = c.get("/", HTTP_HOST="platform.example.org")
bad_host = c.get("/", HTTP_HOST="evil.example.com")
print(json.dumps({
    "debug": settings.DEBUG,
    "demo": settings.DEMO_DATA_ALLOWED,
    "proxy_header": settings.SECURE_PROXY_SSL_HEADER,
    "first_middleware": settings.MIDDLEWARE[0],
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "health_status": health.status_code,
    "health": json.loads(health.content),
    "page_status": page.status_code,
    "page_location": page.get("Location"),
    "bad_host_status": bad_host.status_code,
}))
"""


@pytest.mark.django_db
def test_production_stack_serves_healthz_and_redirects_to_https(tmp_path):
    env = production_env(
        DATABASE_URL=database_url(connection.settings_dict),
        CELERY_BROKER_URL="filesystem://",
        DEMO_DATA_ALLOWED="true",
        DJANGO_DEBUG="true",
        DJANGO_STATIC_ROOT=str(tmp_path),
    )
    out = run_python(["-c", PROBE], env)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["debug"] is False and result["demo"] is False
    assert result["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert result["first_middleware"] == "config.health.HealthCheckMiddleware"
    assert result["session_secure"] and result["csrf_secure"]
    # The container's own probe: plain HTTP, Host 127.0.0.1 (not an allowed host) still answers.
    assert result["health_status"] == 200, result["health"]
    assert result["health"]["checks"]["database"]["ok"] is True
    # Everything else: plain HTTP is redirected to HTTPS, unknown hosts are refused.
    assert result["page_status"] == 301
    assert result["page_location"].startswith("https://platform.example.org/")
    assert result["bad_host_status"] == 400
