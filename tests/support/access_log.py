"""The access-log checks of both isolation harnesses (tests/api/test_isolation.py and the web page
walk, tests/web/test_page_isolation.py and test_district_page_isolation.py), after NetBox's API test
cases, which assert an ObjectChange for every successful create, update and delete.

Around each request the harness takes a `log_mark()`, then `assert_logged(mark, expected, ...)`:
exactly the expected rows (school, action, object type, object id, user) were written during the
request, and none at all for a refused one (401/403/404/400).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Logged:
    """One access-log row as the harness compares it (after NetBox's ObjectChange checks): every
    successful write and download must leave exactly the rows its case expects, and a refused
    request none at all."""

    school_id: int
    action: str
    object_type: str
    object_id: str
    user_id: int | None


# The access-log action of each harness action.
LOG_ACTIONS = {"create": "create", "update": "update", "partial_update": "update", "destroy": "delete",
               "download": "export"}


def logged(obj, action: str, user, *, object_type: str | None = None, object_id=None) -> list[Logged]:
    """The default expectation: one row on the object's school (a school's own, for a school), for
    this object, by this user."""
    school_id = obj.pk if obj._meta.label_lower == "tenancy.school" else obj.school_id
    return [Logged(school_id, LOG_ACTIONS.get(action, action), object_type or obj._meta.label_lower,
                   str(obj.pk if object_id is None else object_id), getattr(user, "pk", None))]


def logged_per_school(school_ids, action: str, user, object_type: str, object_id) -> list[Logged]:
    """A district-level object's expectation: the log is school-owned, so an action on something
    every school of a district shares is logged once per school (tenancy.services._log_membership,
    submissions.services._log_district)."""
    return [Logged(sid, LOG_ACTIONS.get(action, action), object_type, str(object_id), getattr(user, "pk", None))
            for sid in school_ids]


def district_school_ids(district_id: int) -> list[int]:
    from tenancy.models import School

    return list(School.objects.filter(district_id=district_id).values_list("id", flat=True))


def log_mark() -> int:
    """The newest access-log row now; rows written later are the ones a request wrote."""
    from django.db.models import Max

    from tenancy.models import AccessLog
    from tenancy.scoping import system_school_ids, tenant_scope

    with tenant_scope(system_school_ids()):
        return AccessLog.objects.aggregate(n=Max("id"))["n"] or 0


def logged_since(mark: int) -> list[Logged]:
    from tenancy.models import AccessLog
    from tenancy.scoping import system_school_ids, tenant_scope

    with tenant_scope(system_school_ids()):
        rows = AccessLog.objects.filter(id__gt=mark).values_list("school_id", "action", "object_type", "object_id",
                                                                  "user_id")
        return sorted(Logged(*row) for row in rows)


def assert_logged(mark: int, expected: list[Logged], what: str) -> None:
    """Exactly `expected` was written to the access log since `mark` (nothing, for a refusal)."""
    got = logged_since(mark)
    assert got == sorted(expected), f"{what}: access log {got}, expected {sorted(expected)}"


def is_file(response) -> bool:
    """A download: a streamed file, or a response saved as an attachment."""
    return bool(getattr(response, "streaming", False)) or "attachment" in response.get("Content-Disposition", "")


def check_logged(page, response, mark: int, expected, user, what: str) -> None:
    """The web walk's check of one request: a refused request (4xx) or an anonymous one writes
    nothing; a successful POST or file download writes exactly `expected()` (the page's declared
    `logs`, which it must have). Other pages (HTML reads) are not checked here: reading a child's
    record logs a view, which their own tests pin."""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)  # read through, so the test client closes the file
    if response.status_code >= 400 or user is None:
        assert_logged(mark, [], f"{what} ({response.status_code})")
        return
    if page.method == "post" or is_file(response):
        assert page.logs is not None, f"{what}: declare the page's `logs` (what a success writes to the access log)"
        assert_logged(mark, expected(), what)
