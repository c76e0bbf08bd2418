"""The half-year work summary (DOCX): the school's narrative under the seed's seven headings."""
from __future__ import annotations

import re
from pathlib import Path

from django.utils.translation import gettext as _

from ..models import Submission
from ..narrative import SECTION_KEYS
from .figures import _LEADING_NUMERAL, DOCX_HEADINGS, Figures
from .workbook import _kind_labels


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
