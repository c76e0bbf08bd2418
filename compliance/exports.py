"""The compliance XLSX export (xlsxwriter): summary + native chart, schools x items, gaps.

run_export(job_id) is what the Celery task calls. It is idempotent: it claims the job
(jobs.models.Job.claim, exclusive), and writes to a deterministic storage key per job. A
redelivery of the claiming message (its worker died) takes the job over and overwrites the same
file; any other message finds the job taken or finished.
"""
from __future__ import annotations

import io
import logging
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _

from config.storage import storage_replace
from documents.workbook import safe_workbook
from notices.models import Kind
from notices.services import notify
from schools.masking import mask_child_name as mask_child
from tenancy import services as tenancy_services
from tenancy.replica import replica_reads
from tenancy.scoping import district_id_of_row, district_scope, tenant_scope

from . import audit
from . import metrics as metric_registry
from .models import Assessment, ComplianceExport
from .scoring import assessment_scores

log = logging.getLogger(__name__)


def export_folder(assessment_id: int) -> str:
    """Where an assessment's export workbooks live (a download refuses a stored name outside it)."""
    return f"compliance/exports/assessment-{assessment_id}"


def storage_key(job: ComplianceExport) -> str:
    return f"{export_folder(job.assessment_id)}/export-{job.id}.xlsx"




def _step_delay() -> None:
    # Test-only (COMPLIANCE_EXPORT_STEP_DELAY): a window to kill the worker mid-export.
    delay = float(getattr(settings, "COMPLIANCE_EXPORT_STEP_DELAY", 0) or 0)
    if delay:
        time.sleep(delay)


def build_workbook(scores: dict, gaps: list[dict], *, assessment: Assessment, on_progress=lambda p: None) -> bytes:
    buf = io.BytesIO()
    wb = safe_workbook(buf, in_memory=True)
    bold = wb.add_format({"bold": True})
    num = wb.add_format({"num_format": "0.00"})
    items = scores["items"]
    order = scores["order"]
    rows = [scores["schools"][sid] for sid in order]

    # Summary: the ranking and a native bar chart of the scores.
    ws = wb.add_worksheet("Summary")
    ws.write(0, 0, f"{assessment.title} · {assessment.semester_label}", bold)
    ws.write(1, 0, f"{assessment.checklist_version.title_zh} v{assessment.checklist_version.number}")
    ws.write(2, 0, f"computed {timezone.localtime(scores['computed_at']):%Y-%m-%d %H:%M}")
    header = ["Rank", "School", "Code", "Score", "Earned", "Applicable points", "Points lost", "Pending items"]
    ws.write_row(4, 0, header, bold)
    for n, row in enumerate(rows):
        r = 5 + n
        ws.write(r, 0, row["rank"] if row["rank"] is not None else "")
        ws.write(r, 1, row["name"])
        ws.write(r, 2, row["code"])
        if row["score"] is not None:
            ws.write_number(r, 3, float(row["score"]), num)
        else:
            ws.write_blank(r, 3, None)
        ws.write_number(r, 4, float(row["earned"]), num)
        ws.write_number(r, 5, float(row["applicable_points"]), num)
        ws.write_number(r, 6, float(row["lost"]), num)
        ws.write_number(r, 7, row["pending"])
    ws.set_column(1, 1, 24)
    if rows:
        chart = wb.add_chart({"type": "bar"})
        last = 5 + len(rows) - 1
        chart.add_series({"name": "Score", "categories": ["Summary", 5, 1, last, 1],
                          "values": ["Summary", 5, 3, last, 3]})
        chart.set_title({"name": "Compliance score"})
        chart.set_legend({"none": True})
        chart.set_y_axis({"reverse": True})
        ws.insert_chart(4, 10, chart, {"y_scale": max(1, len(rows) / 12)})
    on_progress(40)

    # Schools x items.
    ws = wb.add_worksheet("Items")
    ws.write_row(0, 0, ["School", "Code", "Score"] + [it["code"] for it in items], bold)
    ws.write_row(1, 0, ["", "", "points"] + [float(it["points"]) for it in items])
    ws.write_row(2, 0, ["", "", "title"] + [it["title_zh"] for it in items])
    for n, row in enumerate(rows):
        r = 3 + n
        ws.write(r, 0, row["name"])
        ws.write(r, 1, row["code"])
        if row["score"] is not None:
            ws.write_number(r, 2, float(row["score"]), num)
        for c, it in enumerate(items, start=3):
            cell = row["items"][it["code"]]
            if cell["score"] is None:
                ws.write_string(r, c, "n/a" if cell["status"] == "not_applicable" else "pending")
            else:
                ws.write_number(r, c, float(cell["score"]), num)
    on_progress(70)

    # Gaps: what metrics can name now; children masked.
    ws = wb.add_worksheet("Gaps")
    ws.write_row(0, 0, ["School", "Item", "Metric", "Gap", "Child"], bold)
    names = {sid: scores["schools"][sid]["name"] for sid in scores["schools"]}
    for n, gap in enumerate(gaps, start=1):
        ws.write_row(n, 0, [names.get(gap["school_id"], gap["school_id"]), gap.get("item", ""), gap.get("metric", ""),
                            gap.get("detail", ""), mask_child(gap.get("child"))])
    wb.close()
    return buf.getvalue()


def collect_gaps(assessment: Assessment, scores: dict) -> list[dict]:
    """Each automatic item's metric gaps, one set-based call per metric that exposes them."""
    ids = list(scores["schools"])
    out: list[dict] = []
    with tenant_scope(ids):
        for it in scores["items"]:
            metric = metric_registry.get_metric(it["metric"]) if it["metric"] else None
            if metric is None or metric.gaps is None or not metric.applies_to(assessment.semester):
                continue
            for gap in metric.gaps(ids, assessment.semester) or []:
                out.append({**gap, "item": it["code"], "metric": it["metric"]})
    return out


def run_export(job_id: int, task_id: str = "") -> str:
    """Produce the workbook for one job. Returns the final status.

    Each step is its own short transaction in the district's scope (the job row is district-owned),
    so the claim and the progress are visible to readers while the task runs."""
    district_id = district_id_of_row(ComplianceExport, job_id)
    if district_id is None:
        log.info("compliance export %s not found", job_id)
        return "missing"

    def in_district():
        return district_scope(district_id)

    with in_district():
        claimed = ComplianceExport.claim(job_id, task_id)
    if not claimed:
        with in_district():
            status = ComplianceExport.objects.filter(pk=job_id).values_list("status", flat=True).first()
        log.info("compliance export %s not claimed (status %s)", job_id, status)
        return status or "missing"

    def progress(value: int) -> None:
        with in_district():
            ComplianceExport.report_progress(job_id, value)

    try:
        with in_district():
            job = ComplianceExport.objects.select_related("assessment__checklist_version", "requested_by").get(
                pk=job_id)
        assessment = job.assessment
        # Read in the district's scope, so the replica must hold its schools' latest writes.
        with in_district(), replica_reads(reason="compliance export scores"):
            scores = assessment_scores(assessment, use_cache=False)
        progress(20)
        _step_delay()
        with in_district(), replica_reads(reason="compliance export gaps"):
            gaps = collect_gaps(assessment, scores)
        content = build_workbook(scores, gaps, assessment=assessment,
                                 on_progress=lambda p: (progress(20 + p * 7 // 10), _step_delay()))
        key = storage_key(job)
        # Same key for a redelivered job: replace, never "_abc123" copies (any storage backend).
        saved = storage_replace(key, ContentFile(content))
        with in_district():
            tenancy_services.access_log_record_many(
                user=job.requested_by, school_ids=list(scores["schools"]), action="export",
                object_type=audit.EXPORT_TYPE, object_id=job.id,
                detail={"assessment": assessment.id, "scheduled": job.scheduled})
            if ComplianceExport.finish(job_id, task_id=task_id, file=saved) and job.requested_by is not None:
                notify(event_key=f"compliance-export:{job_id}:done", kind=Kind.EXPORT_READY, district_id=district_id,
                       users=[job.requested_by], link=f"/compliance/assessments/{assessment.id}/exports/",
                       text=_("The compliance export of %(assessment)s is ready.") % {"assessment": assessment.title})
        return ComplianceExport.Status.DONE
    except Exception as exc:  # recorded on the job so the bureau sees why; re-raised for the worker log
        log.exception("compliance export %s failed", job_id)
        error = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, SoftTimeLimitExceeded):
            error = _("The export took too long and was stopped.")
        with in_district():
            ComplianceExport.fail(job_id, error, task_id=task_id)
        raise
