"""Every request runs inside the scope of the user who makes it (fail closed)."""
from __future__ import annotations

from django.db import transaction

from . import selectors
from .scoping import tenant_scope


def _token_user(request):
    """Resolve a DRF token so API requests get their scope before the view runs.

    DRF authenticates again inside the view; the API base class checks both agree.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "token":
        return None
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=parts[1]).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


class TenantScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else (_token_user(request) or request.user)
        request.scope_user = user
        school_ids = selectors.school_ids_for_user(user) if user.is_authenticated else []
        district_ids = selectors.district_ids_for_user(user) if user.is_authenticated else []
        request.school_ids = school_ids
        with tenant_scope(school_ids, district_ids=district_ids):
            response = self.get_response(request)
            if response.status_code >= 500:
                # An error page must not commit half of the request's writes.
                transaction.set_rollback(True)
        return response
