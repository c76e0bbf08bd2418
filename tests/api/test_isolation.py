"""Every API endpoint, run as school A, school B, the bureau, a township admin, a teacher, a user
with no role and anonymous. The data and expectations live in cases_*.py (see harness.py)."""
from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, reverse

from api.urls import NON_ROUTER_ENDPOINTS, router, v1_patterns
from tenancy.scoping import system_school_ids, tenant_scope

from .harness import CREATE_UNSEEN_TARGET, ROLES, load_cases

CASES = load_cases()
# Endpoints that are public or meta by design, each with its own tests.
PUBLIC_ENDPOINTS = {
    "auth-token": "tests/api/test_auth.py",
    "api-root": "DefaultRouter's index of endpoints; needs authentication (test_api_root_needs_authentication)",
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
            for action in ("list", "detail"):
                yield pytest.param(basename, action, "proxy_parent", id=f"{basename}-{action}-as-proxy_parent")


def _url(basename, pk=None):
    if CASES[basename].singleton_ids is not None:
        return reverse(f"api:v1:{basename}")
    if pk is None:
        return reverse(f"api:v1:{basename}-list")
    return reverse(f"api:v1:{basename}-detail", args=[pk])


def _list_ids(client, url) -> set[int]:
    ids, pages = set(), 0
    while url:
        response = client.get(url, {"page_size": 200} if pages == 0 else None)
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}, "lists are always paginated"
        ids |= {row["id"] for row in body["results"]}
        url, pages = body["next"], pages + 1
    return ids


def _count(model) -> int:
    with tenant_scope(system_school_ids()):
        return model._default_manager.count()


def _refetch(obj):
    with tenant_scope(system_school_ids()):
        return type(obj)._default_manager.filter(pk=obj.pk).first()


@pytest.mark.parametrize("basename,action,role", list(_params()))
def test_isolation(basename, action, role, tree, api_as):
    case = CASES[basename]
    objs = case.make(tree)
    expected_visible = case.sees.get(role, set())
    if role == "proxy_parent":
        teacher, assigned, unassigned = case.proxy_parent.setup(tree, objs)
        from .conftest import client_for

        client, expected_visible = client_for(teacher), {assigned}
        objs = {assigned: objs[assigned], unassigned: objs[unassigned]}
    else:
        client = api_as(role)

    if action == "list":
        if role == "anonymous":
            assert client.get(_url(basename)).status_code == 401
            return
        ids = _list_ids(client, _url(basename))
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
        return

    model = _viewset(basename).model
    if action == "create":
        payloads = case.create_payloads(tree, objs)
        expect = case.create_expect.get(role, {})
        assert set(expect) <= set(payloads), f"{basename}: create_expect names unknown targets"
        for label, body in payloads.items():
            want = 401 if role == "anonymous" else expect.get(label, CREATE_UNSEEN_TARGET)
            before = _count(model)
            response = client.post(_url(basename), body, format="json")
            assert response.status_code == want, f"{role} POST {label}: {response.status_code} {response.content}"
            assert _count(model) == before + (1 if want == 201 else 0), "a refused create wrote something"
        return

    # update, partial_update, destroy on each labelled object
    allowed = case.write_ok.get(action, {}).get(role, set())
    for label, obj in objs.items():
        before = case.snapshot(_refetch(obj))
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
        after = _refetch(obj)
        if want == 204:
            assert after is None
        elif want != 200:
            assert after is not None and case.snapshot(after) == before, f"refused {action} changed {label}"


def test_every_endpoint_has_a_case():
    """A new endpoint cannot be added without landing in the isolation test."""
    routed = {basename for _prefix, _viewset, basename in router.registry}
    missing = (routed | set(NON_ROUTER_ENDPOINTS)) - set(CASES) - set(PUBLIC_ENDPOINTS)
    assert not missing, f"add isolation cases (tests/api/cases_*.py) for: {sorted(missing)}"

    def names(patterns):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from names(p.url_patterns)
            elif isinstance(p, URLPattern):
                yield p.name

    known = set(CASES) | set(PUBLIC_ENDPOINTS)
    for name in names(v1_patterns):
        assert name in known or any(name.startswith(f"{b}-") for b in CASES), (
            f"URL {name!r} under /api/v1/ belongs to no isolation case"
        )
    for _prefix, viewset, basename in router.registry:
        extra = {a.__name__ for a in viewset.get_extra_actions()}
        assert not extra, f"{basename} has extra actions {extra}: teach harness.py to run them"


def test_every_case_names_a_real_endpoint():
    routed = {basename for _prefix, _viewset, basename in router.registry} | set(NON_ROUTER_ENDPOINTS)
    assert set(CASES) <= routed


def test_api_root_needs_authentication(api_as):
    assert api_as("anonymous").get(reverse("api:v1:api-root")).status_code == 401
    assert api_as("gupei_admin").get(reverse("api:v1:api-root")).status_code == 200
