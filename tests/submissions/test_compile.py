"""The compile job, run in-process: the XLSX and DOCX opened with openpyxl / python-docx and their
figures checked against the database; idempotency under repeated runs."""
from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db.models import Count, Q, Sum

from schools.models import (
    Activity,
    CareContact,
    Child,
    Evidence,
    Semester,
    StudyPair,
    TrainingMeeting,
    TutoringSession,
)
from submissions import compile as compiler
from submissions import services
from submissions.models import PackageVersion, PeriodType, ReportKind, Status, Submission, SubmissionEvent
from submissions.narrative import split_sections
from tenancy.scoping import tenant_scope
from tests.support.submissions import at, get_sub

NAMES = ["王小明", "李子涵", "张浩宇", "刘欣怡", "陈梓轩"]


def make_records(tree, school=None):
    """A semester; five children (one transferred); contacts, activities, a meeting, study pairs
    and tutoring sessions in and around the first fortnight (2026-04-01 – 04-14)."""
    school = school or tree.gupei
    with tenant_scope([school.id]):
        semester, _c = Semester.objects.get_or_create(district=school.district, name="2026 春季学期",
                                                      defaults={"start": date(2026, 2, 23), "end": date(2026, 7, 5)})
        children = [Child.objects.create(school=school, name=n, gender="m", grade=3, class_name="三(1)班",
                                         left_behind_kind="both", status_since=date(2026, 2, 23))
                    for n in NAMES]
        children[-1].status = Child.Status.TRANSFERRED
        children[-1].save()
        teacher = tree.gupei_teacher
        plan = [(0, "home_visit", date(2026, 4, 2)), (1, "home_visit", date(2026, 4, 3)),
                (0, "talk", date(2026, 4, 10)), (2, "letter", date(2026, 4, 14)),
                (3, "guardian_contact", date(2026, 3, 20)),  # before the period, in the semester
                (1, "talk", date(2026, 4, 20))]  # after the period
        for i, kind, day in plan:
            CareContact.objects.create(school=school, child=children[i], kind=kind, happened_on=day,
                                       semester=semester, made_by=teacher)
        comp = Activity.objects.create(school=school, date=date(2026, 4, 8), semester=semester,
                                       kind=Activity.Kind.COMPETITION, title="跳绳比赛", text_record="全体参加")
        Activity.objects.create(school=school, date=date(2026, 4, 9), semester=semester,
                                kind=Activity.Kind.THEME, title="心理健康辅导")
        Activity.objects.create(school=school, date=date(2026, 5, 9), semester=semester,
                                kind=Activity.Kind.THEME, title="安全教育", text_record="x")
        Evidence.objects.create(school=school, kind="photo", file="evidence/x.jpg", sha256="ab" * 32,
                                content_type="image/jpeg", size=10, activity=comp)
        TrainingMeeting.objects.create(school=school, date=date(2026, 4, 7), semester=semester, topic="代理家长培训")
        TrainingMeeting.objects.create(school=school, date=date(2026, 3, 7), semester=semester, topic="开学培训")
        # Two pairs run through the period, one ended before it; sessions in and outside the period.
        pairs = [StudyPair.objects.create(school=school, teacher=teacher, child=children[0], starts_on=date(2026, 3, 1)),
                 StudyPair.objects.create(school=school, teacher=teacher, child=children[1], starts_on=date(2026, 3, 1),
                                          ends_on=date(2026, 4, 5), subject="数学"),
                 StudyPair.objects.create(school=school, teacher=teacher, child=children[2], starts_on=date(2026, 2, 24),
                                          ends_on=date(2026, 3, 27))]
        for pair, day, minutes in [(pairs[0], date(2026, 4, 1), 40), (pairs[0], date(2026, 4, 14), 25),
                                   (pairs[1], date(2026, 4, 3), 30),
                                   (pairs[0], date(2026, 3, 31), 45), (pairs[2], date(2026, 3, 20), 50),
                                   (pairs[0], date(2026, 4, 15), 35)]:
            TutoringSession.objects.create(school=school, pair=pair, date=day, semester=semester, minutes=minutes)
    return semester


def run_compile(submission, actor):
    version = services.submission_compile_request(actor=actor, submission=submission, enqueue=False)
    compiler.compile_package(school_id=submission.school_id, version_id=version.pk)
    with tenant_scope([submission.school_id]):
        version.refresh_from_db()
    return version


def open_xlsx(version):
    import openpyxl

    with default_storage.open(version.files["xlsx"], "rb") as fh:
        return openpyxl.load_workbook(io.BytesIO(fh.read()), read_only=True)


def summary_values(wb) -> dict:
    sheet = wb.worksheets[0]
    return {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}


def test_xlsx_figures_match_the_database(tree, opened):
    make_records(tree)
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        version = run_compile(sub, tree.gupei_clerk)
        assert version.status == PackageVersion.Status.DONE and version.is_current
        # What the database says about the period (independent queries).
        window = (date(2026, 4, 1), date(2026, 4, 14))
        children = Child.objects.filter(school=tree.gupei, status="active").count()
        contacts = dict(CareContact.objects.filter(school=tree.gupei, happened_on__range=window)
                        .values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
        activities = Activity.objects.filter(school=tree.gupei, date__range=window).count()
        meetings = TrainingMeeting.objects.filter(school=tree.gupei, date__range=window).count()
        covered = dict(CareContact.objects.filter(school=tree.gupei, child__status="active")
                       .values_list("kind").annotate(n=Count("child", distinct=True)).values_list("kind", "n"))
        n_contacts = CareContact.objects.filter(school=tree.gupei, happened_on__range=window).count()
        tutoring = TutoringSession.objects.filter(school=tree.gupei, date__range=window).aggregate(
            n=Count("id"), m=Sum("minutes"))
        pairs = StudyPair.objects.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=window[0]),
                                         school=tree.gupei, starts_on__lte=window[1]).count()
    assert (children, meetings, activities) == (4, 1, 2)
    assert (tutoring["n"], tutoring["m"], pairs) == (3, 95, 2), "records outside the period must not count"

    wb = open_xlsx(version)
    assert [ws.title for ws in wb.worksheets] == ["Summary", "Activities", "Contact log"]
    values = summary_values(wb)
    assert values["Children (active)"][0] == children
    assert values["Training meetings"][0] == meetings
    assert values["Activities held"][0] == 2
    assert values["Activities with photos and a text record"][0] == 1
    assert values["Competitions"][0] == 1
    assert values["Tutoring sessions"][0] == tutoring["n"]
    assert values["Tutoring minutes"][0] == tutoring["m"]
    assert values["Study pairs"][0] == pairs
    labels = dict(CareContact.Kind.choices)
    for kind, label in labels.items():
        in_period, done, pct = values[str(label)][:3]
        assert in_period == contacts.get(kind, 0), kind
        assert done == covered.get(kind, 0), kind
        assert pct == round(100 * covered.get(kind, 0) / children), kind

    acts = list(wb["Activities"].iter_rows(min_row=2, values_only=True))
    assert [a[2] for a in acts] == ["跳绳比赛", "心理健康辅导"]
    assert acts[0][4:7] == (1, "yes", "EV-" + "ab" * 6) and acts[1][5] == "no"

    log_rows = list(wb["Contact log"].iter_rows(min_row=2, values_only=True))
    assert len(log_rows) == n_contacts == 4
    assert [r[0] for r in log_rows] == sorted(r[0] for r in log_rows)
    assert {r[3] for r in log_rows} == {"王**", "李**", "张**"}
    text = repr(log_rows)
    assert not any(name in text for name in NAMES), "the contact log must mask children"
    assert version.figures["children"] == children and version.figures["meetings"] == meetings


def test_compiling_twice_leaves_one_current_version_and_no_duplicates(tree, opened):
    make_records(tree)
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        version = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
        again = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
        assert again.pk == version.pk, "a second click while waiting reuses the reserved version"
    for _i in range(3):  # the job delivered three times (e.g. redelivery after a crash)
        compiler.compile_package(school_id=tree.gupei.id, version_id=version.pk)
    with tenant_scope([tree.gupei.id]):
        assert PackageVersion.objects.filter(submission=sub).count() == 1
        assert PackageVersion.objects.filter(submission=sub, is_current=True).count() == 1
        assert SubmissionEvent.objects.filter(submission=sub, action="compile").count() == 1
        sub.refresh_from_db()
        assert sub.status == Status.COMPILED
        version.refresh_from_db()
    dirs, names = default_storage.listdir(version.storage_key)
    assert (dirs, sorted(names)) == ([], ["package.xlsx"]), "no partial or duplicate files"
    # A new compile is a new version; the old one stops being current, files are separate.
    with tenant_scope([tree.gupei.id]):
        v2 = run_compile(sub, tree.gupei_clerk)
        assert list(PackageVersion.objects.filter(submission=sub, is_current=True).values_list("version", flat=True)) == [2]
    assert v2.storage_key != version.storage_key


def test_sent_submission_cannot_be_compiled(tree, opened):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        run_compile(sub, tree.gupei_clerk)
        sub.refresh_from_db()
        services.submission_submit(actor=tree.gupei_clerk, submission=sub, now=at(date(2026, 4, 15)),
                                   enqueue_similarity=False)
        with pytest.raises(Exception, match="cannot be compiled"):
            services.submission_compile_request(actor=tree.gupei_clerk, submission=sub, enqueue=False)
        with pytest.raises(PermissionDenied):
            services.submission_compile_request(actor=tree.gupei_teacher, submission=sub, enqueue=False)


@pytest.fixture
def summary_type(tree):
    rt = services.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name="上半年工作总结", code="summary",
        kind=ReportKind.HALF_YEAR_SUMMARY, period_type=PeriodType.HALF_YEAR, start_on=date(2026, 1, 1),
        end_on=date(2026, 6, 30), due_offset_days=10, timely_within_days=10, lock_after_days=30,
        schools=[tree.gupei, tree.menzhuang],
    )
    services.periods_open(today=date(2026, 7, 1))
    return rt


def test_docx_work_summary_has_seven_sections_figures_and_the_narrative(tree, opened, summary_type):
    from docx import Document

    from submissions.demo_texts import seed_summaries

    make_records(tree)
    # Two progress reports sent since the semester began (one before, one after the due date).
    for seq in (1, 2):
        s = get_sub(tree, opened, tree.gupei, seq)
        with tenant_scope([tree.gupei.id]):
            run_compile(s, tree.gupei_clerk)
            s.refresh_from_db()
            services.submission_submit(actor=tree.gupei_clerk, submission=s, now=at(s.period.end_on),
                                       enqueue_similarity=False)
    with tenant_scope([tree.gupei.id]):
        sub = Submission.objects.select_related("period", "report_type", "school").get(report_type=summary_type,
                                                                                     school=tree.gupei)
        _menzhuang, gupei_text = seed_summaries()
        sections = split_sections(gupei_text)
        services.narrative_update(actor=tree.gupei_clerk, submission=sub, sections=sections)
        version = run_compile(sub, tree.gupei_clerk)
        assert set(version.files) == {"xlsx", "docx"}
        window = (date(2026, 1, 1), date(2026, 6, 30))
        meetings = TrainingMeeting.objects.filter(school=tree.gupei, date__range=window).count()
        activities = Activity.objects.filter(school=tree.gupei, date__range=window).count()
        competitions = Activity.objects.filter(school=tree.gupei, date__range=window, kind="competition").count()
        sent = Submission.objects.filter(school=tree.gupei, first_submitted_at__isnull=False).count()
        children = Child.objects.filter(school=tree.gupei, status="active").count()
        home_visits = CareContact.objects.filter(school=tree.gupei, kind="home_visit", child__status="active") \
            .values("child").distinct().count()
    assert (meetings, activities, competitions, sent) == (2, 3, 1, 2)

    with default_storage.open(version.files["docx"], "rb") as fh:
        doc = Document(io.BytesIO(fh.read()))
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == list(compiler.DOCX_HEADINGS.values())
    assert headings[0] == "一、提高认识，高度重视" and headings[-1] == "七、材料积累不遗漏，对外宣传不放松"
    table = {row.cells[0].text: row.cells[1].text for row in doc.tables[0].rows}
    assert table["Training meetings"] == str(meetings)
    assert table["Submissions sent since the semester began"] == str(sent)
    assert table["Activities held"] == str(activities)
    assert table["Competitions"] == str(competitions)
    assert table["Children (active)"] == str(children)
    assert table["Coverage %: home visit"] == str(round(100 * home_visits / children))
    body = "\n".join(p.text for p in doc.paragraphs)
    # The school's own paragraphs, without a second copy of the heading.
    for key in ("s1", "s4", "s7"):
        own = compiler._strip_heading(sections[key], compiler.DOCX_HEADINGS[key])
        assert own[:30] in body and not own.startswith(key)
    assert sections["s1"].startswith("一、提高认识") and body.count("一、提高认识") == 1
    assert "2 submissions have been sent to the bureau since the semester began." in body


def test_progress_report_has_no_docx(tree, opened):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with tenant_scope([tree.gupei.id]):
        version = run_compile(sub, tree.gupei_clerk)
    assert set(version.files) == {"xlsx"}
    assert compiler.package_file_name(version, "docx") is None
    assert compiler.package_file_name(version, "xlsx") == version.files["xlsx"]
    default_storage.delete(version.files["xlsx"])
    assert compiler.package_file_name(version, "xlsx") is None, "a file gone from storage is not offered"


def test_strip_heading():
    h = compiler.DOCX_HEADINGS["s1"]
    assert compiler._strip_heading("一、提高认识,高度重视留守儿童工作", h) == "留守儿童工作"
    assert compiler._strip_heading("我们做了很多", h) == "我们做了很多"
    assert compiler.mask_child("张小明") == "张**" and compiler.mask_child("") == ""


def test_compile_request_enqueues_after_commit(tree, opened, django_capture_on_commit_callbacks):
    sub = get_sub(tree, opened, tree.gupei, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with tenant_scope([tree.gupei.id]):
            first = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
    assert len(callbacks) == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with tenant_scope([tree.gupei.id]):
            again = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
    # Its message is still waiting in the outbox (jobs/outbox.py): not queued twice.
    assert again.pk == first.pk and callbacks == []
    from django.utils import timezone

    from tenancy.models import TaskOutbox

    outbox = TaskOutbox.objects.filter(task="submissions.compile_package", args=[tree.gupei.id, first.pk])
    assert outbox.count() == 1
    # Once published, a second click re-sends it (a broker restarted without its data may have lost it).
    outbox.update(sent_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with tenant_scope([tree.gupei.id]):
            again = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
    assert again.pk == first.pk and len(callbacks) == 1
    with tenant_scope([tree.gupei.id]):
        services.package_version_progress(version=first, progress=10)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            running = services.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
    assert running.pk == first.pk and callbacks == []  # a worker has it


def test_compile_time_limits_are_below_the_visibility_timeout():
    from submissions.tasks import compile_package

    assert compile_package.acks_late and compile_package.reject_on_worker_lost
    assert compile_package.soft_time_limit < compile_package.time_limit < 3600  # Redis' visibility_timeout
    assert compile_package.max_retries and compile_package.retry_backoff


@pytest.mark.platform_language
def test_packages_are_written_in_the_platform_language(tree, opened):
    """The bureau reads the packages in Chinese, whatever language the clerk's browser uses."""
    make_records(tree)
    from django.utils import translation

    sub = get_sub(tree, opened, tree.gupei, 1)
    # The requester's language must not leak into the package.
    with translation.override("en"), tenant_scope([tree.gupei.id]):
        version = run_compile(sub, tree.gupei_clerk)
    assert [ws.title for ws in open_xlsx(version).worksheets] == ["汇总", "活动", "联系记录"]
