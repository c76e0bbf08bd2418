"""The demo (idempotent, as the issue describes it) and the beat schedule registration."""
from datetime import date

from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from jobs.beat import sync_periodic_tasks
from schools.demo import progress_year
from submissions import selectors
from submissions.demo import demo_today, progress_code, summary_code
from submissions.models import ReportType, SimilarityFlag, Submission, SubmissionEvent
from tenancy.models import School, User
from tenancy.scoping import tenant_scope


def _snapshot(ids):
    with tenant_scope(ids):
        return (Submission.objects.count(), SubmissionEvent.objects.count(), SimilarityFlag.objects.count(),
                sorted(Submission.objects.values_list("id", "status", "timeliness")))


def test_demo_matches_the_issue_and_is_idempotent(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    ids = list(School.objects.values_list("id", flat=True))
    first = _snapshot(ids)
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert _snapshot(ids) == first
    bureau = User.objects.get(username="bureau_admin")
    year = progress_year(timezone.localdate())
    with tenant_scope(ids):
        progress = ReportType.objects.get(code=progress_code(year))
        summary = ReportType.objects.get(code=summary_code(year))
        m = selectors.completeness_matrix(user=bureau, report_type=progress, today=demo_today(year))
        assert len(m.periods) == 11
        rows = {r.school.code: r for r in m.rows}
        gupei = [c.status for c in rows["gupei"].cells]
        assert gupei.count("on_time") == 9 and gupei.count("late") == 1 and gupei[-1] == "missing"
        assert rows["gupei"].rates.submitted == 10 and rows["gupei"].rates.expected == 11
        assert rows["qiaotou"].rates.submitted == 0  # other schools have gaps
        assert rows["zhangbaling"].cells[0].status == "not_expected"  # joined the platform in May
        assert rows["zhangbaling"].rates.expected == 8
        statuses = set(Submission.objects.filter(report_type=progress, school__code="gupei")
                       .values_list("status", flat=True))
        assert {"accepted", "resubmitted", "submitted"} <= statuses
        flags = list(selectors.similarity_flags(user=bureau, district=progress.district, report_type=summary))
        assert len(flags) == 1
        assert {flags[0].school.code, flags[0].school_b.code} == {"gupei", "menzhuang"}
        # The demo's packages for gupei (and the summaries) were compiled for real: files on disk.
        from django.core.files.storage import default_storage
        from docx import Document

        from submissions.compile import package_file_name
        from submissions.models import PackageVersion

        gupei_summary = PackageVersion.objects.get(submission__report_type=summary, school__code="gupei",
                                                   is_current=True)
        assert package_file_name(gupei_summary, "xlsx") and gupei_summary.figures["children"] > 0
        with default_storage.open(package_file_name(gupei_summary, "docx"), "rb") as fh:
            doc = Document(fh)
        assert sum(1 for p in doc.paragraphs if p.style.name == "Heading 1") == 7
        progress_versions = PackageVersion.objects.filter(submission__report_type=progress, school__code="gupei",
                                                          is_current=True)
        assert progress_versions.count() == 10
        assert all(package_file_name(v, "xlsx") for v in progress_versions)
        assert flags[0].score > 0.75


def test_beat_schedule_is_registered_by_migrate_and_idempotent(db):
    # post_migrate already ran when the test database was created.
    names = set(PeriodicTask.objects.filter(name__startswith="submissions:").values_list("name", "task"))
    assert names == {("submissions: open periods", "submissions.open_periods"),
                     ("submissions: reminders", "submissions.send_reminders"),
                     ("submissions: district exports", "submissions.scheduled_district_exports")}
    crontabs = CrontabSchedule.objects.count()
    sync_periodic_tasks()
    sync_periodic_tasks()
    assert PeriodicTask.objects.filter(name__startswith="submissions:").count() == 3
    assert CrontabSchedule.objects.count() == crontabs
    opener = PeriodicTask.objects.get(name="submissions: open periods")
    assert (opener.crontab.hour, opener.crontab.minute, str(opener.crontab.timezone)) == ("0", "10", "Asia/Shanghai")
    # An operator's "disabled" survives the next migrate.
    opener.enabled = False
    opener.save()
    sync_periodic_tasks()
    assert not PeriodicTask.objects.get(name="submissions: open periods").enabled


def test_demo_today_is_after_the_last_period_and_not_after_today():
    for today in (date(2026, 9, 29), date(2026, 9, 30), date(2026, 11, 28), date(2027, 3, 15), date(2027, 10, 10)):
        year = progress_year(today)
        assert date(year, 8, 31) < demo_today(year) <= today
