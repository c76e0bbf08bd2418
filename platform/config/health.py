"""`/healthz`: is this process able to serve? Reports the database and the Celery broker.

200 when every check passes, 503 otherwise, naming the failing part. Cheap (probes call it every
few seconds) and never reads school-owned data: `SELECT 1`, and a broker connection opened and
closed. Three ways in, one answer: the URL route (the whole middleware stack);
`HealthCheckMiddleware`, which production puts first, so a probe from inside the container works
whatever DJANGO_ALLOWED_HOSTS says and a database outage is a JSON 503, not the tenancy
middleware's 500; and `manage.py healthcheck` (ops) for the worker and beat, which serve no HTTP.
"""
from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import connection as default_connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# Seconds: a probe must answer well inside Docker's healthcheck timeout.
BROKER_TIMEOUT = 2.0
# The filesystem transport's folders, as set in CELERY_BROKER_TRANSPORT_OPTIONS (settings/base.py).
FILESYSTEM_FOLDER_OPTIONS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def _failure(exc: BaseException) -> dict:
    # Name the exception class only: messages can carry host names or credentials; the log has them.
    return {"ok": False, "error": type(exc).__name__}


def check_database(connection=None) -> dict:
    """`SELECT 1` on the given connection (default: Django's). Touches no table."""
    conn = connection or default_connection
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not healthy"; never raise out of a probe
        logger.warning("healthz: database check failed: %s", exc)
        return _failure(exc)
    return {"ok": True}


def check_broker(url: str | None = None, transport_options: dict | None = None) -> dict:
    """Connect to the Celery broker with a short timeout.

    kombu's filesystem transport has no server: it is healthy when its folders exist and are
    writable.
    """
    url = url if url is not None else settings.CELERY_BROKER_URL
    options = dict(
        transport_options if transport_options is not None
        else getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {}) or {}
    )
    if url.startswith("filesystem://"):
        folders = [options[key] for key in FILESYSTEM_FOLDER_OPTIONS if options.get(key)]
        if not folders:
            return {"ok": False, "error": "filesystem transport has no folders configured"}
        bad = [f for f in folders if not (os.path.isdir(f) and os.access(f, os.W_OK))]
        if bad:
            logger.warning("healthz: broker folders missing or not writable: %s", bad)
            return {"ok": False, "error": "broker folder missing or not writable"}
        return {"ok": True, "transport": "filesystem"}

    from kombu import Connection

    # Redis reads its timeouts from the transport options, AMQP from connect_timeout.
    options.update(socket_connect_timeout=BROKER_TIMEOUT, socket_timeout=BROKER_TIMEOUT)
    try:
        with Connection(url, connect_timeout=BROKER_TIMEOUT, transport_options=options) as conn:
            # max_retries=0: fail on the first refusal instead of kombu's retry-with-backoff.
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
            transport = conn.transport_cls
    except Exception as exc:
        logger.warning("healthz: broker check failed: %s", exc)
        return _failure(exc)
    return {"ok": True, "transport": str(transport)}


def run_checks() -> dict[str, dict]:
    """Every check, by name: /healthz and `manage.py healthcheck` (worker and beat) share them."""
    return {"database": check_database(), "broker": check_broker()}


def health_response() -> JsonResponse:
    checks = run_checks()
    healthy = all(check["ok"] for check in checks.values())
    body = {
        "status": "ok" if healthy else "error",
        "failing": [name for name, check in checks.items() if not check["ok"]],
        "checks": checks,
    }
    response = JsonResponse(body, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
@require_safe
def healthz(request):
    return health_response()


class HealthCheckMiddleware:
    """Answer GET/HEAD /healthz before the rest of the stack (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == HEALTH_PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
