"""Every request runs inside the scope of the user who makes it (fail closed)."""
from __future__ import annotations

from django.db import transaction

from . import replica, selectors
from .scoping import tenant_scope
from .tokens import user_for_request


def _token_user(request):
    """Resolve an API token so API requests get their scope before the view runs: the same check
    (tenancy.tokens.TokenAuthentication: digest, expiry, active user) DRF runs again inside the
    view; the API base class checks both agree."""
    return user_for_request(request)


class TenantScopeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user if request.user.is_authenticated else (_token_user(request) or request.user)
        request.scope_user = user
        school_ids = selectors.school_ids_for_user(user) if user.is_authenticated else []
        district_ids = selectors.district_ids_for_user(user) if user.is_authenticated else []
        request.school_ids = school_ids
        with tenant_scope(school_ids, district_ids=district_ids), \
                replica.reading_as(user.pk if user.is_authenticated else None, school_ids):
            response = self.get_response(request)
            if response.status_code >= 500:
                # An error page must not commit half of the request's writes.
                transaction.set_rollback(True)
            else:
                # Replica reads after this request must include its writes (tenancy.replica).
                replica.note_writes()
        return response
