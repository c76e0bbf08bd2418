"""The package workbook: summary, activities and contact log sheets."""
from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Count, OuterRef
from django.utils.translation import gettext as _

from schools.masking import mask_child_name as mask_child
from schools.models import (
    Activity,
    CareContact,
    Evidence,
)

from ..models import Submission
from .figures import CHUNK, Figures


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
