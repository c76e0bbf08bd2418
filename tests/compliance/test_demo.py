"""The compliance demo: the current semester's assessment, a weekly snapshot history computed from
the records, spot-check scores; idempotent."""
from django.core.management import call_command
from django.utils import timezone

from compliance import selectors
from compliance.models import Assessment, ManualScore, Snapshot
from schools import demo as schools_demo
from tenancy.models import School, User
from tenancy.scoping import tenant_scope
from tests.support.scopes import user_scope


def test_demo_assessment_history_and_idempotence(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    ids = list(School.objects.values_list("id", flat=True))
    with tenant_scope(ids):
        assessment = Assessment.objects.get(title="留守儿童之家建设考核")
        current = schools_demo.demo_semesters(timezone.localdate())[-1][0]
        assert assessment.school_semester is not None and assessment.school_semester.name == current
        assert (assessment.semester_start, assessment.semester_end) == (assessment.school_semester.start,
                                                                        assessment.school_semester.end)
        snaps = list(Snapshot.objects.filter(assessment=assessment).order_by("taken_at"))
        assert len(snaps) == 4 and all(s.kind == "nightly" for s in snaps)
        manual = ManualScore.objects.filter(assessment=assessment).count()
    assert manual == 4
    bureau = User.objects.get(username="bureau_admin")
    with user_scope(bureau):
        ranking = selectors.ranking(bureau, assessment)
        gupei = next(r for r in ranking if r["code"] == "gupei")
        assert gupei["score"] is not None and gupei["previous_score"] is not None
        trend = selectors.trend(bureau, assessment)
    assert len(trend[gupei["school_id"]]) == 4
    # The history was computed from the records as they stood: it moves over the weeks.
    assert len({p["score"] for p in trend[gupei["school_id"]]}) > 1

    call_command("seed_demo", stdout=open("/dev/null", "w"))
    with tenant_scope(ids):
        assert Snapshot.objects.filter(assessment=assessment).count() == 4
        assert Assessment.objects.filter(title="留守儿童之家建设考核").count() == 1
        assert ManualScore.objects.filter(assessment=assessment).count() == manual
