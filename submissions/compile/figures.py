"""The package's file names and the key figures of a period, gathered from the school's records."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.utils import timezone

from schools.models import (
    Activity,
    ActivitySite,
    CareContact,
    Child,
    Equipment,
    LeadershipMember,
    RuleDocumentVersion,
    Semester,
    StaffProfile,
    StudyPair,
    TrainingMeeting,
    TutoringSession,
)

from ..models import SENT_STATUSES, Submission

XLSX_NAME = "package.xlsx"
DOCX_NAME = "summary.docx"
CHUNK = 2000

# The seed's seven headings, as the two 2022 summaries print them.
DOCX_HEADINGS = {
    "s1": "一、提高认识，高度重视",
    "s2": "二、加大投入，硬件过关",
    "s3": "三、制度先行，措施得力",
    "s4": "四、培训了一支高素质的代理家长队伍",
    "s5": "五、留守儿童之家建设注重特色，形式多样",
    "s6": "六、全方位帮扶留守儿童完成学习任务",
    "s7": "七、材料积累不遗漏，对外宣传不放松",
}
_LEADING_NUMERAL = re.compile(r"^\s*[一二三四五六七][、,，.．]\s*")


@dataclass
class Figures:
    period_start: str
    period_end: str
    semester: str = ""
    children: int = 0
    contacts: dict = field(default_factory=dict)  # kind -> contacts recorded in the period
    coverage: dict = field(default_factory=dict)  # kind -> {"done": children covered in the semester, "percent"}
    activities: int = 0
    activities_evidenced: int = 0
    competitions: int = 0
    theme_activities: int = 0
    meetings: int = 0
    meetings_semester: int = 0
    tutoring_sessions: int = 0
    tutoring_minutes: int = 0
    study_pairs: int = 0
    proxy_parents: int = 0
    leadership_members: int = 0
    sites: int = 0
    equipment_items: int = 0
    rule_documents: int = 0
    submissions_sent_since_semester: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def _semester_for(submission: Submission) -> Semester | None:
    end = submission.period.end_on
    district_id = submission.school.district_id
    return (Semester.objects.filter(district_id=district_id, start__lte=end, end__gte=submission.period.start_on)
            .order_by("-start").first()
            or Semester.objects.filter(district_id=district_id, start__lte=end).order_by("-start").first())


def _end_of(day: date) -> datetime:
    return datetime.combine(day, dtime.max, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, dtime.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def gather_figures(submission: Submission, *, now: datetime | None = None) -> Figures:
    """The key figures of the period (and its semester) from the school's records. Must run in a
    tenant scope that includes the school. A constant number of queries."""
    now = now or timezone.now()
    school = submission.school
    period = submission.period
    window = (period.start_on, period.end_on)
    semester = _semester_for(submission)
    figures = Figures(period_start=period.start_on.isoformat(), period_end=period.end_on.isoformat(),
                      semester=semester.name if semester else "")
    active = Child.objects.filter(school=school, status=Child.Status.ACTIVE)
    figures.children = active.count()
    by_kind = dict(CareContact.objects.filter(school=school, happened_on__range=window)
                   .values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    figures.contacts = {k: by_kind.get(k, 0) for k, _l in CareContact.Kind.choices}
    covered = {}
    if semester is not None:
        covered = dict(CareContact.objects.filter(school=school, semester=semester, child__status=Child.Status.ACTIVE)
                       .values_list("kind").annotate(n=Count("child_id", distinct=True)).values_list("kind", "n"))
    figures.coverage = {
        k: {"done": covered.get(k, 0),
            "percent": round(100 * covered.get(k, 0) / figures.children) if figures.children else 0}
        for k, _l in CareContact.Kind.choices
    }
    totals = Activity.objects.filter(school=school, date__range=window).evidence_totals()
    figures.activities, figures.activities_evidenced = totals["total"], totals["evidenced"]
    kinds = dict(Activity.objects.filter(school=school, date__range=window).values_list("kind")
                 .annotate(n=Count("id")).values_list("kind", "n"))
    figures.competitions = kinds.get(Activity.Kind.COMPETITION, 0)
    figures.theme_activities = kinds.get(Activity.Kind.THEME, 0)
    figures.meetings = TrainingMeeting.objects.filter(school=school, date__range=window).count()
    if semester is not None:
        figures.meetings_semester = TrainingMeeting.objects.filter(school=school, date__range=(semester.start, period.end_on)).count()
    tutoring = TutoringSession.objects.filter(school=school, date__range=window).aggregate(n=Count("id"), m=Sum("minutes"))
    figures.tutoring_sessions, figures.tutoring_minutes = tutoring["n"], tutoring["m"] or 0
    figures.study_pairs = StudyPair.objects.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=period.start_on), school=school, starts_on__lte=period.end_on).count()
    figures.proxy_parents = StaffProfile.objects.filter(school=school, is_proxy_parent=True).count()
    figures.leadership_members = LeadershipMember.objects.filter(school=school).count()
    figures.sites = ActivitySite.objects.filter(school=school).count()
    figures.equipment_items = Equipment.objects.filter(school=school).aggregate(n=Sum("quantity"))["n"] or 0
    figures.rule_documents = (RuleDocumentVersion.objects.filter(school=school)
                              .values("document_id").distinct().count())
    if semester is not None:
        as_of = min(now, _end_of(period.due_on))
        figures.submissions_sent_since_semester = (
            Submission.objects.filter(school=school, status__in=SENT_STATUSES, first_submitted_at__isnull=False,
                                      first_submitted_at__gte=_start_of(semester.start),
                                      first_submitted_at__lte=as_of)
            .exclude(pk=submission.pk).count())
    return figures
