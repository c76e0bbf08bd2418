"""The package preview: what a compiled package says, readable on the page (school and bureau)
without downloading the XLSX or the DOCX.

A selector: reads only, in the request's tenant scope. The figures are the ones stored on the
version at compile time (PackageVersion.figures), so the page shows exactly what the files hold;
the activity rows are read with the activity sheet's own query, and the work-summary text is
built with the DOCX writer's own headings and filled sentences.
"""
from __future__ import annotations

from dataclasses import fields

from django.utils.translation import gettext as _

from schools.models import Activity, CareContact

from . import compile as compile_mod
from .models import Narrative, PackageVersion, ReportKind, Submission
from .narrative import SECTION_KEYS

ACTIVITY_ROWS = 20


def preview_version(versions: list[PackageVersion]) -> PackageVersion | None:
    """The current version, else the latest one that finished (versions are newest first)."""
    done = [v for v in versions if v.status == PackageVersion.Status.DONE and v.figures]
    return next((v for v in done if v.is_current), done[0] if done else None)


def _percent(part: int, whole: int) -> int:
    return round(100 * part / whole) if whole else 0


def _figures(stored: dict) -> compile_mod.Figures:
    # Tolerate figures stored by an older or newer compile (a key added or dropped since).
    known = {f.name for f in fields(compile_mod.Figures)}
    return compile_mod.Figures(**{k: v for k, v in stored.items() if k in known})


def package_preview(*, submission: Submission, version: PackageVersion | None,
                    narrative: Narrative | None = None, rows: int = ACTIVITY_ROWS) -> dict | None:
    """Everything the preview partial shows, or None when no compiled version exists."""
    if version is None or not version.figures:
        return None
    fig = _figures(version.figures)
    kinds = [
        {"kind": k, "label": label, "contacts": fig.contacts.get(k, 0),
         "done": fig.coverage.get(k, {}).get("done", 0), "percent": fig.coverage.get(k, {}).get("percent", 0)}
        for k, label in CareContact.Kind.choices
    ]
    key_figures = [
        ("children", _("Children (active)"), fig.children),
        ("competitions", _("Competitions"), fig.competitions),
        ("theme_activities", _("Theme activities"), fig.theme_activities),
        ("meetings", _("Training meetings"), fig.meetings),
        ("meetings_semester", _("Training meetings this semester"), fig.meetings_semester),
        ("tutoring_sessions", _("Tutoring sessions"), fig.tutoring_sessions),
        ("tutoring_minutes", _("Tutoring minutes"), fig.tutoring_minutes),
        ("study_pairs", _("Study pairs"), fig.study_pairs),
        ("submissions_sent_since_semester", _("Submissions sent since the semester began"),
         fig.submissions_sent_since_semester),
    ]
    labels = dict(Activity.Kind.choices)
    activity_list = [
        {"date": day, "kind": labels.get(kind, kind), "title": title, "participants": participants,
         "photos": photos, "evidenced": evidenced, "refs": compile_mod.evidence_refs(shas)}
        for day, kind, title, participants, photos, evidenced, shas in compile_mod.activity_rows(submission)[:rows]
    ]
    return {
        "version": version, "figures": fig, "kinds": kinds, "key_figures": key_figures,
        "evidenced_percent": _percent(fig.activities_evidenced, fig.activities),
        "activity_list": activity_list, "activity_more": max(fig.activities - len(activity_list), 0),
        "summary": _summary_sections(fig, narrative) if submission.report_type.kind == ReportKind.HALF_YEAR_SUMMARY else None,
    }


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split("\n") if p.strip()]


def _summary_sections(fig: compile_mod.Figures, narrative: Narrative | None) -> dict:
    """The DOCX work summary as text: each heading, the sentence filled from the figures, then
    the school's own paragraphs (as compile.write_docx lays them out)."""
    sections = dict(narrative.sections) if narrative is not None else {}
    filled = compile_mod.section_figures(fig)
    body = [
        {"heading": heading, "filled": filled[key],
         "paragraphs": _paragraphs(compile_mod._strip_heading(sections.get(key, ""), heading))}
        for key in SECTION_KEYS if (heading := compile_mod.DOCX_HEADINGS.get(key))
    ]
    return {"intro": _paragraphs(sections.get("intro", "")), "sections": body,
            "closing": _paragraphs(sections.get("closing", ""))}
