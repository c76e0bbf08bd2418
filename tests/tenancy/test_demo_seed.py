"""The real demo district (`manage.py seed_demo`): idempotent, isolated as the tenancy rules
say, and every sensitive record's API detail read access-logged.

The demo is seeded once for the module (tests/support/demo.py); each test runs in a savepoint.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from api.urls import router
from tenancy import demo
from tenancy.models import AccessLog, School, is_sensitive
from tenancy.scoping import tenant_scope
from tests.support.demo import seed_demo, seeded_demo

ROOT = Path(__file__).resolve().parents[2]
# One worker runs the module, so the module-scoped demo is seeded once.
pytestmark = pytest.mark.xdist_group("demo_seed")
# Tenancy's own tables: these must never change on a second seed.
TENANCY_ROWS = [
    "tenancy.District", "tenancy.School", "tenancy.User", "tenancy.Membership",
    "tenancy.DistrictUserObjectPermission", "tenancy.SchoolUserObjectPermission", "tenancy.AccessLog",
]
# Tables that must be non-empty after the seed, so an empty snapshot cannot pass for "unchanged".
SEEDED = TENANCY_ROWS + [
    "schools.Child", "schools.CareContact", "schools.Activity", "schools.Evidence", "schools.ProxyAssignment",
    "schools.ChildUserObjectPermission", "submissions.Submission", "submissions.PackageVersion",
]
# Tables a demo builder still rewrites on a second run. Each must
# really still change, so an entry has to go once its builder is fixed.
STILL_REWRITTEN: dict[str, str] = {}  # table label -> why a second seed still rewrites it (none now)


@pytest.fixture(scope="module")
def demo_district(django_db_setup, django_db_blocker, tmp_path_factory):
    with seeded_demo(django_db_blocker, str(tmp_path_factory.mktemp("demo-media"))):
        yield


@pytest.fixture
def seeded(demo_district, db):
    return {s.code: s for s in School.objects.filter(district__code=demo.DISTRICT["code"])}


def _snapshot() -> dict[str, tuple]:
    """Every table's count, id set, largest id and rows."""
    out = {}
    with tenant_scope(School.objects.values_list("id", flat=True)):
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            qs = model._default_manager.order_by("pk")
            ids = list(qs.values_list("pk", flat=True))
            rows = tuple(tuple(sorted(row.items())) for row in qs.values())
            out[model._meta.label] = (len(ids), frozenset(ids), max(ids, default=None), rows)
    return out


def _describe(label, before, after) -> str:
    (n0, _ids0, max0, rows0), (n1, _ids1, max1, rows1) = before[label], after[label]
    text = f"{label} {n0}->{n1} rows, max id {max0}->{max1}"
    for old, new in zip(rows0, rows1):
        if old != new:
            old, new = dict(old), dict(new)
            return text + f", columns {sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))} of a row"
    return text


def test_seeding_twice_changes_nothing(seeded):
    before = _snapshot()
    empty = [label for label in SEEDED if not before[label][0]]
    assert not empty, f"the demo seeded nothing into {empty}"
    seed_demo()
    after = _snapshot()
    changed = sorted(label for label in before if before[label] != after[label])
    unexpected = [label for label in changed if label not in STILL_REWRITTEN]
    assert not unexpected, "a second seed_demo changed: " + "; ".join(_describe(label, before, after)
                                                                      for label in unexpected)
    fixed = set(STILL_REWRITTEN) - set(changed)
    assert not fixed, f"{sorted(fixed)} no longer change on a second seed: remove them from STILL_REWRITTEN"
    assert not set(changed) & set(TENANCY_ROWS)


def test_demo_matches_the_issue(seeded):
    assert set(seeded) == {code for code, *_ in demo.SCHOOLS}
    for code, name, parent, _township in demo.SCHOOLS:
        school = seeded[code]
        assert school.name == name
        assert (school.parent.code if school.parent else None) == parent
    from tenancy.models import Membership, User

    for username, _display, role, code in demo.USERS:
        user = User.objects.get(username=username)
        m = Membership.objects.get(user=user, role=role)
        assert (m.school.code if m.school else None) == code
        assert user.check_password(demo.DEMO_PASSWORD)


def _readme_logins() -> tuple[list[str], str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## 3. Demo logins", 1)[1].split("\n## ", 1)[0]
    users = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    password = re.search(r"password is \*\*`([^`]+)`\*\*", section).group(1)
    return users, password


def _login(username: str, password: str):
    client = APIClient()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302 and response["Location"] == "/", (username, response.status_code)
    return client


def test_done_means_on_the_demo(seeded):
    users, password = _readme_logins()
    assert password == "Demo2026!"
    assert set(users) == {u for u, *_ in demo.USERS}
    clients = {u: _login(u, password) for u in users}
    token = APIClient().post("/api/v1/auth/token/", {"username": "gupei_admin", "password": password}, format="json")
    assert token.status_code == 200 and token.json()["token"]

    gupei, menzhuang, shiba, weigang = (seeded[c] for c in ("gupei", "menzhuang", "gupei-shiba", "gupei-weigang"))

    def school_codes(username):
        response = clients[username].get("/api/v1/schools/", {"page_size": 100})
        assert response.status_code == 200, response.content
        body = response.json()
        return {row["code"] for row in body["results"]}, body["count"]

    # bureau_admin sees every demo school, in the API and on the web home page.
    codes, count = school_codes("bureau_admin")
    assert codes == set(seeded) and count == len(demo.SCHOOLS) == 8
    home = clients["bureau_admin"].get("/").content.decode()
    assert all(school.name in home for school in seeded.values())

    # menzhuang_admin: Gupei's school is 404 in the UI and the API; its own is there.
    mz = clients["menzhuang_admin"]
    assert mz.get(f"/schools/{gupei.pk}/").status_code == 404
    assert mz.get(f"/api/v1/schools/{gupei.pk}/").status_code == 404
    assert mz.get(f"/schools/{gupei.pk}/children/").status_code == 404
    assert mz.get(f"/schools/{menzhuang.pk}/").status_code == 200
    assert school_codes("menzhuang_admin")[0] == {"menzhuang"}

    # gupei_admin sees Gupei and none of Menzhuang's data.
    gp = clients["gupei_admin"]
    assert school_codes("gupei_admin")[0] == {"gupei"}
    assert gp.get(f"/schools/{gupei.pk}/").status_code == 200
    assert gp.get(f"/schools/{gupei.pk}/children/").status_code == 200
    assert gp.get(f"/schools/{menzhuang.pk}/children/").status_code == 404
    assert gp.get(f"/schools/{menzhuang.pk}/").status_code == 404
    assert gp.get(f"/api/v1/schools/{menzhuang.pk}/").status_code == 404
    children = gp.get("/api/v1/children/", {"page_size": 200}).json()
    assert children["count"] > 0 and {row["school"] for row in children["results"]} == {gupei.pk}
    with tenant_scope([menzhuang.pk]):
        from schools.models import Child

        menzhuang_child = Child.objects.filter(school=menzhuang).first()
    assert gp.get(f"/api/v1/children/{menzhuang_child.pk}/").status_code == 404

    # gupei_township sees Gupei's subtree only.
    assert school_codes("gupei_township")[0] == {"gupei", "gupei-shiba", "gupei-weigang"}
    tw = clients["gupei_township"]
    assert tw.get(f"/schools/{shiba.pk}/").status_code == 200
    assert tw.get(f"/schools/{weigang.pk}/").status_code == 200
    assert tw.get(f"/schools/{menzhuang.pk}/").status_code == 404
    assert tw.get(f"/api/v1/schools/{menzhuang.pk}/").status_code == 404


# ---------------------------------------------------------------- sensitive reads are logged
def _sensitive_detail_routes():
    return [(prefix, viewset) for prefix, viewset, _basename in router.registry
            if is_sensitive(getattr(viewset, "model", None)) and hasattr(viewset, "retrieve")]


def test_every_sensitive_model_has_a_logged_detail_route():
    from tests.tenancy.test_sensitive import sensitive_models

    routed = {viewset.model for _prefix, viewset in _sensitive_detail_routes()}
    assert routed, "no API detail route of a sensitive model found"
    assert set(sensitive_models()) <= routed, "a sensitive model has no API detail route for the walk below"


@pytest.mark.parametrize("prefix", [prefix for prefix, _viewset in _sensitive_detail_routes()])
def test_sensitive_detail_read_writes_one_view_row(seeded, prefix):
    viewset = dict(_sensitive_detail_routes())[prefix]
    client = _login("gupei_admin", demo.DEMO_PASSWORD)
    listing = client.get(f"/api/v1/{prefix}/")
    assert listing.status_code == 200, listing.content
    rows = listing.json()["results"]
    assert rows, f"the demo has no {prefix} visible to gupei_admin"
    pk = rows[0]["id"]
    label = viewset.model._meta.label_lower

    def views():
        with tenant_scope(seeded[c].pk for c in seeded):
            return list(AccessLog.objects.filter(action=AccessLog.Action.VIEW, object_type=label, object_id=str(pk))
                        .values_list("user__username", "ip_address"))

    before = views()
    response = client.get(f"/api/v1/{prefix}/{pk}/", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200, response.content
    after = views()  # newest first
    assert len(after) == len(before) + 1, f"{prefix}: expected one VIEW row, got {len(after) - len(before)}"
    assert after[0] == ("gupei_admin", "10.1.2.3")
    # A list read is not a detail read: nothing more is logged.
    client.get(f"/api/v1/{prefix}/")
    assert len(views()) == len(before) + 1
