"""Isolation cases of the submissions pages (tests/web/test_page_isolation.py walks them) and the
helpers the submissions web tests share.

Teachers have no part in reporting: 403 on every submission page. The school's own admin gets
the page, or, for the bureau's actions (accept / return / unlock), a redirect with the service's
refusal (nothing changes; tests/web/test_submissions_review.py checks that). The bureau inspector
reads every page and is refused every action the same way (302 with a message, nothing written). A similarity pair is
a bureau page: a school's own users get 404 like everyone outside the bureau's subtree.
"""
from __future__ import annotations

import itertools
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from submissions import services
from submissions.demo_texts import seed_summaries
from submissions.models import (
    DistrictExport,
    Narrative,
    PackageVersion,
    PeriodType,
    ReportKind,
    SimilarityFlag,
    Submission,
    SubmissionReminder,
    UnlockRequest,
    district_export_storage_key,
)
from submissions.narrative import split_sections
from tenancy.models import Membership
from tenancy.roles import Role
from tenancy.scoping import tenant_scope
from tests.support.access_log import Logged, district_school_ids, logged, logged_per_school

from .pages import DistrictPage, Page, register, register_district

_seq = itertools.count(1)


def school_admin(school):
    return Membership.objects.filter(school=school, role=Role.SCHOOL_ADMIN).order_by("id").first().user


def fresh_report(t, schools, *, kind=ReportKind.PROGRESS, days_ago=20, lock_after_days=14):
    """A fortnightly report type around today: period 1 ended a week ago (overdue, not locked
    yet), period 2 is running now, later ones have not opened."""
    n = next(_seq)
    today = timezone.localdate()
    start = today - timedelta(days=days_ago)
    rt = services.report_type_create(
        actor=None, district=schools[0].district if schools else t.district, name=f"网页测试报送{n}",
        code=f"web-{n}", kind=kind,
        period_type=PeriodType.FORTNIGHTLY, start_on=start, end_on=start + timedelta(days=55),
        due_offset_days=3, timely_within_days=3, lock_after_days=lock_after_days, schools=schools,
    )
    services.periods_open(today=today, report_type_ids=[rt.id])
    return rt


def submission_of(report_type, school, seq=1) -> Submission:
    with tenant_scope([school.id]):
        return Submission.objects.select_related("period", "school", "report_type").get(
            report_type=report_type, school=school, period__seq=seq)


def reload(submission) -> Submission:
    with tenant_scope([submission.school_id]):
        return Submission.objects.select_related("period", "school", "report_type").get(pk=submission.pk)


def compile_with_files(submission, actor, *, content=b"PK fake xlsx"):
    """What the compile job does, with a small file in storage (the job itself is tested elsewhere)."""
    with tenant_scope([submission.school_id]):
        version = services.package_version_start(submission=submission, actor=actor)
        key = default_storage.save(f"{version.storage_key}/package.xlsx", ContentFile(content))
        services.package_version_complete(version=version, files={"xlsx": key})
        submission.refresh_from_db()
    return version


def send(submission, actor, sections=None):
    """Narrative (optional) → compile → submit, through the services, as of now."""
    with tenant_scope([submission.school_id]):
        if sections is not None:
            services.narrative_update(actor=actor, submission=submission, sections=sections)
    compile_with_files(submission, actor)
    with tenant_scope([submission.school_id]):
        services.submission_submit(actor=actor, submission=submission, enqueue_similarity=False)
        submission.refresh_from_db()
    return submission


def seed_pair_flag(t, school, partner) -> SimilarityFlag:
    """The seed's two near-identical summaries sent by `school` (first, so it owns the flag) and
    `partner`, compared by the real similarity service."""
    rt = fresh_report(t, [school], kind=ReportKind.HALF_YEAR_SUMMARY)
    services.report_type_assign(actor=None, report_type=rt, schools=[school, partner])
    services.periods_open(today=timezone.localdate(), report_type_ids=[rt.id])
    first, second = seed_summaries()
    a = send(submission_of(rt, school), school_admin(school), split_sections(first))
    b = send(submission_of(rt, partner), school_admin(partner), split_sections(second))
    assert a.pk < b.pk
    for sub in (a, b):  # what the submit-time task does for each (the first indexes, the second flags)
        services.submission_similarity_compute(school_id=sub.school_id, submission_id=sub.pk)
    with tenant_scope([school.id, partner.id]):
        return SimilarityFlag.objects.get(submission_a=a, submission_b=b)


def _open_sub(t, school):
    return {"pk": submission_of(fresh_report(t, [school]), school).pk}


def _sent_sub(t, school):
    sub = submission_of(fresh_report(t, [school]), school)
    return {"pk": send(sub, school_admin(school)).pk}


def _locked_sub(t, school):
    """Period 1 ended 26 days ago and has been locked for three weeks."""
    return {"pk": submission_of(fresh_report(t, [school], days_ago=40, lock_after_days=3), school).pk}


def _unlock_request(t, school):
    sub = submission_of(fresh_report(t, [school], days_ago=40, lock_after_days=3), school)
    with tenant_scope([school.id]):
        return {"pk": services.unlock_request_create(actor=school_admin(school), submission=sub, reason="生病").pk}


def _download(t, school):
    sub = submission_of(fresh_report(t, [school]), school)
    version = compile_with_files(sub, school_admin(school))
    return {"pk": sub.pk, "version": version.version, "kind": "xlsx"}


def _flag(t, school):
    partner = {"gupei": t.village_a, "gupei-a": t.gupei, "menzhuang": t.gupei, "far-centre": t.far_village,
               "far-village": t.far_centre}[school.code]
    return {"pk": seed_pair_flag(t, school, partner).pk}


def _school(t, school):
    return {"pk": school.pk}


def _district_export(t, district):
    """A finished export of the district's first period, with its file where the job writes it."""
    from tenancy.models import School

    n = next(_seq)
    today = timezone.localdate()
    rt = services.report_type_create(
        actor=None, district=district, name=f"区导出{n}", code=f"export-{n}", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=today - timedelta(days=20), end_on=today + timedelta(days=30),
        schools=School.objects.filter(district=district))
    period = rt.periods.order_by("seq").first()
    export = DistrictExport.objects.create(district=district, report_type=rt, period=period)
    name = default_storage.save(district_export_storage_key(export.pk, district.pk), ContentFile(b"PK fake xlsx"))
    DistrictExport.objects.filter(pk=export.pk).update(status=DistrictExport.Status.DONE, file=name)
    return {"pk": export.pk}


def _export_logs(t, district, kwargs, data, user):
    # The workbook holds every school's figures: one export row per school of the district.
    return logged_per_school(district_school_ids(district.pk), "export", user, "submissions.districtexport",
                             kwargs["pk"])


# ---------------------------------------------------------------- access-log expectations
# The school's admin and clerk send its reports (submit_reports); the bureau admin reviews. Anyone
# else's POST comes back with the service's refusal and writes nothing.
SENDERS = {"gupei_admin", "menzhuang_admin", "gupei_clerk", "village_a_admin", "other_admin", "other_clerk",
           "other_village_admin"}


def _sent_by_school(make_rows):
    def rows(t, school, kwargs, data, user):
        return make_rows(school, kwargs, user) if user.username in SENDERS else []
    return rows


def _reviewed(t, school, kwargs, data, user):
    if user != t.bureau_admin:
        return []
    return [Logged(school.pk, "update", "submissions.submission", str(kwargs["pk"]), user.pk)]


def _latest(model, school, submission_pk):
    with tenant_scope([school.id]):
        return model.objects.filter(submission_id=submission_pk).latest("id")


def _narrative_saved(school, kwargs, user):
    return logged(_latest(Narrative, school, kwargs["pk"]), "create", user)


def _compile_started(school, kwargs, user):
    return logged(_latest(PackageVersion, school, kwargs["pk"]), "create", user)


def _package_downloaded(t, school, kwargs, data, user):
    with tenant_scope([school.id]):
        version = PackageVersion.objects.get(submission_id=kwargs["pk"], version=kwargs["version"])
    return logged(version, "export", user)


# The school's admin asks for an unlock (the clerk sends reports but does not speak for the school).
ADMINS = {"gupei_admin", "menzhuang_admin", "village_a_admin", "other_admin", "other_village_admin"}


def _unlock_asked(t, school, kwargs, data, user):
    if user.username not in ADMINS:
        return []
    return logged(_latest(UnlockRequest, school, kwargs["pk"]), "create", user)


def _reminded(t, school, kwargs, data, user):
    if user != t.bureau_admin:
        return []
    return logged(_latest(SubmissionReminder, school, kwargs["pk"]), "create", user)


def _unlock_decided(grant):
    def rows(t, school, kwargs, data, user):
        if user != t.bureau_admin:
            return []
        with tenant_scope([school.id]):
            request = UnlockRequest.objects.get(pk=kwargs["pk"])
        out = [Logged(school.pk, "update", "submissions.unlockrequest", str(request.pk), user.pk)]
        if grant:  # granting performs the unlock
            out.append(Logged(school.pk, "update", "submissions.submission", str(request.submission_id), user.pk))
        return out
    return rows


def _not_compiled(t, school, kwargs, data, user):
    # An open submission without a package: "Compile the package before submitting."
    return []


for page in [
    Page("school_submissions", _school),
    Page("submission_detail", _open_sub, teacher_status=403),
    Page("submission_status", _open_sub, teacher_status=403),
    Page("submission_narrative", _open_sub, teacher_status=403),
    Page("submission_narrative", _open_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         data=lambda t, s: {"s1": "我们做了很多工作。"}, notes="POST saves the narrative",
         logs=_sent_by_school(_narrative_saved)),
    Page("submission_compile", _open_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         logs=_sent_by_school(_compile_started)),
    Page("submission_submit", _open_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         logs=_not_compiled),
    Page("submission_package_download", _download, teacher_status=403, logs=_package_downloaded),
    # The review screen is the bureau's (and overseers', read-only): the school's admin gets 403.
    Page("submission_review", _sent_sub, owner_status=403, teacher_status=403),
    Page("submission_accept", _sent_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         data=lambda t, s: {"comment": ""}, logs=_reviewed),
    Page("submission_return", _sent_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         data=lambda t, s: {"comment": "请补充材料。"}, logs=_reviewed),
    Page("submission_unlock", _open_sub, method="post", owner_status=302, teacher_status=403, inspector_status=302,
         data=lambda t, s: {"until": ""}, logs=_reviewed),
    # 催报 is the bureau's, from the matrix: the school's own users have no review screen (403).
    Page("submission_remind", _open_sub, method="post", owner_status=403, teacher_status=403, inspector_status=302,
         logs=_reminded),
    Page("submission_unlock_request", _locked_sub, teacher_status=403),
    Page("submission_unlock_request", _locked_sub, method="post", owner_status=302, clerk_status=302,
         teacher_status=403, inspector_status=302, data=lambda t, s: {"reason": "管理员生病住院"},
         logs=_unlock_asked),
    # An unlock request is read by those who take part in the school's reporting; the bureau decides.
    Page("unlock_request_grant", _unlock_request, method="post", owner_status=302, teacher_status=404,
         inspector_status=302, logs=_unlock_decided(True)),
    Page("unlock_request_refuse", _unlock_request, method="post", owner_status=302, teacher_status=404,
         inspector_status=302, logs=_unlock_decided(False)),
    Page("similarity_pair", _flag, owner_status=404, teacher_status=404,
         notes="bureau page: a school's own users do not see flags at all"),
]:
    register(page)

# The bureau's readers (the inspector too) download their district's exports; nobody else sees them.
register_district(DistrictPage(
    "district_export_download", _district_export, logs=_export_logs,
    statuses={"bureau_admin": 200, "bureau_inspector": 200, "gupei_township": 404, "gupei_admin": 404,
              "gupei_teacher": 404, "gupei_clerk": 404},
))


# ---------------------------------------------------------------- the centre school's review (VIA_CENTRE)
def _via_centre_sent(t, school):
    from submissions.models import ApprovalRoute

    rt = fresh_report(t, [school])
    services.report_type_update(actor=None, report_type=rt, route=ApprovalRoute.VIA_CENTRE)
    return send(submission_of(rt, school), school_admin(school))


def _centre_sub(t, school):
    return {"pk": _via_centre_sent(t, school).pk}


def _centre_approver(school):
    """The township admin of the school's centre (its parent), or None for a school without one."""
    if school.parent_id is None:
        return None
    return Membership.objects.filter(school_id=school.parent_id, role=Role.TOWNSHIP_ADMIN).first().user


def _centre_approved_sub(t, school):
    sub = _via_centre_sent(t, school)
    approver = _centre_approver(school)
    if approver is not None:
        with tenant_scope([school.id]):
            services.submission_approve(actor=approver, submission=reload(sub))
    return {"pk": sub.pk}


def _centre_decided(t, school, kwargs, data, user):
    """Only the centre's township admin decides a village school's report; anyone else is told no."""
    if user != _centre_approver(school):
        return []
    return [Logged(school.pk, "update", "submissions.submission", str(kwargs["pk"]), user.pk)]


for page in [
    # Read like the bureau's review screen (overseers only); the decisions are the centre's.
    Page("centre_review", _centre_sub, owner_status=403, teacher_status=403),
    Page("centre_approve", _centre_sub, method="post", owner_status=403, teacher_status=403, inspector_status=302,
         logs=_centre_decided),
    Page("centre_return", _centre_sub, method="post", owner_status=403, teacher_status=403, inspector_status=302,
         data=lambda t, s: {"comment": "请补充照片。"}, logs=_centre_decided),
    Page("centre_withdraw", _centre_approved_sub, method="post", owner_status=403, teacher_status=403,
         inspector_status=302, logs=_centre_decided),
]:
    register(page)
