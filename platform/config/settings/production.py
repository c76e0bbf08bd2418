"""Production settings: everything secret or site-specific comes from the environment.

The process refuses to start when a required variable is missing, naming it, instead of falling
back to a development default (base.py's defaults are for `make run` only). The check runs before
base.py is imported: without DATABASE_URL, base.py would start the embedded development database.

TLS ends at a reverse proxy in front of gunicorn, which must set `X-Forwarded-Proto: https` (and
strip any such header from clients).
"""
from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

# Every name here must be set (non-empty) in the environment of web, worker and beat;
# tests/deploy checks that docker-compose.yml provides each of them to those services.
REQUIRED_ENV = [
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "FIELD_ENCRYPTION_KEYS",
]

_missing = [name for name in REQUIRED_ENV if not os.environ.get(name, "").strip()]
if _missing:
    raise ImproperlyConfigured(
        "Production settings (config.settings.production) need these environment variables, "
        f"which are missing or empty: {', '.join(_missing)}. See README.md, section Configuration."
    )

from .base import *  # noqa: E402,F401,F403
from .base import DATABASES, STATICFILES_DIRS, STORAGES, env  # noqa: E402

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
if SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is the development key; generate a real one.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS")
if "dev-only-field-key" in FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS still holds the development key; generate a real one.")

# Known demo passwords must never exist in production, whatever the environment says.
DEMO_DATA_ALLOWED = False

# Answer /healthz before host validation, the HTTPS redirect and the tenant scope, so the
# container's own probe (http://127.0.0.1:8000/healthz) works and a database outage is a clean 503.
MIDDLEWARE = ["config.health.HealthCheckMiddleware", *MIDDLEWARE]  # noqa: F405

# HTTPS, behind a reverse proxy that terminates TLS.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Cookies: HTTPS only, not readable from JavaScript (except CSRF's, which forms need), and a
# working day's session: these accounts open children's records.
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 60 * 60
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_SAMESITE = "Lax"

# Reuse connections between requests (tenant settings are transaction-local, so this is safe).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)

# collectstatic runs in the image build; hashed names let the static files be cached forever.
# The default storage (filesystem or S3) is chosen from the environment in base.py.
STORAGES = {
    "default": STORAGES["default"],
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# platform/static is optional (the apps ship their own static folders); a missing folder is not
# an error in production, so do not point staticfiles at it.
STATICFILES_DIRS = [d for d in STATICFILES_DIRS if Path(d).is_dir()]

# ---------------------------------------------------------------- hardening
# The CSRF cookie is HttpOnly too: the JavaScript (upload.js, tracker.js) reads the token from the
# form's csrfmiddlewaretoken field, never from document.cookie.
CSRF_COOKIE_HTTPONLY = True
# TOTP is required for bureau, township and school admins unless explicitly switched off.
TWO_FACTOR_REQUIRED = env.bool("TWO_FACTOR_REQUIRED", default=True)
# Behind the TLS proxy, REMOTE_ADDR is the proxy: the client is the last X-Forwarded-For entry
# (the proxy must append it, e.g. nginx's $proxy_add_x_forwarded_for).
# tenancy.client_ip reads the setting per request (login lockouts, API throttles, access log).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
