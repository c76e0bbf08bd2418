"""Scopes for tests that call a selector or read rows directly, outside a request."""
from __future__ import annotations

from contextlib import contextmanager

from tenancy import selectors
from tenancy.scoping import system_school_ids, tenant_scope


@contextmanager
def user_scope(user):
    """The scope TenantScopeMiddleware gives `user`'s requests: its schools and its districts."""
    with tenant_scope(selectors.school_ids_for_user(user), district_ids=selectors.district_ids_for_user(user)):
        yield


@contextmanager
def every_tenant():
    """A test's view of every school and district, to check what was (not) written anywhere."""
    from tenancy.models import District

    with tenant_scope(system_school_ids(), district_ids=District.objects.values_list("id", flat=True)):
        yield
