"""Spreadsheet formula injection, end to end: every text a school user (or the bureau) can set that
reaches a workbook is poisoned, every kind of workbook the platform writes is built through its
real path (the compile, compliance and district exports by a real Celery worker; the children's
export and the import template through the pages), and each XLSX is unzipped:

- no <f> cell may exist unless it is one of the platform's own formulas (PLATFORM_FORMULAS: the
  platform writes none today; a write_formula() added later goes there);
- every poisoned value that reaches a sheet reads back (openpyxl) as the text the user typed, with
  Excel's quote prefix when it starts with a formula trigger: that is what a user sees.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from html import unescape as html_unescape

import openpyxl
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl.utils.escape import unescape as xlsx_unescape

from compliance import services as compliance_services
from compliance.models import Assessment, ComplianceExport
from schools import services as ss
from schools.models import Child, Semester
from submissions import services as subs
from submissions.models import DistrictExport, PackageVersion, PeriodType, ReportKind, ReportType, Submission
from submissions.narrative import SECTION_KEYS
from tenancy import services as ts
from tenancy.roles import Role
from tenancy.scoping import district_scope, tenant_scope
from tests.support.celery_worker import celery_worker
from tests.support.waiting import wait_until

# The platform's own formulas (worksheet.write_formula), by their text without the leading "=".
PLATFORM_FORMULAS: set[str] = set()

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# xlsxwriter copies a string shaped like its rich-text markup into the sheet XML unescaped; in
# constant_memory mode this one would close the cell and open a formula cell of its own.
MARKUP = '<r><t>{t}</t></r></is></c><c><f>HYPERLINK("http://evil.example/{t}","click")</f></c><c><is><r><t>.</t></r>'
MARKUP_SHORT = "<r></r></is></c><c><f>1+{t}</f></c><c><is><r></r>"

# field -> the poisoned text it gets. Every OWASP trigger is used, and the markup where it fits.
POISON = {
    # the bureau's texts
    "school.name": '=HYPERLINK("http://evil.example/school","click")',
    "semester.name": "=cmd|' /C calc'!A0",
    "report_type.name": MARKUP.format(t="report"),
    "assessment.title": "@SUM(1)",
    # the school's staff
    "staff.display_name": MARKUP_SHORT.format(t="2"),
    "staff.title": "-2+3",
    # children (the archive)
    "child.name": "=1+1",
    "child.class_name": '=HYPERLINK("//e.x/c","c")',
    "child.parents_work_place": MARKUP.format(t="work"),
    "child.guardian_name": "+1+1",
    "child.guardian_relation": "-2+3",
    "child.guardian_phone": "@SUM(1)",
    "child.second_contact_name": "\t=1",
    "child.second_contact_phone": "\r=1",
    "child.home_village": "=cmd|' /C calc'!A0",
    "child.health_notes": '=HYPERLINK("http://evil.example/health","click")',
    "child.wellbeing_notes": "@SUM(2)",
    "child.consent_method": "+3+3",
    "child.status_note": "=4+4",
    # activities and their records
    "activity.title": '=HYPERLINK("http://evil.example/x","click")',
    "activity2.title": "=cmd|' /C calc'!A0",
    "activity3.title": MARKUP.format(t="activity"),
    "activity.description": "-5+5",
    "activity.text_record": "=6+6",
    "participant.award": "@SUM(3)",
    "evidence.caption": "=7+7",
    "contact.notes": "+8+8",
    "work_record.text": "=9+9",
    "theme.theme": "-1+9",
    # the home's setup
    "site.room": "=10+10",
    "site.opening_hours": "@SUM(4)",
    "site.notes": "\t=11",
    "equipment.description": "=12+12",
    "leader.person_name": "+13+13",
    "leader.title": "-14+14",
    "rule.title": "=15+15",
    "meeting.topic": "\r=16",
    "meeting.minutes": "@SUM(5)",
    "study_pair.subject": "=17+17",
    "tutoring.notes": "+18+18",
    # the work summary (narrative)
    **{f"narrative.{key}": f"=SUM({n})" for n, key in enumerate(SECTION_KEYS, start=19)},
}
assert all(v.startswith(TRIGGERS) or v.startswith("<r>") for v in POISON.values())

PHONE_FIELDS = ("guardian_phone", "second_contact_phone")
CHILD_FIELDS = ["name", "class_name", "parents_work_place", "guardian_name", "guardian_relation", "guardian_phone",
                "second_contact_name", "second_contact_phone", "home_village", "health_notes", "wellbeing_notes",
                "consent_method"]
MASKED_EXPORT = ["name", "class_name", "parents_work_place", "guardian_name", "guardian_relation",
                 "second_contact_name"]  # the masked export masks the phones and leaves out village and notes


def _masked(name: str) -> str:
    return name[0] + "*" * max(len(name) - 1, 1)


# workbook kind -> the texts that must read back from it as cells (exact) or inside a cell (part of
# a sentence the platform writes, e.g. a compliance gap "<class>: no home visit this semester").
EXPECTED = {
    "compiled package": {
        "exact": ["school.name", "report_type.name", "semester.name", "activity.title", "activity2.title",
                  "activity3.title", "child.class_name", "staff.display_name"],
        "masked_child": True,
    },
    "district export": {"exact": ["school.name", "report_type.name"]},
    "compliance export": {"exact": ["school.name"], "starts": ["child.class_name"], "contains": ["activity2.title"],
                          "masked_child": True},
    "children export (masked)": {"exact": [f"child.{f}" for f in MASKED_EXPORT]},
    "children export (full)": {"exact": [f"child.{f}" for f in CHILD_FIELDS]},
    "import template": {"exact": []},
    "ranking export": {"exact": ["school.name"], "starts": ["assessment.title"]},
    "reporting matrix export": {"exact": ["school.name"], "contains": ["report_type.name"]},
}


def _poison_everything(tree, today):
    """Every text field, set through the services a user's form or API call uses."""
    p = POISON
    ts.school_update(school=tree.gupei, actor=tree.bureau_admin, name=p["school.name"])
    semester = ss.semester_create(actor=None, district=tree.district, name=p["semester.name"],
                                  start=today - dt.timedelta(days=60), end=today + dt.timedelta(days=60))
    membership = ts.staff_member_add(actor=tree.gupei_admin, school=tree.gupei, username="poisoned_teacher",
                                     display_name=p["staff.display_name"], role=Role.TEACHER,
                                     password="Xq7#plw-2026-teach")
    teacher = membership.user
    day = today - dt.timedelta(days=5)
    g = tree.gupei
    with tenant_scope([g.id]):
        ss.staff_profile_set(actor=tree.gupei_admin, school=g, user=teacher, is_proxy_parent=True,
                             title=p["staff.title"])
        child = ss.child_create(actor=tree.gupei_admin, school=g, gender="female", birth_date=dt.date(2016, 5, 1),
                                grade=4, left_behind_kind="both", consent_date=today - dt.timedelta(days=50),
                                status_since=today - dt.timedelta(days=50),
                                **{f: p[f"child.{f}"] for f in CHILD_FIELDS if f not in PHONE_FIELDS})
        # The phone rule refuses such text today; rows from before it (or from a restored backup)
        # may still hold it, so it is written past the service.
        Child.objects.filter(pk=child.pk).update(**{f: p[f"child.{f}"] for f in PHONE_FIELDS})
        child.refresh_from_db()
        other = ss.child_create(actor=tree.gupei_admin, school=g, name="李四", gender="male",
                                birth_date=dt.date(2016, 6, 1), grade=4, class_name="四(1)班", left_behind_kind="both",
                                status_since=today - dt.timedelta(days=50))
        ss.child_status_set(actor=tree.gupei_admin, child=other, status=Child.Status.TRANSFERRED,
                            since=today - dt.timedelta(days=3), note=p["child.status_note"])
        ss.proxy_assignment_create(actor=tree.gupei_admin, child=child, proxy_parent=teacher,
                                   starts_on=today - dt.timedelta(days=40))
        activity = ss.activity_create(actor=tree.gupei_clerk, school=g, date=day, kind="theme_activity",
                                      title=p["activity.title"], description=p["activity.description"],
                                      text_record=p["activity.text_record"])
        ss.activity_create(actor=tree.gupei_clerk, school=g, date=day, kind="theme_activity", title=p["activity2.title"])
        ss.activity_create(actor=tree.gupei_clerk, school=g, date=day, kind="competition", title=p["activity3.title"],
                           participants=[(child, 1, p["participant.award"])])
        from tests.support.images import jpeg_bytes

        ss.evidence_upload(actor=tree.gupei_clerk, school=g, attach_to=activity, caption=p["evidence.caption"],
                           uploaded_file=SimpleUploadedFile("p.jpg", jpeg_bytes(7)))
        ss.care_contact_record(actor=teacher, child_id=child.id, kind="home_visit", happened_on=day,
                               notes=p["contact.notes"])
        ss.work_record_add(actor=teacher, school=g, date=day, text=p["work_record.text"], child=child)
        ss.theme_schedule_set(actor=tree.gupei_admin, school=g, semester=semester, weekday=1, theme=p["theme.theme"])
        ss.activity_site_create(actor=tree.gupei_clerk, school=g, room=p["site.room"], opened_on=day, area_m2=40,
                                opening_hours=p["site.opening_hours"], notes=p["site.notes"])
        ss.equipment_create(actor=tree.gupei_clerk, school=g, kind="books", description=p["equipment.description"],
                            quantity=3, acquired_on=day)
        ss.leadership_member_create(actor=tree.gupei_clerk, school=g, person_name=p["leader.person_name"],
                                    title=p["leader.title"], is_leader=True)
        ss.rule_document_version_add(actor=tree.gupei_clerk, school=g, kind="annual_plan", title=p["rule.title"],
                                     adopted_on=day, uploaded_file=SimpleUploadedFile("plan.pdf", _pdf()))
        ss.training_meeting_create(actor=tree.gupei_clerk, school=g, date=day, topic=p["meeting.topic"],
                                   minutes=p["meeting.minutes"], attendees=[teacher])
        pair = ss.study_pair_create(actor=tree.gupei_admin, school=g, teacher=teacher, child=child,
                                    starts_on=today - dt.timedelta(days=30), subject=p["study_pair.subject"])
        ss.tutoring_session_record(actor=teacher, pair=pair, date=day, minutes=30, notes=p["tutoring.notes"])
    return semester


def _pdf() -> bytes:
    from schools.demo import _pdf as demo_pdf  # the demo's minimal valid PDF

    return demo_pdf("rule")


def _workbooks_through_the_worker(tree, today, semester, tmp_path) -> dict[str, bytes]:
    """The compiled package, the district export and the compliance export, each queued by its
    service and built by a real Celery worker, read back from storage."""
    summary = subs.report_type_create(
        actor=tree.bureau_admin, district=tree.district, name=POISON["report_type.name"], code="summary",
        kind=ReportKind.HALF_YEAR_SUMMARY, period_type=PeriodType.HALF_YEAR, start_on=dt.date(today.year, 1, 1),
        end_on=dt.date(today.year, 12, 31), due_offset_days=10, timely_within_days=10, lock_after_days=30,
        schools=[tree.gupei],
    )
    subs.periods_open(today=today)
    g = tree.gupei.id
    with tenant_scope([g]):
        sub = Submission.objects.select_related("period").get(report_type=summary, school=tree.gupei,
                                                               period__start_on__lte=today, period__end_on__gte=today)
        subs.narrative_update(actor=tree.gupei_clerk, submission=sub,
                              sections={k: POISON[f"narrative.{k}"] for k in SECTION_KEYS})
    version = compliance_services.checklist_load_default(district=tree.district, actor=tree.bureau_admin)
    assessment = compliance_services.assessment_create(district=tree.district, checklist_version=version,
                                                       title=POISON["assessment.title"], semester=semester,
                                                       actor=tree.bureau_admin)
    out = {}
    with celery_worker(tmp_path) as worker:
        with tenant_scope([g]):  # committed on exit: the job is enqueued for real
            reserved = subs.submission_compile_request(actor=tree.gupei_clerk, submission=sub)
        requested = subs.district_export_request(actor=tree.bureau_admin, period=sub.period)
        job = compliance_services.export_request(assessment=assessment, actor=tree.bureau_admin)

        def compiled():
            with tenant_scope([g]):
                v = PackageVersion.objects.get(pk=reserved.pk)
            return v if v.status in ("done", "failed") else None

        package = wait_until(compiled, timeout=180, interval=0.2, what="the compile", detail=worker.log)
        assert package.status == "done", f"{package.error}\n{worker.log()}"
        def exported(model, pk, field):
            with district_scope(tree.district):
                return model.objects.filter(pk=pk, **{f"{field}__in": ["done", "failed"]}).first()

        export = wait_until(lambda: exported(DistrictExport, requested.pk, "status"), timeout=180, interval=0.2,
                            what="the district export", detail=worker.log)
        assert export.status == "done", f"{export.error}\n{worker.log()}"
        done = wait_until(lambda: exported(ComplianceExport, job.pk, "status"), timeout=180, interval=0.2,
                          what="the compliance export", detail=worker.log)
        assert done.status == "done", f"{done.error}\n{worker.log()}"
    for kind, name in (("compiled package", package.files["xlsx"]), ("district export", export.file),
                       ("compliance export", done.file.name)):
        with default_storage.open(name, "rb") as fh:
            out[kind] = fh.read()
    return out


def _workbooks_through_the_pages(tree) -> dict[str, bytes]:
    client = Client()
    client.force_login(tree.gupei_admin)
    export = reverse("children_export", kwargs={"school_pk": tree.gupei.pk})
    template = reverse("children_import_template", kwargs={"school_pk": tree.gupei.pk})
    out = {"children export (masked)": client.get(export), "children export (full)": client.get(export + "?unmasked=1"),
           "import template": client.get(template)}
    # The bureau's overview tables as files: the dashboard's ranking and the reporting matrix.
    client.force_login(tree.bureau_admin)
    with district_scope(tree.gupei):
        assessment = Assessment.objects.get(title=POISON["assessment.title"])
        report_type = ReportType.objects.get(name=POISON["report_type.name"])
    out["ranking export"] = client.get(reverse("compliance_ranking_export", kwargs={"pk": assessment.pk}))
    out["reporting matrix export"] = client.get(reverse("reporting_matrix_export"), {"report_type": report_type.pk})
    for kind, response in out.items():
        assert response.status_code == 200, kind
    # Files leave through the one download door, which streams them.
    return {kind: b"".join(response.streaming_content) if response.streaming else response.content
            for kind, response in out.items()}


def user_formulas(content: bytes) -> list[str]:
    """The text of every <f> element in the workbook's sheets that is not a platform formula."""
    found = []
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode("utf-8")
                for formula in re.findall(r"<f(?:\s[^>]*)?>(.*?)</f>", xml, flags=re.S):
                    if html_unescape(formula) not in PLATFORM_FORMULAS:
                        found.append(f"{name}: {html_unescape(formula)}")
    return found


def cell_texts(content: bytes) -> list[tuple[str, bool]]:
    """(what a user sees, whether the cell carries Excel's quote prefix) for every text cell."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    cells = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    # _x000D_ is how the file spells a carriage return; Excel shows the character.
                    cells.append((xlsx_unescape(cell.value), bool(cell.quotePrefix)))
    return cells


def visibility_problems(kind: str, content: bytes) -> list[str]:
    expect = EXPECTED[kind]
    cells = cell_texts(content)
    texts = {text for text, _q in cells}
    problems = []

    def quoted_ok(text: str) -> bool:
        # A text cell starting with a trigger carries the quote prefix: it stays text when edited.
        return all(q for t, q in cells if t == text) if text.startswith(TRIGGERS) else True

    for field in expect.get("exact", []):
        value = POISON[field]
        if value not in texts:
            problems.append(f"{kind}: {field} {value!r} is not a cell's text")
        elif not quoted_ok(value):
            problems.append(f"{kind}: {field} {value!r} has no quote prefix")
    for field in expect.get("starts", []):
        if not any(t.startswith(POISON[field]) and q for t, q in cells):
            problems.append(f"{kind}: no quote-prefixed cell starts with {field} {POISON[field]!r}")
    for field in expect.get("contains", []):
        if not any(POISON[field] in t for t in texts):
            problems.append(f"{kind}: no cell contains {field} {POISON[field]!r}")
    if expect.get("masked_child"):
        masked = _masked(POISON["child.name"])
        if masked not in texts or not quoted_ok(masked):
            problems.append(f"{kind}: the masked child name {masked!r} is not a quote-prefixed cell")
    return problems


def test_no_user_text_becomes_a_formula_in_any_workbook(transactional_db, tmp_path, tree):
    today = timezone.localdate()
    semester = _poison_everything(tree, today)
    workbooks = _workbooks_through_the_worker(tree, today, semester, tmp_path)
    workbooks.update(_workbooks_through_the_pages(tree))
    assert set(workbooks) == set(EXPECTED), "every kind of workbook the platform writes"

    formulas = {kind: user_formulas(content) for kind, content in workbooks.items()}
    assert not any(formulas.values()), f"user text turned into formulas: {formulas}"
    problems = [p for kind, content in workbooks.items() for p in visibility_problems(kind, content)]
    assert not problems, "\n".join(problems)
    with tenant_scope([tree.gupei.id]):
        assert Semester.objects.filter(name=POISON["semester.name"]).exists()


def test_the_checks_catch_a_formula_and_a_lost_quote():
    """The two detectors above fail on what today's workbooks would have held."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})  # the library's defaults, not the factory
    sheet = book.add_worksheet()
    sheet.write(0, 0, POISON["school.name"])
    sheet.write_string(1, 0, POISON["child.guardian_name"])
    book.close()
    assert user_formulas(out.getvalue()) == [f"xl/worksheets/sheet1.xml: {POISON['school.name'][1:]}"]
    problems = visibility_problems("district export", out.getvalue())
    assert any("school.name" in p for p in problems)
