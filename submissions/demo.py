"""Demo data for submissions. Idempotent and deterministic: the dates follow one reporting year Y
(schools.demo.progress_year of the seed's `ctx["today"]`: the latest year whose 30 September has
passed, so every period below is over and due), every step is guarded by the submission's status,
and all writes go through the services.

- A fortnightly progress report of Y's spring semester since Y-04-01 (11 periods to Y-08-31).
  Gupei has sent 10 of 11, one of them late; other schools have gaps; 张八岭小学 joined the
  platform in May, so it is expected only from then on; 桥头小学 has sent nothing.
- Y's first-half work summary (calendar half-year): 门庄小学 and 古沛中心小学 sent the seed's
  near-identical narratives (flagged), 涧溪中心小学 an independent one (not flagged).
- A fortnightly work-update report around the seed's day itself (seed_current), so every role has
  work today: an open period due ahead, the last period past due returned to some schools with a
  reason, waiting for review at others, and not sent by 桥头小学. It goes through the centre school
  (ApprovalRoute.VIA_CENTRE): of Gupei's village schools, 古沛镇石坝小学's last period was approved
  by the centre and waits for the bureau, and it sent the running period early (waiting for the
  centre); the centre returned 古沛镇魏岗小学's with a reason.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from schools.demo import progress_year
from tenancy import services as tenancy_services
from tenancy.models import School, User
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope

from . import services
from .demo_texts import independent_summary, seed_summaries
from .models import ApprovalRoute, PeriodType, ReportKind, ReportType, Status, Submission
from .narrative import split_sections


def demo_today(year: int) -> date:
    """The day the demo's periods are opened for: every progress period is due by then."""
    return date(year, 9, 30)


def progress_code(year: int) -> str:
    return f"progress-{year}-spring"


def summary_code(year: int) -> str:
    return f"summary-{year}-h1"


# school code -> (periods not sent, periods sent late). Everything else is sent on time.
PROGRESS_PLAN = {
    "gupei": ({11}, {5}),
    "gupei-shiba": ({7, 8, 9, 10, 11}, set()),
    "gupei-weigang": ({2, 4, 9}, {7}),
    "menzhuang": ({3, 8}, {6}),
    "jianxi": (set(), set()),
    "pancun": ({1, 2, 3}, {10}),
    "qiaotou": (set(range(1, 12)), set()),
    "zhangbaling": ({11}, set()),
}
MID_YEAR_SCHOOL = ("zhangbaling", (5, 13))  # opened on this month and day of the reporting year


def _at(day: date, hour: int = 16) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))


def _clerk(school: School, users: dict) -> User:
    """The school's materials clerk; the base demo has them for gupei only, so add the others."""
    username = school.code.replace("-", "_") + "_clerk"
    if username in users:
        return users[username]
    user = User.objects.filter(username=username).first()
    if user is None:
        from tenancy.demo import DEMO_PASSWORD

        user = tenancy_services.user_create(username=username, password=DEMO_PASSWORD,
                                            display_name=f"{school.name} 材料员")
    tenancy_services.membership_grant(user=user, role=Role.CLERK, school=school)
    users[username] = user
    return user


def _report_type(district, code, **fields) -> ReportType:
    existing = ReportType.objects.filter(district=district, code=code).first()
    return existing or services.report_type_create(actor=None, district=district, code=code, **fields)


# Schools whose demo packages are compiled for real (files on disk): the rest only get the
# version rows, which keeps the seed fast.
COMPILED_SCHOOLS = {"gupei", "menzhuang", "jianxi"}


def _compile(submission: Submission, actor, at: datetime, real: bool):
    version = services.package_version_start(submission=submission, actor=actor)
    if real:
        from .compile import compile_package

        return compile_package(school_id=submission.school_id, version_id=version.pk, now=at)
    return services.package_version_complete(version=version, now=at)


def _send(submission: Submission, actor, at: datetime, sections: dict | None = None, real: bool = False) -> Submission:
    """compile → submit, through the services; `real` runs the compile job in-process (files)."""
    if submission.status != Status.OPEN:
        return submission
    if sections:
        services.narrative_update(actor=actor, submission=submission, sections=sections, now=at - timedelta(hours=2))
    _compile(submission, actor, at - timedelta(hours=1), real)
    submission.refresh_from_db()
    return services.submission_submit(actor=actor, submission=submission, now=at, enqueue_similarity=False)


def seed(ctx: dict) -> None:
    # The demo is one district's: its calendar, checklists and reporting are district-owned rows.
    with district_scope(ctx["district"]):
        _seed(ctx)


def _seed(ctx: dict) -> None:
    district, schools, users = ctx["district"], ctx["schools"], ctx["users"]
    year = progress_year(ctx.get("today") or timezone.localdate())
    code, (month, day) = MID_YEAR_SCHOOL
    opened_on = date(year, month, day)
    if schools[code].opened_on != opened_on:
        schools[code] = tenancy_services.school_update(school=schools[code], opened_on=opened_on)
    all_schools = list(schools.values())
    progress = _report_type(
        district, progress_code(year), name=f"{year}年春季学期留守儿童之家建设进展报送（双周）", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=date(year, 4, 1), end_on=date(year, 8, 31),
        open_offset_days=7, due_offset_days=3, timely_within_days=3, lock_after_days=14, remind_days_before=2,
        schools=all_schools,
    )
    summary = _report_type(
        district, summary_code(year), name=f"{year}年上半年留守儿童之家建设工作总结", kind=ReportKind.HALF_YEAR_SUMMARY,
        period_type=PeriodType.HALF_YEAR, start_on=date(year, 1, 1), end_on=date(year, 6, 30),
        open_offset_days=140, due_offset_days=10, timely_within_days=10, lock_after_days=30, remind_days_before=5,
        schools=all_schools,
    )
    services.periods_open(today=demo_today(year), report_type_ids=[progress.id, summary.id])
    bureau = users["bureau_admin"]
    clerks = {c: (users["gupei_clerk"] if c == "gupei" else _clerk(s, users)) for c, s in schools.items()}
    with tenant_scope([s.id for s in all_schools]):
        subs = {(s.school_id, s.period.seq): s for s in
                Submission.objects.filter(report_type=progress).select_related("period", "school")}
        for school_code, (skipped, late) in PROGRESS_PLAN.items():
            school = schools[school_code]
            for seq in range(1, 12):
                submission = subs.get((school.id, seq))
                if submission is None or seq in skipped:
                    continue  # not expected (joined later) or not sent
                end = submission.period.end_on
                at = _at(end + timedelta(days=6 if seq in late else 1))
                submission = _send(submission, clerks[school_code], at, real=school_code == "gupei")
                _review(submission, bureau, school_code, seq, clerks[school_code])

        menzhuang_text, gupei_text = seed_summaries()
        narratives = {"menzhuang": menzhuang_text, "gupei": gupei_text, "jianxi": independent_summary()}
        sent = []
        for school_code, text in narratives.items():
            submission = Submission.objects.get(report_type=summary, school=schools[school_code])
            submission = _send(submission, clerks[school_code], _at(date(year, 6, 28)), split_sections(text),
                               real=school_code in COMPILED_SCHOOLS)
            sent.append(submission)
        for submission in sent:
            services.submission_similarity_compute(school_id=submission.school_id, submission_id=submission.pk)
    current = _seed_current(ctx, all_schools, clerks, bureau)
    ctx.update(report_types={"progress": progress, "summary": summary, "current": current}, reporting_year=year)


CURRENT_CODE = "work-update"
# The last period past due, per school: returned by the bureau, waiting for review, or not sent.
CURRENT_RETURNED = {"gupei", "menzhuang"}
CURRENT_NOT_SENT = {"qiaotou"}
RETURN_REASON = "请补充本期活动的照片和文字记录，并核对留守儿童人数后重新报送。"
# Gupei's village schools on the centre route: the centre approved one, returned the other.
CENTRE_APPROVED = {"gupei-shiba"}
CENTRE_RETURNED = {"gupei-weigang"}
CENTRE_RETURN_REASON = "本期家访记录缺少照片，请补充后重新报送中心校。"
# Sent early for the running period, waiting for the centre's review today.
CENTRE_WAITING = {"gupei-shiba"}


def _seed_current(ctx: dict, all_schools: list[School], clerks: dict, bureau) -> ReportType:
    """The fortnightly report around today: created four weeks before the seed's Monday (so
    today falls in its third period), open-ended like a real standing report. Its periods open
    for the seed's day; the most recent period past due gets the plan above (re-seeding on a later
    day applies it to that day's last past-due period)."""
    today = ctx.get("today") or timezone.localdate()
    district = ctx["district"]
    monday = today - timedelta(days=today.weekday())
    report = _report_type(
        district, CURRENT_CODE, name="留守儿童之家工作动态报送（双周）", kind=ReportKind.PROGRESS,
        period_type=PeriodType.FORTNIGHTLY, start_on=monday - timedelta(days=28), end_on=None,
        open_offset_days=0, due_offset_days=3, timely_within_days=3, lock_after_days=28, remind_days_before=2,
        schools=all_schools, route=ApprovalRoute.VIA_CENTRE,
    )
    if report.route != ApprovalRoute.VIA_CENTRE:  # seeded before the route existed
        report = services.report_type_update(actor=None, report_type=report, route=ApprovalRoute.VIA_CENTRE)
    services.periods_open(today=today, report_type_ids=[report.id])
    township = ctx["users"]["gupei_township"]
    with tenant_scope([s.id for s in all_schools]):
        past_due = (Submission.objects.filter(report_type=report, period__due_on__lt=today)
                    .select_related("period", "school").order_by("-period__seq"))
        last_seq = past_due[0].period.seq if past_due else None
        for submission in past_due:
            code = submission.school.code
            if submission.period.seq != last_seq or code in CURRENT_NOT_SENT:
                continue
            end = submission.period.end_on
            submission = _send(submission, clerks[code], _at(end + timedelta(days=1)))
            if submission.status != Status.SUBMITTED:
                continue  # decided on an earlier run
            decided = _at(end + timedelta(days=2), 10)
            if code in CURRENT_RETURNED:
                services.submission_return(actor=bureau, submission=submission, now=decided, comment=RETURN_REASON)
            elif code in CENTRE_APPROVED:
                services.submission_approve(actor=township, submission=submission, now=decided,
                                            comment="材料齐全，同意报送。")
            elif code in CENTRE_RETURNED:
                services.submission_centre_return(actor=township, submission=submission, now=decided,
                                                  comment=CENTRE_RETURN_REASON)
        running = (Submission.objects.filter(report_type=report, period__start_on__lte=today,
                                             period__end_on__gte=today, school__code__in=CENTRE_WAITING)
                   .select_related("period", "school"))
        for submission in running:
            _send(submission, clerks[submission.school.code], _at(today, 8))
    return report


def _review(submission: Submission, bureau, school_code: str, seq: int, clerk) -> None:
    """The bureau has reviewed Gupei's first nine and some of the others; one was returned and sent again."""
    if submission.status != Status.SUBMITTED:
        return
    at = _at(submission.submitted_at.astimezone(ZoneInfo(settings.TIME_ZONE)).date() + timedelta(days=2), 10)
    if school_code == "gupei" and seq == 9:
        submission = services.submission_return(
            actor=bureau, submission=submission, now=at,
            comment="请补充本期家访记录的照片和文字材料。",
        )
        _compile(submission, clerk, at + timedelta(days=1), real=True)
        submission.refresh_from_db()
        services.submission_submit(actor=clerk, submission=submission, now=at + timedelta(days=1, hours=1),
                                   note="家访照片和文字材料已补充到本期活动记录中。", enqueue_similarity=False)
    elif (school_code == "gupei" and seq <= 8) or (school_code in ("menzhuang", "jianxi") and seq <= 6):
        services.submission_accept(actor=bureau, submission=submission, now=at)

