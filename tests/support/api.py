"""API clients that authenticate like real ones (a token through the middleware), and query counts."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tenancy import services
from tenancy.models import ApiToken


def client_for(user) -> APIClient:
    """A client sending `Authorization: Token ...`, so TenantScopeMiddleware scopes it for real
    (force_authenticate would bypass the middleware and be refused by the base class)."""
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_key(user)}")
    return client


def api_key(user) -> str:
    """A fresh API token of the user (knox keeps only digests: a key cannot be looked up again)."""
    _token, key = ApiToken.objects.create(user=user)
    return key


@pytest.fixture
def api_as(tree):
    """api_as("gupei_admin") -> an authenticated client; api_as("anonymous") -> no credentials."""

    def make(role: str) -> APIClient:
        return client_for(None if role == "anonymous" else getattr(tree, role))

    return make


def queries_for(fn) -> int:
    """How many SQL queries fn() runs (to pin that a list costs the same for 4 schools or 40)."""
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def add_schools(tree, n: int) -> None:
    for i in range(n):
        services.school_create(district=tree.district, name=f"加测小学{i}", code=f"extra-{i}", parent=tree.gupei)
