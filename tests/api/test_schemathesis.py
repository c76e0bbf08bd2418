"""Schema fuzzing: schemathesis sends requests generated from the live OpenAPI schema
(/api/schema/) to the real app, as each demo role, and checks every answer against the schema.

Each role's test fails when any operation gives a server error (5xx) or an answer the schema does
not describe: an undocumented status code, another content type, or a body that breaks the
response schema. The failure lists each such operation with the check that failed, the response
and a curl command that reproduces the request (plus the server's traceback for a 5xx).

How it stays real, bounded and deterministic:
- the demo district (`manage.py seed_demo`) is loaded once for the module into the real PostgreSQL
  test database, with the id sequences reset first, so ids are the same on every run;
- every request runs in a savepoint that is rolled back afterwards, so destructive operations
  (DELETE, a revoked token) cannot change what the next request sees;
- Hypothesis is derandomized and runs a fixed number of examples per operation (valid inputs,
  then invalid ones); path ids and references in valid inputs are drawn from ids that exist
  (seen by this role and by the bureau, i.e. also other schools' objects), or kept as generated;
- DRF throttling is switched off for the run (whether or not throttles are configured).
"""
from __future__ import annotations

import copy
import traceback

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, Verbosity, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.views import APIView
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client as WerkzeugClient

from tenancy.models import User
from tests.support.demo import seeded_demo

ROLES = ("bureau_admin", "bureau_inspector", "gupei_township", "gupei_admin", "gupei_teacher", "gupei_clerk")
# Examples per operation and role: valid inputs first, then invalid ones.
# 170 operations x 6 roles x 4 examples is about 4,000 requests, 2-3 minutes on 2 cores.
EXAMPLES = {GenerationMode.POSITIVE: 3, GenerationMode.NEGATIVE: 1}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]
API = "/api/v1"
# Request fields (body or query) that name another object -> the list its ids come from (and the key
# of the id in that list's rows). Valid inputs draw from these ids so that writes can succeed.
REFERENCES = {
    "school": ("/schools/", "id"), "parent": ("/schools/", "id"), "root_school": ("/schools/", "id"),
    "schools": ("/schools/", "id"), "district": ("/districts/", "id"), "child": ("/children/", "id"),
    "participant": ("/children/", "id"), "semester": ("/semesters/", "id"), "activity": ("/activities/", "id"),
    "training_meeting": ("/training-meetings/", "id"), "care_contact": ("/care-contacts/", "id"),
    "assessment": ("/compliance/assessments/", "id"), "checklist_version": ("/compliance/checklists/", "id"),
    "based_on": ("/compliance/checklists/", "id"), "submission": ("/submissions/", "id"),
    "period": ("/report-periods/", "id"), "report_type": ("/report-types/", "id"), "pair": ("/study-pairs/", "id"),
    "evidence_ids": ("/evidence/", "id"), "user": ("/memberships/", "user"), "teacher": ("/memberships/", "user"),
    "proxy_parent": ("/memberships/", "user"), "attendees": ("/memberships/", "user"),
    "attendee": ("/memberships/", "user"), "case": ("/care-cases/", "id"),
}
POOL_SIZE = 3  # ids taken from each list (the role's own view and the bureau's)


@pytest.fixture(scope="module")
def demo_district(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo district, seeded once for this module inside a transaction rolled back at its end.
    Each test's own transaction (the `db` fixture) nests inside it as a savepoint."""
    with seeded_demo(django_db_blocker, str(tmp_path_factory.mktemp("fuzz-media"))):
        yield


@pytest.fixture
def live_app(demo_district, db, settings, monkeypatch):
    """Django's WSGI app, as a server runs it, minus what would break the test's transaction or
    rate-limit the fuzzer. Yields (app, server_errors): the tracebacks of 5xx answers."""
    # Throttles may come from settings or from a view's own throttle_classes: switch off both.
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    monkeypatch.setattr(APIView, "check_throttles", lambda self, request: None)
    # A real server closes the connection after each request; here it holds the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    server_errors: list[str] = []

    def record(sender, request=None, **kwargs):
        server_errors.append(traceback.format_exc())

    got_request_exception.connect(record, weak=False)
    try:
        yield WSGIHandler(), server_errors
    finally:
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _ids(app, token: str, path: str, key: str) -> list[int]:
    """The first ids of a list as the token's user sees it (through the WSGI app: Django's test
    client would reconnect the connection-closing signals the fixture disconnected)."""
    response = WerkzeugClient(app).get(f"{API}{path}", headers={"Authorization": f"Token {token}"})
    if response.status_code != 200:
        return []
    body = response.get_json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    ids: list[int] = []
    for row in rows:
        value = row.get(key) if isinstance(row, dict) else None
        value = value.get("id") if isinstance(value, dict) else value
        if isinstance(value, int) and value not in ids:
            ids.append(value)
        if len(ids) == POOL_SIZE:
            break
    return ids


def _token(username: str) -> str:
    from tenancy.models import ApiToken

    return ApiToken.objects.create(user=User.objects.get(username=username))[1]


def id_pools(app, username: str, list_paths) -> dict[tuple[str, str], list[int]]:
    """(list path, key) -> ids from the role's own view and the bureau's (other schools' too)."""
    tokens = [_token(username), _token("bureau_admin")]
    pools = {}
    for path, key in list_paths:
        ids: list[int] = []
        for token in tokens:
            ids += [i for i in _ids(app, token, path, key) if i not in ids]
        pools[(path, key)] = ids
    return pools


def _list_path_of(operation_path: str) -> str | None:
    """/api/v1/compliance/checklists/{id}/yaml/ -> /compliance/checklists/"""
    if "{id}" not in operation_path:
        return None
    return operation_path.split("{id}")[0][len(API):]


def _substitute(case, data, pools) -> None:
    """Valid inputs: swap generated ids for existing ones (or keep the generated one)."""
    list_path = _list_path_of(case.path)
    if list_path and "id" in (case.path_parameters or {}):
        pool = pools.get((list_path, "id"), [])
        case.path_parameters["id"] = data.draw(st.sampled_from([*pool, case.path_parameters["id"]]))
    for container in (case.query, case.body):
        if not isinstance(container, dict):
            continue
        for name, value in list(container.items()):
            if name not in REFERENCES:
                continue
            pool = pools.get(REFERENCES[name], [])
            if isinstance(value, int) and not isinstance(value, bool):
                container[name] = data.draw(st.sampled_from([*pool, value]))
            elif isinstance(value, list) and all(isinstance(v, int) for v in value) and pool:
                container[name] = data.draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True))


def fuzz_operation(operation, mode, *, headers, pools, server_errors) -> str | None:
    """Run one operation's examples; the first failure's report, or None."""

    @hypothesis_settings(
        max_examples=EXAMPLES[mode], derandomize=True, database=None, deadline=None, verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate], print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        if mode is GenerationMode.POSITIVE:
            _substitute(case, data, pools)
        savepoint = transaction.savepoint()
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        finally:
            transaction.savepoint_rollback(savepoint)

    server_errors.clear()
    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis raises exception groups
        if isinstance(exc, Unsatisfiable) and mode is GenerationMode.NEGATIVE:
            return None  # nothing to make invalid: no parameters and no body
        report = f"{operation.label} [{mode.value} inputs]\n{exc}".rstrip()
        if server_errors:
            report += "\n\nServer traceback:\n" + server_errors[-1]
        return report
    return None


_SCHEMAS: dict = {}


def load_schema(app):
    """The live schema, as /api/schema/ serves it (loaded once: the roles share it). An explicit
    Config, so that no schemathesis.toml lying around changes the run."""
    if "live" not in _SCHEMAS:
        _SCHEMAS["live"] = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, config=schemathesis.Config())
    schema = _SCHEMAS["live"]
    schema.app = app
    return schema


def fuzz(app, server_errors, username: str, schema=None) -> list[str]:
    """Every operation of the schema, as `username`; the reports of the failing ones."""
    schema = schema or load_schema(app)
    token = _token(username)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operation: nothing would be fuzzed"
    list_paths = {REFERENCES[name] for name in REFERENCES}
    list_paths |= {(p, "id") for p in map(_list_path_of, (op.path for op in operations)) if p}
    pools = id_pools(app, username, sorted(list_paths))
    failures = []
    for operation in operations:
        for mode in EXAMPLES:
            report = fuzz_operation(operation, mode, headers={"Authorization": f"Token {token}"}, pools=pools,
                                    server_errors=server_errors)
            if report:
                failures.append(report)
    return failures


@pytest.mark.parametrize("role", ROLES)
def test_every_operation_conforms_to_the_schema(live_app, role):
    app, server_errors = live_app
    failures = fuzz(app, server_errors, role)
    assert not failures, f"{len(failures)} operation(s) failed as {role}:\n\n" + "\n\n".join(failures)


# ---------------------------------------------------------------- the fuzzer can fail
def _one_operation(schema, path: str, method: str):
    return schema.include(path=path, method=method)


def test_an_undocumented_status_fails_with_the_operation_and_a_reproduction(live_app):
    """Take the 404 out of the schema of GET /schools/{id}/: the run must fail on that operation,
    saying which check failed and how to send the request again."""
    app, server_errors = live_app
    raw = copy.deepcopy(load_schema(app).raw_schema)
    del raw["paths"]["/api/v1/schools/{id}/"]["get"]["responses"]["404"]
    broken = schemathesis.openapi.from_dict(raw, config=schemathesis.Config())
    broken.app = app
    failures = fuzz(app, server_errors, "gupei_admin", schema=_one_operation(broken, "/api/v1/schools/{id}/", "GET"))
    assert failures, "the fuzzer accepted a 404 the schema does not document"
    report = failures[0]
    assert report.startswith("GET /api/v1/schools/{id}/")
    assert "Undocumented status code" in report and "curl -X GET" in report


def test_a_server_error_fails_with_its_traceback(live_app, monkeypatch):
    from api.tenancy import SchoolViewSet

    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom in retrieve")

    monkeypatch.setattr(SchoolViewSet, "retrieve", broken)
    app, server_errors = live_app
    failures = fuzz(app, server_errors, "bureau_admin",
                    schema=_one_operation(load_schema(app), "/api/v1/schools/{id}/", "GET"))
    assert failures and "Server error" in failures[0]
    assert "RuntimeError: boom in retrieve" in failures[0]  # the server's traceback is in the report
