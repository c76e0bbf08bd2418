"""Isolation cases of the township package pages (tests/web/test_page_isolation.py walks them).

The centre's page and its compile action name a school; the progress and download pages name a
package. A teacher has no part in reporting (403 on the school's page, and the package does not
exist for them: 404). The compile POST is the township admin's: everyone else who reaches it is
sent back with the refusal and nothing is written."""
from __future__ import annotations

from submissions.models import TownshipPackage
from tenancy.scoping import tenant_scope
from tests.support.access_log import logged, logged_per_school
from tests.support.township import township_report
from tests.support.township_cases import made_package

from .pages import Page, register

# The centre schools whose township admin is in the tree, and their village schools.
VILLAGES = {"gupei": ("village_a", "village_b"), "far-centre": ("far_village",)}
TOWNSHIP_ADMINS = {"gupei_township", "other_township"}


def _centre(t, school):
    """The centre's page, with a period of a VIA_CENTRE report whose villages are all approved (kept
    on the tree for the POST's data); a school without villages has no such period."""
    t._township_period = None
    if school.code in VILLAGES:
        villages = [getattr(t, name) for name in VILLAGES[school.code]]
        t._township_period = township_report(school, villages, children=False).period.pk
    return {"pk": school.pk}


def _period(t, school):
    return {"period": t._township_period} if t._township_period else {}


def _compiled(t, school, kwargs, data, user):
    if user.username not in TOWNSHIP_ADMINS or not data.get("period"):
        return []  # refused with a message (or no period to compile)
    with tenant_scope([school.id]):
        package = TownshipPackage.objects.filter(school=school, period_id=data["period"]).latest("id")
    return logged(package, "create", user)


def _package(t, school):
    return {"pk": made_package(school).pk}


def _download(t, school):
    return {"pk": made_package(school).pk, "kind": "xlsx"}


def _downloaded(t, school, kwargs, data, user):
    return logged_per_school([school.pk], "export", user, "submissions.townshippackage", kwargs["pk"])


for page in [
    Page("township_packages", _centre, teacher_status=403),
    Page("township_package_compile", _centre, method="post", data=_period, owner_status=302, teacher_status=403,
         inspector_status=302, logs=_compiled, notes="the township admin compiles; the rest are refused"),
    Page("township_package_status", _package, teacher_status=404),
    Page("township_package_download", _download, teacher_status=404, logs=_downloaded),
]:
    register(page)
