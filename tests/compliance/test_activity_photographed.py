"""schools.Activity.photographed: kept by triggers on every write path of the evidence table, and
the activities metric reads the same share from it as the schools' own queryset computes."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from compliance import metrics
from schools import services as school_services
from schools.models import Activity, Evidence, Semester
from tenancy.scoping import district_scope, tenant_scope
from tests.support.images import jpeg_bytes

DAY = dt.date(2026, 10, 12)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def semester(tree):
    with district_scope(tree.district):
        return Semester.objects.create(district=tree.district, name="2026 秋季学期", start=dt.date(2026, 9, 1),
                                       end=dt.date(2027, 1, 24))


def _activity(tree, title, text="记录"):
    return school_services.activity_create(actor=tree.gupei_clerk, school=tree.gupei, date=DAY,
                                           kind="theme_activity", title=title, text_record=text)


def _evidence(tree, activity, n, kind="photo"):
    return Evidence.objects.create(school=tree.gupei, kind=kind, file=f"x/{n}.jpg", sha256=f"{n:064d}",
                                   content_type="image/jpeg", size=1, activity=activity)


def _flags(school) -> dict[str, bool]:
    return dict(Activity.objects.filter(school=school).values_list("title", "photographed"))


def _truth(school) -> dict[str, bool]:
    return {a.title: a.has_photo for a in Activity.objects.filter(school=school).with_evidence()}


def test_every_write_path_keeps_the_flag(tree, media):
    g = tree.gupei
    with tenant_scope([g.id]):
        a, b, c = _activity(tree, "甲"), _activity(tree, "乙"), _activity(tree, "丙")
        assert _flags(g) == {"甲": False, "乙": False, "丙": False}

        # The upload service, as a clerk's phone sends it.
        uploaded = school_services.evidence_upload(actor=tree.gupei_clerk, school=g, attach_to=a,
                                                   uploaded_file=SimpleUploadedFile("p.jpg", jpeg_bytes(1)))
        assert _flags(g) == {"甲": True, "乙": False, "丙": False}

        # A bulk insert is one statement for several activities; a document is not a photo.
        Evidence.objects.bulk_create([
            Evidence(school=g, kind="photo", file="x/2.jpg", sha256="2" * 64, content_type="image/jpeg", size=1,
                     activity=b),
            Evidence(school=g, kind="document", file="x/3.pdf", sha256="3" * 64, content_type="application/pdf",
                     size=1, activity=c),
        ])
        assert _flags(g) == {"甲": True, "乙": True, "丙": False}

        # A document that becomes a photo, and a photo moved to another activity.
        Evidence.objects.filter(activity=c).update(kind="photo")
        assert _flags(g)["丙"] is True
        Evidence.objects.filter(activity=b).update(activity=a)
        assert _flags(g) == {"甲": True, "乙": False, "丙": True}

        # One of two photos deleted keeps the flag; the last one clears it.
        school_services.evidence_delete(actor=tree.gupei_clerk, evidence=uploaded)
        assert _flags(g)["甲"] is True
        Evidence.objects.filter(activity=a).delete()
        assert _flags(g) == {"甲": False, "乙": False, "丙": True}

        # Detached from its activity (the activity's photo leaves with it).
        Evidence.objects.filter(activity=c).update(activity=None)
        assert _flags(g) == {"甲": False, "乙": False, "丙": False}
        assert _flags(g) == _truth(g)

        # Deleting an activity deletes its evidence by cascade; the others are untouched.
        _evidence(tree, b, 9)
        school_services.activity_delete(actor=tree.gupei_clerk, activity=b)
        assert _flags(g) == {"甲": False, "丙": False} == _truth(g)


def test_the_metric_reads_the_flag_and_agrees_with_the_queryset(tree, semester):
    g = tree.gupei
    with tenant_scope([g.id]):
        both, no_text, no_photo, _none = (_activity(tree, "全"), _activity(tree, "无文", text=""),
                                          _activity(tree, "无照"), _activity(tree, "空", text=""))
        _evidence(tree, both, 1)
        _evidence(tree, no_text, 2)
        _evidence(tree, no_photo, 3, kind="document")
        share = metrics.get_metric("activities_evidenced_share").compute([g.id], semester)[g.id]
        totals = Activity.objects.filter(school=g).evidence_totals()
        assert share == totals["evidenced"] / totals["total"] == 0.25
        # The metric reads the column: with the flag cleared behind the triggers' back (as the
        # owner could), the share follows the column, not the evidence.
        with connection.cursor() as cursor:
            cursor.execute("UPDATE schools_activity SET photographed = false WHERE id = %s", [both.pk])
        assert metrics.get_metric("activities_evidenced_share").compute([g.id], semester)[g.id] == 0.0

