"""A generic isolation harness for every API endpoint (after NetBox's APIViewTestCases).

Each endpoint registers one `Case` (in a `cases_<domain>.py` module next to this file, discovered
automatically). A case only declares data: how to make objects owned by different schools, who
should see which, and which writes should succeed. test_isolation.py then runs every action the
viewset actually has (list, detail, create, update, partial_update, destroy) as every role in
ROLES, and test_every_endpoint_has_a_case fails for a routed endpoint without a case. A URL under
/api/v1/ that is not a router action (a download, the submissions matrix) is an `ExtraRoute` of
the case whose objects it serves, run as every role with the case's `sees`.

Only the school admins (SENSITIVE_READERS) may receive a child's sensitive fields: every
response to any other role is checked for them (see test_isolation._assert_no_sensitive).

Labels used by the school-owned cases (schools of the `tree` fixture in tests/conftest.py):
    "a"       owned by gupei (school A, a township centre school)
    "village" owned by village_a (a village school under gupei)
    "b"       owned by menzhuang (school B)
    "far"     owned by far_school, in another district (district-owned cases: "own" and "far")

The other district has the same shape and a user for every role (OTHER_DISTRICT_ROLES), so every
endpoint is run across districts in both directions: this district's users against "far", and
the other district's users against everything of this one. What the other district's users see
is only their own district's labels (those starting with "far"; Case checks it).
"""
from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# The access-log expectations every successful write and download is checked against (shared
# with the web page walk); re-exported for the cases.
from tenancy.scoping import system_scope
from tests.support.access_log import (  # noqa: F401
    Logged,
    assert_logged,
    district_school_ids,
    log_mark,
    logged,
    logged_per_school,
)

# The other district's users, one per role (the tree's `other_*`).
OTHER_DISTRICT_ROLES = (
    "other_bureau_admin", "other_bureau_inspector", "other_township", "other_admin", "other_teacher", "other_clerk",
)
# Who runs every endpoint. "anonymous" must always get 401.
ROLES = (
    "gupei_admin", "menzhuang_admin", "bureau_admin", "bureau_inspector", "gupei_township", "gupei_teacher",
    "gupei_clerk", "nobody", "anonymous", *OTHER_DISTRICT_ROLES,
)
# Labels of objects in the other district start with this.
FAR = "far"

# Who sees what, for anything owned by a school: a school admin, teacher or materials clerk sees
# their own school, a township admin the subtree (not menzhuang), the bureau admin its district
# (not another district), and so does the bureau inspector (reads only).
SCHOOL_OWNED_SEES: dict[str, set[str]] = {
    "gupei_admin": {"a"},
    "gupei_teacher": {"a"},
    "gupei_clerk": {"a"},
    "menzhuang_admin": {"b"},
    "bureau_admin": {"a", "village", "b"},
    "bureau_inspector": {"a", "village", "b"},
    "gupei_township": {"a", "village"},
    "nobody": set(),
    # The other district's bureau sees its school "far"; its township and school staff are at
    # far_centre, which owns no labelled object of the school-owned cases.
    "other_bureau_admin": {"far"},
    "other_bureau_inspector": {"far"},
    "other_township": set(),
    "other_admin": set(),
    "other_teacher": set(),
    "other_clerk": set(),
}

# Roles that only read (the bureau inspector is read-only across its subtree). Every
# update/partial_update/destroy on what they see is 403 (the harness's default: declare no
# write_ok), and a create on a target label they see defaults to 403 instead of
# CREATE_UNSEEN_TARGET (see create_default). A case may declare a write for them only if it is
# listed in READ_ONLY_EXCEPTIONS, with the reason.
READ_ONLY_ROLES = {"bureau_inspector", "other_bureau_inspector"}
READ_ONLY_EXCEPTIONS: dict[str, str] = {
    # docs/DOMAIN.md: the inspector "reviews the manual checklist items" (roles.py: score_manual_items).
    "compliance-manual-scores": "the inspector scores the manual checklist items",
    # A user's own inbox: marking a notification read changes no school's data.
    "notifications": "its own notifications' read flag",
}

# The status for creating something under a target the user cannot see: the same "does not
# exist" error as for an id that does not exist at all.
CREATE_UNSEEN_TARGET = 400

# The roles that may receive children's sensitive fields in the generic runs (the teacher of the
# generic runs has no assigned child; "proxy_parent" runs are not checked, a proxy parent reads
# their own child's wellbeing notes). The clerk (BASIC level: name, grade, class) must never.
SENSITIVE_READERS = {"gupei_admin", "menzhuang_admin"}
# Keys of a child's record above BASIC level (schools.selectors.PROXY_FIELDS and the ID number):
# none may carry a value in a response to anyone else.
SENSITIVE_KEYS = {
    "gender", "birth_date", "parents_work_place", "guardian_name", "guardian_relation", "guardian_phone",
    "second_contact_name", "second_contact_phone", "home_village", "health_notes", "wellbeing_notes",
    "id_number", "consent_date", "consent_method",
    # the civil-affairs register's fields (schools.register)
    "custody_type", "guardianship_assessment", "guardian_since", "parents_last_contact_on", "income_source",
    "assistance", "health_status", "disability", "illness", "household_registration", "register_warnings",
}
# Values the cases plant in every child (cases_schools.child: phone, wellbeing, guardian): they must not
# appear anywhere in a response to anyone else, whatever the key.
SENSITIVE_VALUES = ("13800001111", "想念妈妈", "王奶奶")


@dataclass
class ProxyParentCase:
    """A teacher (proxy parent) with one assigned child, against an unassigned child of the
    same school. `setup(tree, objs)` assigns and returns (teacher, assigned_label, unassigned_label);
    the harness then runs every action of the viewset as "proxy_parent": list and detail see the
    assigned label only; update/partial_update/destroy on the unassigned one are 404, on the
    assigned one `write_ok` (action -> labels) or 403; create posts `create_payloads(tree, objs)`
    (default: the case's own) with `create_expect` (label -> status; default CREATE_UNSEEN_TARGET)."""

    setup: Callable[[Any, dict], tuple[Any, str, str]]
    write_ok: dict[str, set[str]] = field(default_factory=dict)
    create_payloads: Callable[[Any, dict], dict[str, dict]] | None = None
    create_expect: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ExtraRoute:
    """A GET URL under /api/v1/ outside the router's list/detail (a file download, a matrix):
    `args(obj)` builds the URL args from a labelled object of the case. Run as every role: 401
    anonymous, 404 for an object the role does not see, `ok` (or `status[role]`) for one it sees.
    `prepare(tree, objs)` may make the files the route serves, once per test."""

    name: str  # URL name under api:v1
    args: Callable[[Any], list] = lambda obj: [obj.pk]
    ok: int = 200
    status: dict[str, int] = field(default_factory=dict)  # role -> status on a visible object
    prepare: Callable[[Any, dict], None] | None = None
    # What a successful GET writes to the access log: (obj, user) -> rows. None: a file download
    # writes one "export" row of the object (`logged(obj, "download", user)`), anything else none.
    logs: Callable[[Any, Any], list[Logged]] | None = None


@dataclass
class Case:
    basename: str  # the router basename (or URL name of a NON_ROUTER_ENDPOINTS entry)
    make: Callable[[Any], dict[str, Any]]  # tree -> {label: object}
    sees: dict[str, set[str]]  # role -> labels that role can see (list and detail)
    # action -> role -> labels on which that write succeeds; a write on another visible object
    # must be 403, on an object the role cannot see always 404 (not declarable).
    write_ok: dict[str, dict[str, set[str]]] = field(default_factory=dict)
    update_payload: Callable[[Any], dict] | None = None  # object -> body for PUT/PATCH
    snapshot: Callable[[Any], Any] = lambda obj: None  # what a refused write must leave unchanged
    # Create: tree, objs -> {target label: body}; role -> {target label: status}. A pair not
    # listed expects CREATE_UNSEEN_TARGET.
    create_payloads: Callable[[Any, dict], dict[str, dict]] | None = None
    create_expect: dict[str, dict[str, int]] = field(default_factory=dict)
    # A singleton such as /me/: detail only, without a pk; `singleton_ids(body)` lists the ids of
    # labelled objects the response reveals.
    singleton_ids: Callable[[dict], set[int]] | None = None
    proxy_parent: ProxyParentCase | None = None
    extra_routes: list[ExtraRoute] = field(default_factory=list)
    # What a successful create/update/partial_update/destroy writes to the access log:
    # (action, obj, user) -> rows, obj being the created or changed object (the deleted one as it
    # was). None: one row of the object on its school (`logged`). Declare it, with the reason, for
    # anything else (a district object logged per school, a write logged on another record).
    logs: Callable[[str, Any, Any], list[Logged]] | None = None

    def __post_init__(self):
        roles = set(ROLES)
        undeclared = set(self.sees) - roles
        undeclared |= {r for who in self.write_ok.values() for r in who} - roles
        undeclared |= set(self.create_expect) - roles
        undeclared |= {r for route in self.extra_routes for r in route.status} - roles
        assert not undeclared, f"{self.basename}: unknown roles {undeclared}"
        # Across districts: each district's users see only their own district's labels.
        for role, labels in self.sees.items():
            others = {label for label in labels if label.startswith(FAR)}
            if role in OTHER_DISTRICT_ROLES:
                assert others == set(labels), f"{self.basename}: {role} sees another district's {set(labels) - others}"
            else:
                assert not others, f"{self.basename}: {role} sees another district's {others}"
        if self.basename not in READ_ONLY_EXCEPTIONS:
            writes = {r for who in self.write_ok.values() for r, labels in who.items() if labels}
            writes |= {r for r, expect in self.create_expect.items() if any(200 <= s < 300 for s in expect.values())}
            assert not writes & READ_ONLY_ROLES, (
                f"{self.basename}: read-only roles {writes & READ_ONLY_ROLES} may write (see READ_ONLY_EXCEPTIONS)")

    def expected_log(self, action: str, obj, user) -> list[Logged]:
        # The expectation may follow the object to district-owned rows: read them in every tenant.
        with system_scope("test: the access-log rows a request should write"):
            return self.logs(action, obj, user) if self.logs is not None else logged(obj, action, user)

    def create_default(self, role: str, label: str) -> int:
        """The status of a create on `label` that create_expect does not list."""
        if role in READ_ONLY_ROLES and label in self.sees.get(role, set()):
            return 403
        return CREATE_UNSEEN_TARGET


def stored_file(name: str) -> str:
    """A small file in the default storage (what a download route streams): its storage name."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    return default_storage.save(name, ContentFile(b"PK\x03\x04 isolation test file"))


CASES: dict[str, Case] = {}


def register(case: Case) -> Case:
    assert case.basename not in CASES, f"two isolation cases for {case.basename}"
    CASES[case.basename] = case
    return case


def load_cases() -> dict[str, Case]:
    """Import every tests/api/cases_*.py module (each registers its cases)."""
    from tests import api as package

    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("cases_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
    return CASES
