"""The compile job: a submission's package (XLSX workbook + DOCX work summary) from the period's
records of that school.

Idempotent by construction, so acks_late redelivery is safe:
- the job works on ONE PackageVersion row, reserved before it was enqueued (services
  .submission_compile_request); a redelivered message finds the same row and resumes it;
- the files are built in a private temporary folder, then stored under the version's
  deterministic storage key, replacing what an earlier run stored there (config.storage
  .storage_replace): a rerun overwrites, never adds. Only the storage API is used, so packages
  live wherever the default storage does (filesystem or S3);
- completion is compare-and-set (services.package_version_complete): a second run is a no-op.

Every read runs in an explicit tenant scope of the submission's school. Each step is its own
short scope (transaction), so progress is committed and visible to the UI while the job runs.
"""
from __future__ import annotations

import logging
import re
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.files.storage import default_storage
from django.db.models import Count, OuterRef, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.storage import storage_replace
from documents.workbook import safe_workbook
from schools.models import (
    Activity,
    ActivitySite,
    CareContact,
    Child,
    Equipment,
    Evidence,
    LeadershipMember,
    RuleDocumentVersion,
    Semester,
    StaffProfile,
    StudyPair,
    TrainingMeeting,
    TutoringSession,
)
from tenancy.scoping import tenant_scope

from . import services
from .models import SENT_STATUSES, Narrative, PackageVersion, ReportKind, Submission
from .narrative import SECTION_KEYS

log = logging.getLogger(__name__)

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


def mask_child(name: str | None) -> str:
    """张小明 -> 张**: a package never carries a child's full name."""
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


# ---------------------------------------------------------------- figures
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


# ---------------------------------------------------------------- XLSX
def _kind_labels() -> dict:
    return {k: str(lbl) for k, lbl in CareContact.Kind.choices}


def write_summary_sheet(workbook, submission: Submission, figures: Figures, version: int) -> None:
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(_("Summary"))
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 3, 16)
    rows = [
        (_("School"), submission.school.name),
        (_("Report"), submission.report_type.name),
        (_("Period"), f"{figures.period_start} – {figures.period_end}"),
        (_("Semester"), figures.semester),
        (_("Package version"), version),
        None,
        (_("Children (active)"), figures.children),
        (_("Activities held"), figures.activities),
        (_("Activities with photos and a text record"), figures.activities_evidenced),
        (_("Competitions"), figures.competitions),
        (_("Training meetings"), figures.meetings),
        (_("Tutoring sessions"), figures.tutoring_sessions),
        (_("Tutoring minutes"), figures.tutoring_minutes),
        (_("Study pairs"), figures.study_pairs),
        (_("Submissions sent since the semester began"), figures.submissions_sent_since_semester),
        None,
    ]
    r = 0
    for row in rows:
        if row is not None:
            sheet.write(r, 0, row[0], bold)
            sheet.write(r, 1, row[1])
        r += 1
    # Rows strictly in order: constant_memory mode flushes a row once the next one starts.
    sheet.write_row(r, 0, [_("Contact kind"), _("Contacts in the period"), _("Children covered this semester"),
                           _("Coverage %")], bold)
    r += 1
    for kind, label in _kind_labels().items():
        cov = figures.coverage.get(kind, {})
        sheet.write_row(r, 0, [label, figures.contacts.get(kind, 0), cov.get("done", 0), cov.get("percent", 0)])
        r += 1


def write_activities_sheet(workbook, submission: Submission) -> int:
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(_("Activities"))
    sheet.set_column(0, 0, 12)
    sheet.set_column(2, 2, 30)
    sheet.set_column(6, 6, 40)
    sheet.write_row(0, 0, [_("Date"), _("Kind"), _("Title"), _("Participants"), _("Photos"), _("Evidenced"),
                           _("Evidence references")], bold)
    kinds = dict(Activity.Kind.choices)
    r = 0
    for day, kind, title, participants, photos, evidenced, shas in activity_rows(submission).iterator(chunk_size=CHUNK):
        r += 1
        sheet.write_row(r, 0, [day.isoformat(), str(kinds.get(kind, kind)), title, participants, photos,
                               _("yes") if evidenced else _("no"), evidence_refs(shas)])
    return r


def activity_rows(submission: Submission):
    """The period's activities as (date, kind, title, participants, photos, evidenced, evidence sha256s),
    in sheet order: the activity sheet and the page preview read the same rows."""
    period = submission.period
    refs = ArraySubquery(Evidence.objects.filter(activity=OuterRef("pk")).order_by("id").values("sha256"))
    return (Activity.objects.filter(school=submission.school, date__range=(period.start_on, period.end_on))
            .with_evidence().annotate(refs=refs, n_participants=Count("participants", distinct=True))
            .order_by("date", "id")
            .values_list("date", "kind", "title", "n_participants", "photo_count", "evidenced", "refs"))


def evidence_refs(shas) -> str:
    return " ".join(f"EV-{s[:12]}" for s in shas or [])


def write_contacts_sheet(workbook, submission: Submission) -> int:
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(_("Contact log"))
    sheet.set_column(0, 4, 14)
    sheet.write_row(0, 0, [_("Date"), _("Kind"), _("Class"), _("Child (masked)"), _("Made by")], bold)
    period = submission.period
    labels = _kind_labels()
    qs = (CareContact.objects.filter(school=submission.school, happened_on__range=(period.start_on, period.end_on))
          .order_by("happened_on", "id")
          .values_list("happened_on", "kind", "child__class_name", "child__name", "made_by__display_name",
                       "made_by__username"))
    write = sheet.write_string  # every cell is text: skip write()'s type dispatch (the large sheet)
    r = 0
    for day, kind, class_name, child_name, made_by, username in qs.iterator(chunk_size=CHUNK):
        r += 1
        write(r, 0, day.isoformat())
        write(r, 1, str(labels.get(kind, kind)))
        write(r, 2, class_name or "")
        write(r, 3, mask_child(child_name))
        write(r, 4, made_by or username or "")
    return r


# ---------------------------------------------------------------- DOCX
def _norm(s: str) -> str:
    return re.sub(r"[，,。.、\s]", "", s)


def _strip_heading(text: str, heading: str) -> str:
    """The school's paragraph often repeats the heading (a pasted summary); the document prints
    the heading itself, so drop a leading copy of it (its punctuation may differ: ，vs ,)."""
    body = _LEADING_NUMERAL.sub("", text, count=1)
    if body == text:
        return text
    title = _norm(_LEADING_NUMERAL.sub("", heading))
    if not _norm(body[: len(title) * 2]).startswith(title):
        return body
    i = seen = 0
    while i < len(body) and seen < len(title):
        if _norm(body[i]):
            seen += 1
        i += 1
    return body[i:].lstrip("，,。. ")


def section_figures(figures: Figures) -> dict[str, str]:
    """The sentences the compile fills in from the records, by section."""
    cov = figures.coverage
    labels = _kind_labels()
    coverage = _("; ").join(
        _("%(kind)s %(done)d of %(total)d (%(pct)d%%)")
        % {"kind": labels[k], "done": cov.get(k, {}).get("done", 0), "total": figures.children,
           "pct": cov.get(k, {}).get("percent", 0)}
        for k in labels
    )
    return {
        "s1": _("The leadership group has %(n)d members.") % {"n": figures.leadership_members},
        "s2": _("%(sites)d activity site(s) and %(items)d items of equipment are on record.")
              % {"sites": figures.sites, "items": figures.equipment_items},
        "s3": _("%(n)d of the nine rule documents are on record.") % {"n": figures.rule_documents},
        "s4": _("%(n)d proxy-parent training meeting(s) were held in this period (%(sem)d this semester); "
                "%(p)d proxy parents.") % {"n": figures.meetings, "sem": figures.meetings_semester,
                                             "p": figures.proxy_parents},
        "s5": _("%(n)d activities were held, %(c)d of them competitions; %(e)d have photos and a text record.")
              % {"n": figures.activities, "c": figures.competitions, "e": figures.activities_evidenced},
        "s6": _("%(children)d left-behind children. Four contacts this semester: %(coverage)s. "
                "%(pairs)d study pairs, %(sessions)d tutoring sessions (%(minutes)d minutes).")
              % {"children": figures.children, "coverage": coverage, "pairs": figures.study_pairs,
                 "sessions": figures.tutoring_sessions, "minutes": figures.tutoring_minutes},
        "s7": _("%(n)d submissions have been sent to the bureau since the semester began.")
              % {"n": figures.submissions_sent_since_semester},
    }


def figure_rows(figures: Figures) -> list[tuple[str, int]]:
    """The key-figures table of the DOCX (label, value), also what tests compare to the database."""
    labels = _kind_labels()
    rows = [
        (_("Children (active)"), figures.children),
        (_("Training meetings"), figures.meetings),
        (_("Submissions sent since the semester began"), figures.submissions_sent_since_semester),
        (_("Activities held"), figures.activities),
        (_("Competitions"), figures.competitions),
        (_("Activities with photos and a text record"), figures.activities_evidenced),
    ]
    rows += [(_("Coverage %%: %(kind)s") % {"kind": labels[k]}, figures.coverage.get(k, {}).get("percent", 0))
             for k in labels]
    return rows


def write_docx(path: Path, submission: Submission, figures: Figures, sections: dict) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document()
    title = doc.add_heading(f"{submission.school.name} {submission.report_type.name}", level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"{figures.period_start} – {figures.period_end}")
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in figure_rows(figures):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = str(label), str(value)
    if sections.get("intro"):
        for para in sections["intro"].split("\n"):
            if para.strip():
                doc.add_paragraph(para.strip())
    filled = section_figures(figures)
    for key in SECTION_KEYS:
        if key not in DOCX_HEADINGS:
            continue
        doc.add_heading(DOCX_HEADINGS[key], level=1)
        doc.add_paragraph(filled[key]).style = "Intense Quote"
        text = _strip_heading(sections.get(key, ""), DOCX_HEADINGS[key])
        for para in text.split("\n"):
            if para.strip():
                doc.add_paragraph(para.strip())
    if sections.get("closing"):
        doc.add_paragraph(sections["closing"].strip())
    doc.save(str(path))


# ---------------------------------------------------------------- storage
def _publish(local: Path, name: str) -> None:
    """Store a finished local file under its storage name, replacing an earlier run's copy. The
    version is marked done only afterwards, so no reader opens a half-replaced file."""
    with local.open("rb") as fh:
        storage_replace(name, fh)


# ---------------------------------------------------------------- the job
def _step_delay() -> None:
    delay = float(getattr(settings, "SUBMISSIONS_COMPILE_STEP_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)


def _progress(school_id: int, version: PackageVersion, value: int, note: str, started: bool = False) -> bool:
    with tenant_scope([school_id]):
        return services.package_version_progress(version=version, progress=value, note=note, started=started)


def compile_package(*, school_id: int, version_id: int, now: datetime | None = None) -> PackageVersion | None:
    """Build the files of one reserved package version and complete it. Safe to run any number
    of times (and to resume after a crash); returns the version, or None if it does not exist."""
    with translation.override(settings.LANGUAGE_CODE):
        return _compile(school_id, version_id, now)


def _compile(school_id: int, version_id: int, now: datetime | None) -> PackageVersion | None:
    with tenant_scope([school_id]):
        version = (PackageVersion.objects.filter(pk=version_id, school_id=school_id)
                   .select_related("submission__report_type", "submission__period", "submission__school").first())
        if version is None or version.is_finished:
            return version
        submission = version.submission
    if not _progress(school_id, version, 5, _("Reading the records"), started=True):
        return _reload(school_id, version_id)
    _step_delay()
    with tenant_scope([school_id]):
        figures = gather_figures(submission, now=now)
        narrative = Narrative.objects.filter(submission=submission).first()
        sections = dict(narrative.sections) if narrative else {}
    key = version.storage_key
    with tempfile.TemporaryDirectory(prefix="compile-") as tmp:
        return _build(school_id, version_id, version, submission, figures, sections, key, Path(tmp), now)


def _build(school_id: int, version_id: int, version: PackageVersion, submission: Submission, figures: Figures,
           sections: dict, key: str, folder: Path, now: datetime | None) -> PackageVersion:
    """Write the files into the local temporary `folder`, store them under `key`, complete."""
    files = {"xlsx": f"{key}/{XLSX_NAME}"}
    xlsx_local = folder / XLSX_NAME
    workbook = safe_workbook(str(xlsx_local), constant_memory=True)
    try:
        _progress(school_id, version, 15, _("Summary sheet"))
        with tenant_scope([school_id]):
            write_summary_sheet(workbook, submission, figures, version.version)
        _step_delay()
        _progress(school_id, version, 30, _("Activity list"))
        with tenant_scope([school_id]):
            write_activities_sheet(workbook, submission)
        _step_delay()
        _progress(school_id, version, 50, _("Contact log"))
        with tenant_scope([school_id]):
            write_contacts_sheet(workbook, submission)
        _step_delay()
    finally:
        workbook.close()
    _publish(xlsx_local, files["xlsx"])
    if submission.report_type.kind == ReportKind.HALF_YEAR_SUMMARY:
        _progress(school_id, version, 75, _("Work summary"))
        docx_local = folder / DOCX_NAME
        with tenant_scope([school_id]):
            write_docx(docx_local, submission, figures, sections)
        files["docx"] = f"{key}/{DOCX_NAME}"
        _publish(docx_local, files["docx"])
        _step_delay()
    _progress(school_id, version, 95, _("Finishing"))
    with tenant_scope([school_id]):
        version = PackageVersion.objects.get(pk=version_id)
        return services.package_version_complete(version=version, files=files, figures=figures.as_dict(), now=now)


def _reload(school_id: int, version_id: int) -> PackageVersion | None:
    with tenant_scope([school_id]):
        return PackageVersion.objects.filter(pk=version_id).first()


def package_file_name(version: PackageVersion, kind: str) -> str | None:
    """The storage name of a done version's file ("xlsx" or "docx") if it is in storage, or None.
    Read it with default_storage.open()."""
    name = (version.files or {}).get(kind)
    if not name or version.status != PackageVersion.Status.DONE:
        return None
    return name if default_storage.exists(name) else None
