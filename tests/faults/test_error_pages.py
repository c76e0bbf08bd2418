"""The 500 handler (config/errors.py), in-process: a database outage is a 503 with Retry-After
(the "briefly unavailable" page, or JSON under /api/), any other error a 500; never a traceback,
and the handler itself reads nothing from the database. The same against a real restarting
database and a live gunicorn: test_database_restart.py."""
from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, OperationalError

from tenancy import middleware


@pytest.fixture
def broken(monkeypatch, client, tree):
    """Make the tenant-scope middleware (the first database read of every request) raise."""
    client.raise_request_exception = False
    client.force_login(tree.gupei_admin)

    def set_error(exc):
        def boom(user):
            raise exc

        monkeypatch.setattr(middleware.selectors, "school_ids_for_user", boom)

    return set_error


def _no_traceback(body: str) -> None:
    assert "Traceback" not in body and "psycopg" not in body and "server closed" not in body


def test_database_outage_page_is_a_503(client, broken):
    broken(OperationalError("server closed the connection unexpectedly"))
    response = client.get("/")
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "15"
    assert "<h1>服务暂时不可用</h1>" in body
    _no_traceback(body)


def test_database_outage_api_is_json(client, broken):
    broken(OperationalError("the database system is shutting down"))
    response = client.get("/api/v1/me/")
    assert response.status_code == 503 and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["code"] == "service_unavailable"
    _no_traceback(response.content.decode())


def test_other_errors_are_a_plain_500(client, broken):
    broken(IntegrityError("duplicate key value violates unique constraint"))
    response = client.get("/")
    assert response.status_code == 500 and not response.has_header("Retry-After")
    assert "服务器错误" in response.content.decode()
    _no_traceback(response.content.decode())
    response = client.get("/api/v1/me/")
    assert response.status_code == 500 and json.loads(response.content)["code"] == "server_error"


def test_the_handler_reads_nothing_from_the_database(db, rf, django_assert_num_queries):
    from config.errors import server_error

    request = rf.get("/children/")
    try:
        raise OperationalError("connection refused")
    except OperationalError:
        with django_assert_num_queries(0):
            response = server_error(request)
    assert response.status_code == 503
