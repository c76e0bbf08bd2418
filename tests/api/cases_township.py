"""Isolation case of the township packages (a centre school's roll-up of its village schools'
approved reports): seen like a school's submissions (its reporting staff, its township admin, the
bureau; not a teacher, not another centre or district); compiled by the township admin only."""
from __future__ import annotations

from tests.support.township import township_report
from tests.support.township_cases import made_package

from .cases_submissions import REPORTING_SEES
from .harness import Case, ExtraRoute, logged_per_school, register

LABELS = {"a": "gupei", "village": "village_a", "b": "menzhuang", "far": "far_school"}


def _packages(tree):
    return {label: made_package(getattr(tree, school)) for label, school in LABELS.items()}


def _payloads(tree, objs):
    """gupei's period with every village approved, one with village B still pending, and the
    other district's centre's."""
    ready = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False)
    pending = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=("gupei-a",))
    far = township_report(tree.far_centre, [tree.far_village], children=False)
    return {"ready": {"school": tree.gupei.pk, "period": ready.period.pk},
            "pending": {"school": tree.gupei.pk, "period": pending.period.pk},
            "far": {"school": tree.far_centre.pk, "period": far.period.pk}}


def _download_logs(package, user):
    # The file holds every included school's figures: one export row per school.
    ids = [package.school_id] + [s["id"] for s in package.schools if s["id"] != package.school_id]
    return logged_per_school(ids, "export", user, "submissions.townshippackage", package.pk)


register(Case(
    basename="township-packages",
    make=_packages,
    sees=REPORTING_SEES,
    extra_routes=[ExtraRoute("township-packages-download", args=lambda p: [p.pk, "xlsx"], logs=_download_logs)],
    create_payloads=_payloads,
    create_expect={
        # The township admin compiles its centre's, once every village is approved.
        "gupei_township": {"ready": 201, "pending": 400},
        "other_township": {"far": 201},
        # The bureau reads packages but does not compile them (the centre's own staff do not see
        # the district's periods at all: 400, like any unknown id).
        "bureau_admin": {"ready": 403, "pending": 403},
        "bureau_inspector": {"ready": 403, "pending": 403},
        "other_bureau_admin": {"far": 403},
        "other_bureau_inspector": {"far": 403},
    },
))
