"""The 500 handler (config.urls.handler500): a clean page, never a traceback, and never a query.

A database that is restarting or unreachable is not a bug of the page: it answers **503** with
`Retry-After` (the "try again in a moment" page), everything else **500**. Requests under /api/
get JSON (`{"detail": ..., "code": ...}`) instead of HTML, like DRF's own errors.

It must work while the database is down, so it renders its template WITHOUT the request's
context processors (they read the user and the tenant tree from the database), and it does not
touch the session. The traceback goes only to the server log (django.request).
"""
from __future__ import annotations

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

# psycopg's "server closed the connection", "connection refused", "the database system is
# starting up / shutting down", "terminating connection due to administrator command".
UNAVAILABLE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 15


def _database_unavailable(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return True
        if isinstance(exc, DatabaseError):
            return False  # a query error (constraint, syntax): a bug, so 500
        exc = exc.__cause__ or exc.__context__
    return False


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


@requires_csrf_token
def server_error(request, template_name: str = "500.html"):
    unavailable = _database_unavailable(sys.exc_info()[1])
    status = 503 if unavailable else 500
    if _wants_json(request):
        if unavailable:
            body = {"detail": _("The service is briefly unavailable. Please try again in a moment."),
                    "code": "service_unavailable"}
        else:
            body = {"detail": _("Something went wrong on the server. Please try again later."), "code": "server_error"}
        response = JsonResponse(body, status=status)
    else:
        template = loader.get_template("503.html" if unavailable else template_name)
        response = HttpResponse(template.render({}), status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
