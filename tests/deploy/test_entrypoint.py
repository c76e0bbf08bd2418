"""deploy/entrypoint.sh for real: db_bootstrap as the superuser, migrate as the app role, then exec."""
from __future__ import annotations

import os
import secrets
import subprocess
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.support.services import require

from .support import ROOT, production_env

ROLE = DBNAME = "liushou_entrypoint_test"


def _admin_url() -> str | None:
    if os.environ.get("DATABASE_ADMIN_URL"):
        return os.environ["DATABASE_ADMIN_URL"]
    if not os.environ.get("DATABASE_URL"):
        from config import embedded_db

        server = getattr(embedded_db, "_server", None)
        if server is not None:
            return server.get_uri()
    return None


def _with_credentials(url: str, user: str, password: str, dbname: str) -> str:
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", f"/{dbname}", parts.query, ""))


def _drop(admin_url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME)))
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))


@pytest.fixture
def admin_url():
    url = _admin_url()
    require(url is not None, "no superuser URL: set DATABASE_ADMIN_URL next to DATABASE_URL")
    _drop(url)
    yield url
    _drop(url)


PROBE = "import os; print('admin url left' if 'DATABASE_ADMIN_URL' in os.environ else 'admin url gone')"


def test_entrypoint_bootstraps_the_role_migrates_and_execs(admin_url):
    app_url = _with_credentials(admin_url, ROLE, secrets.token_hex(12), DBNAME)
    env = production_env(DATABASE_ADMIN_URL=admin_url, DATABASE_URL=app_url)
    for attempt in (1, 2):  # a restarted container runs it again: idempotent
        out = subprocess.run(
            ["deploy/entrypoint.sh", "python", "-c", PROBE],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )
        assert out.returncode == 0, (attempt, out.stdout, out.stderr)
        lines = out.stdout.splitlines()
        assert f"role {ROLE} and database {DBNAME} are ready" in out.stdout
        # The order: bootstrap, then migrate, then the command, which no longer sees the superuser URL.
        assert lines[-1] == "admin url gone", out.stdout
        assert out.stdout.index("are ready") < out.stdout.index("entrypoint: migrate") < out.stdout.index("admin url gone")

    with psycopg.connect(admin_url, autocommit=True) as conn:
        rolsuper, bypass = conn.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [ROLE]
        ).fetchone()
    assert not rolsuper and not bypass
    with psycopg.connect(app_url) as conn:
        applied = conn.execute("SELECT count(*) FROM django_migrations WHERE app = 'tenancy'").fetchone()[0]
    assert applied > 0


def test_entrypoint_stops_when_a_step_fails(admin_url):
    # After a good bootstrap, point the app at a database that does not exist (without the admin
    # URL nothing creates it): migrate fails and nothing must be served.
    app_url = _with_credentials(admin_url, ROLE, "right-password", DBNAME)
    env = production_env(DATABASE_ADMIN_URL=admin_url, DATABASE_URL=app_url)
    first = subprocess.run(["deploy/entrypoint.sh", "true"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    env["DATABASE_URL"] = _with_credentials(admin_url, ROLE, "right-password", DBNAME + "_missing")
    env.pop("DATABASE_ADMIN_URL")
    out = subprocess.run(
        ["deploy/entrypoint.sh", "python", "-c", "print('served')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode != 0
    assert "entrypoint: migrate" in out.stdout  # it got as far as migrate, which failed
    assert f'database "{DBNAME}_missing" does not exist' in out.stderr, out.stderr
    assert "served" not in out.stdout
