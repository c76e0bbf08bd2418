"""The start page's to-do list: each role's work, most urgent first, composed from the selectors of
the apps that own the rules (schools, submissions, compliance). Reads only.

One section per role the user holds (a teacher who is also the clerk gets both). Every item
carries its count, the scope the count covers (the teacher's own children, the school, the
township's village schools, the district) and the page where the work is done. A section costs a
fixed number of queries whatever the number of children, schools or submissions.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from care import selectors as care_selectors
from compliance import selectors as compliance_selectors
from privacy import selectors as privacy_selectors
from schools import selectors as school_selectors
from schools.models import CareContact, Semester
from submissions import selectors as submission_selectors
from submissions.township import selectors as township_selectors
from tenancy import selectors as tenancy_selectors
from tenancy.models import Membership, School
from tenancy.roles import Role

# Urgency, most urgent first: overdue or returned; due within a week or waiting on the user; to do.
URGENT, SOON, TODO = 0, 1, 2
SOON_DAYS = 7
# How many of the district's schools the bureau's "furthest behind" list names.
BEHIND_SCHOOLS = 3

SCOPE_MINE = gettext_lazy("My children")
SCOPE_SCHOOL = gettext_lazy("This school")
SCOPE_VILLAGES = gettext_lazy("This township's village schools")
SCOPE_DISTRICT = gettext_lazy("Whole district")

ROLE_TITLES = {
    Role.TEACHER: gettext_lazy("As proxy parent"),
    Role.CLERK: gettext_lazy("As materials clerk"),
    Role.SCHOOL_ADMIN: gettext_lazy("As school admin"),
    Role.TOWNSHIP_ADMIN: gettext_lazy("As township admin"),
    Role.BUREAU_ADMIN: gettext_lazy("As bureau admin"),
    Role.BUREAU_INSPECTOR: gettext_lazy("As bureau inspector"),
}
# Sections of equal urgency keep this order.
ROLE_ORDER = [Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR, Role.TOWNSHIP_ADMIN, Role.SCHOOL_ADMIN, Role.CLERK,
              Role.TEACHER]


@dataclass
class Item:
    key: str  # what kind of work, stable for the API
    label: str
    count: int
    scope: str  # what the count covers
    urgency: int
    url: str
    detail: str = ""
    school_id: int | None = None


@dataclass
class Section:
    role: str
    title: str
    place: str  # the school or district the role is held at
    items: list[Item] = field(default_factory=list)
    note: str = ""  # e.g. the semester and the days left in it
    school_id: int | None = None
    district_id: int | None = None

    @property
    def urgency(self) -> int:
        return min((i.urgency for i in self.items), default=TODO + 1)


@dataclass
class Today:
    day: dt.date
    sections: list[Section]
    school_ids: list[int]


def _day(d: dt.date) -> str:
    # A date format string, translated per language (zh-hans: "n月j日").
    return formats.date_format(d, pgettext("month and day", "N j"))


class _Reads:
    """Per-request memo of the reads several sections share (one query per distinct call)."""

    def __init__(self, user, today: dt.date):
        self.user, self.today = user, today
        self._semesters: dict[int, Semester | None] = {}
        self._assigned: set[int] | None = None
        self._perms: dict[int, set[str]] | None = None

    def perms(self) -> dict[int, set[str]]:
        if self._perms is None:
            self._perms = tenancy_selectors.permissions_by_school(self.user)
        return self._perms

    def semester(self, district_id: int) -> Semester | None:
        if district_id not in self._semesters:
            self._semesters[district_id] = school_selectors.semester_current(district_id, self.today)
        return self._semesters[district_id]

    def assigned(self) -> set[int]:
        if self._assigned is None:
            self._assigned = school_selectors.assigned_child_ids(self.user)
        return self._assigned

    def semester_note(self, semester: Semester | None) -> str:
        if semester is None:
            return _("No semester is set in the district's calendar.")
        if self.today > semester.end:
            return _("%(name)s ended on %(end)s.") % {"name": semester.name, "end": _day(semester.end)}
        left = (semester.end - self.today).days
        return _("%(name)s: %(n)d days left (until %(end)s).") % {
            "name": semester.name, "n": left, "end": _day(semester.end)}


# ---------------------------------------------------------------- reporting, shared by the school roles
def _reporting_items(work: submission_selectors.SchoolWork, scope, url: str, today: dt.date,
                     school_id: int | None = None, prefix: str = "", returned_url: str | None = None) -> list[Item]:
    items = []
    by_bureau = work.returned - work.returned_by_centre
    if by_bureau:
        items.append(Item("returned", prefix + _("Returned by the bureau"), by_bureau, scope, URGENT,
                          returned_url or url, _("Fix what the bureau asked for and send again."), school_id))
    if work.returned_by_centre:
        items.append(Item("returned_by_centre", prefix + _("Returned by the centre school"), work.returned_by_centre,
                          scope, URGENT, returned_url or url,
                          _("Fix what the centre school asked for and send again."), school_id))
    if work.late:
        items.append(Item("late", prefix + _("Past the due date, not sent"), work.late, scope, URGENT, url,
                          _("Late, but still open for sending."), school_id))
    if work.due_ahead:
        days = (work.next_due - today).days if work.next_due else 0
        items.append(Item("due", prefix + _("Due, not sent yet"), work.due_ahead, scope,
                          SOON if days <= SOON_DAYS else TODO, url,
                          _("Next due on %(date)s (%(n)d days left).") % {"date": _day(work.next_due), "n": days}
                          if work.next_due else "", school_id))
    return items


def _submission_url(school: School, work: submission_selectors.SchoolWork) -> str:
    if len(work.returned_ids) == 1:
        return reverse("submission_detail", kwargs={"pk": work.returned_ids[0]})
    return reverse("school_submissions", kwargs={"pk": school.pk})


# ---------------------------------------------------------------- follow-up cases the user owns
def _case_items(reads: _Reads, school: School) -> list[Item]:
    """The user's own open follow-up cases (帮扶个案): overdue, and due within a week (one query)."""
    counts = care_selectors.owner_case_counts(reads.user, [school.pk], reads.today).get(school.pk)
    if counts is None:
        return []
    url = reverse("care_cases", kwargs={"school_pk": school.pk})
    items = []
    if counts.overdue:
        items.append(Item("cases_overdue", _("Follow-up cases past their date"), counts.overdue, str(SCOPE_MINE),
                          URGENT, url, _("Record what was done, or close the case."), school.pk))
    if counts.soon:
        items.append(Item("cases_due", _("Follow-up cases due within 7 days"), counts.soon, str(SCOPE_MINE), SOON,
                          url, "", school.pk))
    return items


# ---------------------------------------------------------------- one section per role
def _teacher(reads: _Reads, school: School) -> Section:
    semester = reads.semester(school.district_id)
    section = Section(Role.TEACHER, str(ROLE_TITLES[Role.TEACHER]), school.name, note=reads.semester_note(semester),
                      school_id=school.pk)
    section.items += _case_items(reads, school)
    if semester is not None:
        mine = reads.assigned()
        gaps = [g for g in compliance_selectors.semester_gaps("four_contact_coverage", [school.pk], semester)
                if g["child_id"] in mine]
        days_left = (semester.end - reads.today).days
        left = (_("%(n)d days left in the semester.") % {"n": days_left} if days_left >= 0
                else _("The semester has ended: record what was done in it."))
        # In the holidays the ended semester's contacts can still be recorded (dated in it), but
        # nothing is due any more: to do, not urgent.
        urgency = SOON if 0 <= days_left <= 30 else TODO
        tracker = reverse("contact_tracker", kwargs={"school_pk": school.pk}) + "?" + urlencode({"proxy": reads.user.pk})
        for kind, label in CareContact.Kind.choices:
            n = sum(1 for g in gaps if kind in g["missing"])
            if n:
                section.items.append(Item(f"contact_{kind}", _("Children still without a %(kind)s") % {"kind": label},
                                          n, str(SCOPE_MINE), urgency, tracker, left, school.pk))
    held = school_selectors.activities_on([school.pk], reads.today).get(school.pk, 0)
    if held:
        url = reverse("activities_week", kwargs={"school_pk": school.pk}) + "?" + urlencode(
            {"date": reads.today.isoformat()})
        section.items.append(Item("activities_today", _("Activities today"), held, str(SCOPE_SCHOOL), SOON, url,
                                  "", school.pk))
    return section


def _clerk(reads: _Reads, school: School, work) -> Section:
    section = Section(Role.CLERK, str(ROLE_TITLES[Role.CLERK]), school.name, school_id=school.pk)
    submissions_url = reverse("school_submissions", kwargs={"pk": school.pk})
    section.items += _reporting_items(work, str(SCOPE_SCHOOL), submissions_url, reads.today, school.pk,
                                      returned_url=_submission_url(school, work))
    if work.to_compile:
        section.items.append(Item("compile", _("Packages to compile"), work.to_compile, str(SCOPE_SCHOOL), TODO,
                                  submissions_url, "", school.pk))
    semester = reads.semester(school.district_id)
    if semester is not None:
        section.note = reads.semester_note(semester)
        gaps = compliance_selectors.semester_gaps("activities_evidenced_share", [school.pk], semester)
        url = reverse("activities_week", kwargs={"school_pk": school.pk})
        for key, what, label in (("photo", "photo", _("Activities without a photo")),
                                 ("text", "text_record", _("Activities without a text record"))):
            n = sum(1 for g in gaps if what in g["missing"])
            if n:
                section.items.append(Item(f"activity_{key}", label, n, str(SCOPE_SCHOOL), TODO, url,
                                          _("This semester"), school.pk))
    return section


def _school_admin(reads: _Reads, school: School, work) -> Section:
    section = Section(Role.SCHOOL_ADMIN, str(ROLE_TITLES[Role.SCHOOL_ADMIN]), school.name, school_id=school.pk)
    section.items += _reporting_items(work, str(SCOPE_SCHOOL), reverse("school_submissions", kwargs={"pk": school.pk}),
                                      reads.today, school.pk, returned_url=_submission_url(school, work))
    section.items += _case_items(reads, school)
    children_url = reverse("children_list", kwargs={"school_pk": school.pk})
    consent = school_selectors.children_without_consent([school.pk]).get(school.pk, 0)
    if consent:
        section.items.append(Item("consent", _("Children without the guardian's consent"), consent,
                                  str(SCOPE_SCHOOL), TODO, children_url, "", school.pk))
    semester = reads.semester(school.district_id)
    if semester is not None:
        incomplete = len(compliance_selectors.semester_gaps("archive_completeness", [school.pk], semester))
        if incomplete:
            section.items.append(Item("archive", _("Children with an incomplete archive"), incomplete,
                                      str(SCOPE_SCHOOL), TODO, children_url, "", school.pk))
    section.items += _guardian_request_items(school, reads.today)
    staff = school_selectors.teachers_without_home_role([school.pk]).get(school.pk, 0)
    if staff:
        section.items.append(Item("staff", _("Teachers who are not proxy parents yet"), staff, str(SCOPE_SCHOOL),
                                  TODO, reverse("proxy_parents", kwargs={"school_pk": school.pk}), "", school.pk))
    return section


def _guardian_request_items(school: School, today: dt.date) -> list[Item]:
    """Guardians' requests to see, correct or delete a child's data that are overdue or due within
    a week (the school must answer in time)."""
    due = privacy_selectors.requests_due([school.pk], today).get(school.pk)
    if due is None:
        return []
    url = reverse("guardian_requests", kwargs={"school_pk": school.pk})
    items = []
    if due.overdue:
        items.append(Item("guardian_requests_overdue", _("Guardians' requests past their due date"), due.overdue,
                          str(SCOPE_SCHOOL), URGENT, url, _("Answer them and record the outcome."), school.pk))
    if due.due_soon and due.next_due is not None:
        items.append(Item("guardian_requests_due", _("Guardians' requests due soon"), due.due_soon, str(SCOPE_SCHOOL),
                          SOON, url, _("Next due on %(date)s (%(n)d days left).") % {
                              "date": _day(due.next_due), "n": (due.next_due - today).days}, school.pk))
    return items


def _coverage_items(reads: _Reads, schools: list[School], scope, limit: int | None) -> list[Item]:
    """Four-contact coverage of these schools this semester, lowest first (one statement each for
    the metric and the gaps)."""
    out: list[Item] = []
    by_district: dict[int, list[School]] = {}
    for s in schools:
        by_district.setdefault(s.district_id, []).append(s)
    for district_id, group in by_district.items():
        semester = reads.semester(district_id)
        if semester is None:
            continue
        ids = [s.pk for s in group]
        coverage = compliance_selectors.semester_metric("four_contact_coverage", ids, semester)
        ranked = sorted((s for s in group if coverage.get(s.pk) is not None), key=lambda s: (coverage[s.pk], s.path))
        if limit is not None:
            ranked = ranked[:limit]
        if not ranked:
            continue
        missing: dict[int, int] = {}
        for g in compliance_selectors.semester_gaps("four_contact_coverage", [s.pk for s in ranked], semester):
            missing[g["school_id"]] = missing.get(g["school_id"], 0) + 1
        for s in ranked:
            if not missing.get(s.pk):
                continue
            out.append(Item(
                "coverage", _("%(school)s: children still missing contacts") % {"school": s.name}, missing[s.pk],
                str(scope), TODO, reverse("school_dashboard", kwargs={"school_pk": s.pk}),
                _("Four-contact coverage %(p)d%% this semester.") % {"p": round(100 * (coverage[s.pk] or 0))}, s.pk))
    return out


def _add(total: submission_selectors.SchoolWork, work: submission_selectors.SchoolWork) -> None:
    for name in ("due_ahead", "late", "to_compile", "returned", "returned_by_centre", "waiting_review",
                 "waiting_centre"):
        setattr(total, name, getattr(total, name) + getattr(work, name))
    if work.next_due and (total.next_due is None or work.next_due < total.next_due):
        total.next_due = work.next_due
    total.returned_ids += work.returned_ids


def _township(reads: _Reads, school: School, work: dict) -> Section:
    section = Section(Role.TOWNSHIP_ADMIN, str(ROLE_TITLES[Role.TOWNSHIP_ADMIN]), school.name, school_id=school.pk)
    villages = list(School.objects.filter(district_id=school.district_id, path__startswith=school.path)
                    .exclude(pk=school.pk).order_by("path"))
    total = submission_selectors.SchoolWork()
    for v in villages:
        _add(total, work.get(v.pk, submission_selectors.SchoolWork()))
    matrix = reverse("reporting_matrix") + "?" + urlencode({"district": school.district_id})
    if total.waiting_centre and "approve_reports" in reads.perms().get(school.pk, set()):
        # The centre school's own review (VIA_CENTRE report types): the most direct work it has.
        section.items.append(Item("to_approve", _("Village reports to review"), total.waiting_centre,
                                  str(SCOPE_VILLAGES), URGENT, reverse("centre_queue") + "?" + urlencode(
                                      {"centre": school.pk}),
                                  _("Approve them for the bureau or return them with a reason."), school.pk))
    if "approve_reports" in reads.perms().get(school.pk, set()):
        ready = township_selectors.periods_ready_to_compile(centre=school, today=reads.today)
        if ready:
            # Every village approved for a period and no township package yet: the centre's next step.
            section.items.append(Item(
                "township_package", _("Township packages to compile"), len(ready), str(SCOPE_VILLAGES), TODO,
                reverse("township_packages", kwargs={"pk": school.pk}) + "?" + urlencode({"period": ready[0].pk}),
                _("Every village school's report of the period is approved."), school.pk))
    section.items += _reporting_items(total, str(SCOPE_VILLAGES), matrix, reads.today,
                                      prefix=_("Village schools: "))
    section.items += _coverage_items(reads, villages, SCOPE_VILLAGES, None)
    section.note = reads.semester_note(reads.semester(school.district_id))
    return section


def _bureau(reads: _Reads, membership: Membership, schools: list[School], work: dict) -> Section:
    district = membership.district
    section = Section(membership.role, str(ROLE_TITLES[membership.role]), district.name, district_id=district.pk)
    mine = [s for s in schools if s.district_id == district.pk]
    total = submission_selectors.SchoolWork()
    for s in mine:
        _add(total, work.get(s.pk, submission_selectors.SchoolWork()))
    matrix = reverse("reporting_matrix") + "?" + urlencode({"district": district.pk})
    scope = str(SCOPE_DISTRICT)
    reviews = membership.role == Role.BUREAU_ADMIN
    if total.waiting_review:
        section.items.append(Item("review", _("Submissions waiting for review"), total.waiting_review, scope,
                                  SOON if reviews else TODO, matrix,
                                  "" if reviews else _("The bureau admin reviews them."), None))
    if total.waiting_centre:
        section.items.append(Item("waiting_centre", _("Waiting for the centre schools' review"), total.waiting_centre,
                                  scope, TODO, matrix, _("Village schools' reports reach you once approved."), None))
    if total.returned:
        section.items.append(Item("returned", _("Returned to schools, not sent again yet"), total.returned, scope,
                                  TODO, matrix, "", None))
    if total.late:
        section.items.append(Item("late", _("Schools' submissions past the due date"), total.late, scope, URGENT,
                                  matrix, _("Remind the schools."), None))
    if total.due_ahead:
        days = (total.next_due - reads.today).days if total.next_due else 0
        section.items.append(Item("due", _("Open periods: submissions not sent yet"), total.due_ahead, scope,
                                  TODO, matrix,
                                  _("Next due on %(date)s (%(n)d days left).") % {"date": _day(total.next_due), "n": days}
                                  if total.next_due else "", None))
    flags = submission_selectors.similarity_flags(user=reads.user, district=district).count()
    if flags:
        section.items.append(Item("flags", _("Copied narratives to look at"), flags, scope, TODO,
                                  reverse("similarity_list") + "?" + urlencode({"district": district.pk}), "", None))
    for item in _coverage_items(reads, mine, SCOPE_DISTRICT, BEHIND_SCHOOLS):
        item.key = "behind"
        item.label = _("Falling behind: %(label)s") % {"label": item.label}
        section.items.append(item)
    section.note = reads.semester_note(reads.semester(district.pk))
    return section


# ---------------------------------------------------------------- the whole list
def todo_for(user, today: dt.date | None = None) -> Today:
    """The user's start page: one section per role held, most urgent first. Runs inside the
    request's tenant scope; every school read is one the user's role reaches."""
    today = today or timezone.localdate()
    reads = _Reads(user, today)
    memberships = tenancy_selectors.memberships_of(user)
    visible = list(tenancy_selectors.schools_visible_to(user).order_by("path"))
    visible_ids = {s.pk for s in visible}
    perms = tenancy_selectors.permissions_by_school(user)
    # Reporting counts for every school whose reporting the user takes part in, in one query.
    reporting_ids = [sid for sid in submission_selectors.reporting_school_ids(user) if sid in visible_ids]
    work = submission_selectors.reporting_work(reporting_ids, today) if reporting_ids else {}
    sections: list[Section] = []
    for m in memberships:
        if m.school_id is not None and m.school_id not in visible_ids:
            continue
        if m.role == Role.TEACHER and "record_contacts" in perms.get(m.school_id, set()):
            sections.append(_teacher(reads, m.school))
        elif m.role == Role.CLERK and m.school_id in work:
            sections.append(_clerk(reads, m.school, work[m.school_id]))
        elif m.role == Role.SCHOOL_ADMIN and m.school_id in work:
            sections.append(_school_admin(reads, m.school, work[m.school_id]))
        elif m.role == Role.TOWNSHIP_ADMIN:
            sections.append(_township(reads, m.school, work))
        elif m.role in (Role.BUREAU_ADMIN, Role.BUREAU_INSPECTOR) and m.district_id is not None:
            sections.append(_bureau(reads, m, visible, work))
    for s in sections:
        s.items.sort(key=lambda i: (i.urgency, -i.count))
    sections.sort(key=lambda s: (s.urgency, ROLE_ORDER.index(s.role)))
    return Today(day=today, sections=sections, school_ids=sorted(visible_ids))
