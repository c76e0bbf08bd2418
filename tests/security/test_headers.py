"""Security headers and cookies, read from real responses.

Under production settings (a subprocess with config.settings.production against the test database):
HSTS, CSP without 'unsafe-inline' for scripts, frame-ancestors / X-Frame-Options, Referrer-Policy,
Permissions-Policy, and Secure + HttpOnly + SameSite session and CSRF cookies after a real login.
In the test settings too, every page carries the same CSP (so the e2e tests run under it).
"""
from __future__ import annotations

import json

import pytest
from django.db import connection
from django.urls import reverse

from tests.deploy.support import database_url, production_env, run_python

PROBE = r"""
import json, django
django.setup()
from django.test import Client, override_settings
from tenancy.models import User

# collectstatic has not run: serve unhashed static names so templates render.
with override_settings(STORAGES={
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}):
    User.objects.create_user(username="probe_teacher", password="A-long-probe-passphrase-1")
    c = Client(HTTP_HOST="platform.example.org", HTTP_X_FORWARDED_PROTO="https")
    page = c.get("/login/")
    login = c.post("/login/", {"username": "probe_teacher", "password": "A-long-probe-passphrase-1"})
    docs = c.get("/api/docs/")
def cookies(response):
    return {name: {k: str(v) for k, v in morsel.items() if v} for name, morsel in response.cookies.items()}
print(json.dumps({
    "page_status": page.status_code,
    "headers": dict(page.headers),
    "page_cookies": cookies(page),
    "login_status": login.status_code,
    "login_cookies": cookies(login),
    "docs_status": docs.status_code,
    "docs_csp": docs.headers.get("Content-Security-Policy", ""),
    "docs_body": docs.content.decode(),
}))
"""


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.fixture
def production_probe(transactional_db, tmp_path):
    env = production_env(DATABASE_URL=database_url(connection.settings_dict), CELERY_BROKER_URL="filesystem://",
                         CELERY_FILESYSTEM_BROKER_DIR=str(tmp_path / "broker"), DJANGO_STATIC_ROOT=str(tmp_path))
    out = run_python(["-c", PROBE], env)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_production_headers(production_probe):
    result = production_probe
    assert result["page_status"] == 200
    headers = {k.lower(): v for k, v in result["headers"].items()}
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["x-content-type-options"] == "nosniff"
    policy = headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy
    csp = _directives(headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]


def test_production_cookies_are_secure_httponly_samesite(production_probe):
    result = production_probe
    csrf = result["page_cookies"]["csrftoken"]
    assert csrf.get("secure") == "True" and csrf.get("httponly") == "True" and csrf.get("samesite") == "Lax"
    assert result["login_status"] == 302, "the probe user could not log in"
    session = result["login_cookies"]["sessionid"]
    assert session.get("secure") == "True" and session.get("httponly") == "True" and session.get("samesite") == "Lax"


def test_swagger_ui_needs_no_inline_script(production_probe):
    result = production_probe
    assert result["docs_status"] == 200
    assert "'unsafe-inline'" not in _directives(result["docs_csp"])["script-src"]
    body = result["docs_body"]
    # Every <script> has a src: the init script is a separate URL (the split view).
    assert body.count("<script") == body.count("<script src=")


def test_every_page_in_the_test_settings_carries_the_csp(client, tree):
    client.force_login(tree.gupei_admin)
    for url in (reverse("home"), reverse("login"), reverse("account_security")):
        response = client.get(url, follow=True)
        csp = _directives(response.headers["Content-Security-Policy"])
        assert csp["script-src"] == ["'self'"], url
        assert response.headers["X-Frame-Options"] == "DENY"


def test_no_template_has_inline_script_or_event_handler():
    """The CSP would block them in the browser: keep them out of every template."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for path in root.glob("**/templates/**/*.html"):
        if ".venv" in path.parts:
            continue
        text = path.read_text()
        for match in re.finditer(r"<script\b[^>]*>", text):
            if "src=" not in match.group(0):
                offenders.append(f"{path}: {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=", text):
            offenders.append(f"{path}: {match.group(0).strip()}")
        if "javascript:" in text:
            offenders.append(f"{path}: javascript: URL")
    assert offenders == []
