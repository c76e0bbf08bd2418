"""Every API endpoint, run as school A, school B, the bureau admin, the bureau inspector (read-only:
every write on what it sees is 403), a township admin, a teacher, a materials clerk, a user with no
role and anonymous (and, where a case says so, a proxy parent with
one assigned child). The data and expectations live in cases_*.py (see harness.py)."""
from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, reverse

from api.urls import NON_ROUTER_ENDPOINTS, router, v1_patterns
from tenancy.scoping import system_school_ids, tenant_scope

from .harness import (
    CREATE_UNSEEN_TARGET,
    ROLES,
    SENSITIVE_KEYS,
    SENSITIVE_READERS,
    SENSITIVE_VALUES,
    assert_logged,
    load_cases,
    log_mark,
    logged,
)

CASES = load_cases()
# Endpoints that are public or meta by design, each with its own tests.
PUBLIC_ENDPOINTS = {
    "auth-token": "tests/api/test_auth.py",
    "api-root": "DefaultRouter's index of endpoints; needs authentication (test_api_root_needs_authentication)",
}
# Non-router URLs under /api/v1/ that serve no labelled object (so no ExtraRoute can run them),
# each with its own per-role tests.
OBJECTLESS_ROUTES = {
    "auth-token": "tests/api/test_auth.py",
    "children-import-template": "tests/api/test_schools_import.py::test_template_is_an_xlsx_with_the_columns",
    "children-import-preview": "POST-only; tests/api/test_schools_import.py::test_import_isolation",
    "children-import-commit": "POST-only; tests/api/test_schools_import.py::test_import_isolation",
}
WRITE_ACTIONS = ("update", "partial_update", "destroy")


def _viewset(basename):
    for _prefix, viewset, name in router.registry:
        if name == basename:
            return viewset
    return NON_ROUTER_ENDPOINTS[basename]


def _actions(basename) -> list[str]:
    case = CASES[basename]
    if case.singleton_ids is not None:
        return ["detail"]
    viewset = _viewset(basename)
    out = ["list", "detail"]
    if hasattr(viewset, "create"):
        out.append("create")
    out += [a for a in WRITE_ACTIONS if hasattr(viewset, a)]
    return out


def _params():
    for basename in sorted(CASES):
        case = CASES[basename]
        for action in _actions(basename):
            for role in ROLES:
                yield pytest.param(basename, action, role, id=f"{basename}-{action}-as-{role}")
        if case.proxy_parent is not None:
            for action in _actions(basename):
                yield pytest.param(basename, action, "proxy_parent", id=f"{basename}-{action}-as-proxy_parent")


def _extra_params():
    for basename in sorted(CASES):
        for route in CASES[basename].extra_routes:
            for role in ROLES:
                yield pytest.param(basename, route.name, role, id=f"{route.name}-as-{role}")


def _url(basename, pk=None):
    if CASES[basename].singleton_ids is not None:
        return reverse(f"api:v1:{basename}")
    if pk is None:
        return reverse(f"api:v1:{basename}-list")
    return reverse(f"api:v1:{basename}-detail", args=[pk])


def _list_ids(client, url, role) -> set[int]:
    ids, pages = set(), 0
    while url:
        response = client.get(url, {"page_size": 200} if pages == 0 else None)
        assert response.status_code == 200, response.content
        _assert_no_sensitive(role, response)
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}, "lists are always paginated"
        ids |= {row["id"] for row in body["results"]}
        url, pages = body["next"], pages + 1
    return ids


def _count(model) -> int:
    with tenant_scope(system_school_ids()):
        return model._default_manager.count()


def _refetch(obj):
    return _refetch_pk(type(obj), obj.pk)


def _refetch_pk(model, pk):
    with tenant_scope(system_school_ids()):
        return model._default_manager.filter(pk=pk).first()


def _assert_no_sensitive(role, response):
    """Nobody but SENSITIVE_READERS receives a child's sensitive fields, on any endpoint."""
    if role in SENSITIVE_READERS or role in ("anonymous", "proxy_parent") or response.status_code >= 300:
        return
    if not response.get("Content-Type", "").startswith("application/json"):
        return
    body = response.json()

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                assert not (key in SENSITIVE_KEYS and value not in (None, "", [], {})), (
                    f"{role} received {key}={value!r} from {response.request['PATH_INFO']}")
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(body)
    text = json.dumps(body, ensure_ascii=False)
    for marker in SENSITIVE_VALUES:
        assert marker not in text, f"{role} received {marker!r} from {response.request['PATH_INFO']}"


@pytest.mark.parametrize("basename,action,role", list(_params()))
def test_isolation(basename, action, role, tree, api_as):
    case = CASES[basename]
    objs = case.make(tree)
    expected_visible = case.sees.get(role, set())
    allowed_writes = {a: who.get(role, set()) for a, who in case.write_ok.items()}
    create_payloads, create_expect = case.create_payloads, case.create_expect.get(role, {})
    create_default = case.create_default
    all_objs = objs
    if role == "proxy_parent":
        proxy = case.proxy_parent
        teacher, assigned, unassigned = proxy.setup(tree, objs)
        from tests.support.api import client_for

        client, expected_visible = client_for(teacher), {assigned}
        objs = {assigned: objs[assigned], unassigned: objs[unassigned]}
        allowed_writes = proxy.write_ok
        assert set().union(*proxy.write_ok.values()) <= {assigned}, f"{basename}: proxy write_ok beyond {assigned}"
        create_payloads, create_expect = proxy.create_payloads or case.create_payloads, proxy.create_expect
        create_default = lambda role, label: CREATE_UNSEEN_TARGET  # noqa: E731
    else:
        client = api_as(role)
    user = teacher if role == "proxy_parent" else getattr(tree, role, None)

    if action == "list":
        if role == "anonymous":
            assert client.get(_url(basename)).status_code == 401
            return
        ids = _list_ids(client, _url(basename), role)
        for label, obj in objs.items():
            if label in expected_visible:
                assert obj.pk in ids, f"{role} should see {label} in the list"
            else:
                assert obj.pk not in ids, f"{role} must not see {label} in the list"
        return

    if action == "detail" and case.singleton_ids is not None:
        response = client.get(_url(basename))
        if role == "anonymous":
            assert response.status_code == 401
            return
        assert response.status_code == 200, response.content
        _assert_no_sensitive(role, response)
        assert response.json()["username"] == getattr(tree, role).username
        revealed = case.singleton_ids(response.json())
        for label, obj in objs.items():
            assert (obj.pk in revealed) == (label in expected_visible), f"{role} and {label}"
        return

    if action == "detail":
        for label, obj in objs.items():
            response = client.get(_url(basename, obj.pk))
            if role == "anonymous":
                want = 401
            else:
                want = 200 if label in expected_visible else 404
            assert response.status_code == want, f"{role} GET {label}: {response.status_code} {response.content}"
            if want == 200:
                assert response.json()["id"] == obj.pk
                _assert_no_sensitive(role, response)
        return

    model = _viewset(basename).model
    if action == "create":
        payloads = create_payloads(tree, all_objs)
        assert set(create_expect) <= set(payloads), f"{basename}: create_expect names unknown targets"
        for label, body in payloads.items():
            want = 401 if role == "anonymous" else create_expect.get(label, create_default(role, label))
            before, mark = _count(model), log_mark()
            response = client.post(_url(basename), body, format="json")
            assert response.status_code == want, f"{role} POST {label}: {response.status_code} {response.content}"
            assert _count(model) == before + (1 if want == 201 else 0), "a refused create wrote something"
            _assert_no_sensitive(role, response)
            created = _refetch_pk(model, response.json()["id"]) if want == 201 else None
            assert_logged(mark, case.expected_log("create", created, user) if created else [],
                          f"{role} POST {label}")
        return

    # update, partial_update, destroy on each labelled object
    allowed = allowed_writes.get(action, set())
    for label, obj in objs.items():
        before, mark = case.snapshot(_refetch(obj)), log_mark()
        url = _url(basename, obj.pk)
        if action == "destroy":
            response = client.delete(url)
            ok = 204
        else:
            method = client.put if action == "update" else client.patch
            response = method(url, case.update_payload(obj), format="json")
            ok = 200
        if role == "anonymous":
            want = 401
        elif label not in expected_visible:
            want = 404
        else:
            want = ok if label in allowed else 403
        assert response.status_code == want, f"{role} {action} {label}: {response.status_code} {response.content}"
        _assert_no_sensitive(role, response)
        after = _refetch(obj)
        if want == 204:
            assert after is None
        elif want != 200:
            assert after is not None and case.snapshot(after) == before, f"refused {action} changed {label}"
        done = want in (200, 204)
        assert_logged(mark, case.expected_log(action, after or obj, user) if done else [], f"{role} {action} {label}")


@pytest.mark.parametrize("basename,name,role", list(_extra_params()))
def test_extra_route(basename, name, role, tree, api_as):
    """A non-router GET route (download, matrix) answers like the case's detail: 200 (or the
    route's declared status) on what the role sees, 404 on anything else, 401 anonymous."""
    case = CASES[basename]
    route = next(r for r in case.extra_routes if r.name == name)
    objs = case.make(tree)
    if route.prepare is not None:
        route.prepare(tree, objs)
    client = api_as(role)
    user = getattr(tree, role, None)
    visible = case.sees.get(role, set())
    for label, obj in objs.items():
        mark = log_mark()
        response = client.get(reverse(f"api:v1:{name}", args=route.args(obj)))
        if role == "anonymous":
            want = 401
        else:
            want = route.status.get(role, route.ok) if label in visible else 404
        assert response.status_code == want, f"{role} GET {name} of {label}: {response.status_code}"
        _assert_no_sensitive(role, response)
        is_file = response.streaming or "attachment" in response.get("Content-Disposition", "")
        if response.streaming:
            # Read it through: the test client's wrapper then closes the file (response.close()
            # itself would send request_finished and close the test's DB connection).
            assert b"".join(response.streaming_content)
        if not 200 <= want < 300:
            expected = []
        elif route.logs is not None:
            expected = route.logs(obj, user)
        else:
            expected = logged(obj, "download", user) if is_file else []
        assert_logged(mark, expected, f"{role} GET {name} of {label}")


def _v1_names(patterns):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _v1_names(p.url_patterns)
        elif isinstance(p, URLPattern):
            yield p.name


def test_every_endpoint_has_a_case():
    """A new endpoint cannot be added without landing in the isolation test."""
    routed = {basename for _prefix, _viewset, basename in router.registry}
    missing = (routed | set(NON_ROUTER_ENDPOINTS)) - set(CASES) - set(PUBLIC_ENDPOINTS)
    assert not missing, f"add isolation cases (tests/api/cases_*.py) for: {sorted(missing)}"

    # Every other URL under /api/v1/ (not made by the router, not a case of its own) must be run by
    # some case's extra_routes, or take no object and be listed in OBJECTLESS_ROUTES.
    router_names = set(_v1_names(router.urls))
    extra = {route.name for case in CASES.values() for route in case.extra_routes}
    others = set(_v1_names(v1_patterns)) - router_names - set(CASES)
    unrun = others - extra - set(OBJECTLESS_ROUTES)
    assert not unrun, f"non-router URLs under /api/v1/ with no Case.extra_routes entry: {sorted(unrun)}"
    assert extra <= others, f"extra_routes naming no non-router /api/v1/ URL: {sorted(extra - others)}"
    assert set(OBJECTLESS_ROUTES) <= others, f"stale OBJECTLESS_ROUTES: {sorted(set(OBJECTLESS_ROUTES) - others)}"
    for _prefix, viewset, basename in router.registry:
        extra = {a.__name__ for a in viewset.get_extra_actions()}
        assert not extra, f"{basename} has extra actions {extra}: teach harness.py to run them"


def test_every_case_names_a_real_endpoint():
    routed = {basename for _prefix, _viewset, basename in router.registry} | set(NON_ROUTER_ENDPOINTS)
    assert set(CASES) <= routed


def test_api_root_needs_authentication(api_as):
    assert api_as("anonymous").get(reverse("api:v1:api-root")).status_code == 401
    assert api_as("gupei_admin").get(reverse("api:v1:api-root")).status_code == 200
