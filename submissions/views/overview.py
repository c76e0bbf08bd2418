"""The bureau's overview: the reporting matrix and the copied-narrative flags."""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from tenancy import tables
from tenancy.downloads import download_response
from tenancy.selectors import permissions_on_district
from tenancy.services import access_log_record

from .. import downloads, selectors
from ..models import SimilarityFlag
from ._common import _districts_or_404, _overseen_report_type


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


@login_required
@require_GET
def reporting_matrix(request):
    """Completeness and timeliness: schools × periods of one report type, and the rates."""
    districts, district = _districts_or_404(request)
    today = timezone.localdate()
    report_types = list(selectors.report_types_for(user=request.user, district=district))
    wanted = request.GET.get("report_type")
    selected = next((rt for rt in report_types if str(rt.pk) == wanted), report_types[0] if report_types else None)
    summaries, by_school, matrix = [], {}, None
    for rt in report_types:
        m = selectors.completeness_matrix(user=request.user, report_type=rt, today=today)
        summaries.append({"report_type": rt, "rates": m.rates, "reporting": _pct(m.rates.reporting_rate),
                          "on_time": _pct(m.rates.on_time_rate), "approved": _pct(m.rates.approved_rate)})
        for row in m.rows:
            total = by_school.setdefault(row.school.pk, {"school": row.school, "rates": selectors.Rates()})
            total["rates"].merge(row.rates)
        if rt == selected:
            matrix = m
    school_rates = sorted(by_school.values(), key=lambda r: r["school"].path)
    for r in school_rates:
        r["reporting"], r["on_time"] = _pct(r["rates"].reporting_rate), _pct(r["rates"].on_time_rate)
        r["approved"] = _pct(r["rates"].approved_rate)
    table = matrix_context(request, district, selected, today) if matrix is not None else {}
    late = []
    if matrix is not None:
        late = [{"school": row.school, "period": matrix.periods[i], "submission_id": cell.submission_id}
                for row in matrix.rows for i, cell in enumerate(row.cells)
                if cell.status == selectors.Cell.MISSING and cell.submission_id is not None]
    return render(request, "submissions/matrix.html", {
        "districts": districts, "district": district, "report_types": report_types, "selected": selected,
        "summaries": summaries, "school_rates": school_rates, "today": today,
        "legend": [(status, symbol, label) for status, (symbol, label) in CELL_LABELS.items()],
        "matrix": None, **table,
        "late": late, "can_remind": "review_submissions" in permissions_on_district(request.user, district),
    })


def matrix_context(request, district, report_type, today) -> dict:
    """The matrix of one report type as the request filters and sorts it (selectors.matrix_table),
    labelled for the page and the print view."""
    table = selectors.matrix_table(user=request.user, report_type=report_type, params=request.GET, today=today)
    matrix, query = table["matrix"], table["query"]
    for error in query.errors:
        messages.warning(request, error)
    for row in matrix.rows:
        row.reporting, row.on_time = _pct(row.rates.reporting_rate), _pct(row.rates.on_time_rate)
        for cell in row.cells:
            cell.symbol, cell.label = CELL_LABELS[cell.status]
    base = {"district": str(district.pk), "report_type": str(report_type.pk)}
    params = urlencode({**base, **query.params()})
    columns = [{"key": "school", "label": _("School"), "school": True},
               *[{"key": f"p{p.seq}", "label": f"{p.end_on:%m-%d}", "title": f"{p.start_on:%Y-%m-%d} – {p.end_on:%Y-%m-%d}"}
                 for p in matrix.periods],
               {"key": "reporting", "label": _("Reporting rate"), "num": True},
               {"key": "on_time", "label": _("On-time rate"), "num": True},
               {"key": "approved", "label": _("Approved by the centre"), "num": True,
                "title": _("Sent, approved by the centre school, waiting for the bureau")}]
    return {"matrix": matrix, "townships": table["townships"], "query": query,
            "township": next((t for t in table["townships"] if t.id == query.township), None),
            "matrix_headers": tables.sort_headers(query, columns, base),
            "hidden": list(base.items()), "table_params": params,
            "export_url": reverse("reporting_matrix_export") + "?" + params,
            "print_url": reverse("reporting_matrix_print") + "?" + params}


def _matrix_request(request):
    """The district and report type a matrix export or print view is for; 404 when the user
    oversees no such report type."""
    return _overseen_report_type(request, request.GET.get("report_type"))


@login_required
@require_GET
def matrix_export(request):
    _district, report_type = _matrix_request(request)
    return download_response(downloads.matrix_workbook(user=request.user, report_type=report_type,
                                                       params=request.GET, request=request))


@login_required
@require_GET
def matrix_print(request):
    district, report_type = _matrix_request(request)
    today = timezone.localdate()
    return render(request, "submissions/matrix_print.html", {
        "district": district, "selected": report_type, "today": today, "printed_at": timezone.localtime(),
        "legend": [(status, symbol, label) for status, (symbol, label) in CELL_LABELS.items()],
        **matrix_context(request, district, report_type, today),
    })


CELL_LABELS = selectors.CELL_LABELS


@login_required
@require_GET
def similarity_list(request):
    districts, district = _districts_or_404(request)
    report_types = list(selectors.report_types_for(user=request.user, district=district))
    wanted = request.GET.get("report_type")
    selected = next((rt for rt in report_types if str(rt.pk) == wanted), None)
    flags = selectors.similarity_flags(user=request.user, district=district, report_type=selected)
    page = Paginator(flags, 50).get_page(request.GET.get("page"))
    for flag in page:
        flag.percent = _pct(flag.score)
    return render(request, "submissions/similarity_list.html", {
        "districts": districts, "district": district, "report_types": report_types, "selected": selected,
        "page": page,
    })


def highlight_segments(text: str, spans) -> list[tuple[str, bool]]:
    """Split `text` into (chunk, is_shared) pieces from [start, end) spans (clamped, merged).

    The template autoescapes every chunk, so a narrative can never inject markup.
    """
    n = len(text)
    clean = sorted((s, e) for s, e in ((max(0, int(s)), min(n, int(e))) for s, e in spans) if e > s)
    out: list[tuple[str, bool]] = []
    pos = 0
    merged: list[list[int]] = []
    for start, end in clean:
        if merged and start <= merged[-1][1]:  # overlapping or touching: one highlight
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        if start > pos:
            out.append((text[pos:start], False))
        out.append((text[start:end], True))
        pos = end
    if pos < n:
        out.append((text[pos:], False))
    return out


@login_required
@require_GET
def similarity_pair(request, pk: int):
    """Two narratives side by side, their shared passages highlighted from the stored offsets."""
    try:
        flag = selectors.similarity_flag_get(user=request.user, flag_id=pk)
    except SimilarityFlag.DoesNotExist:
        raise Http404 from None
    narrative_a = selectors.narrative_of(submission=flag.submission_a)
    narrative_b = selectors.narrative_of(submission=flag.submission_b)
    text_a = narrative_a.text if narrative_a else ""
    text_b = narrative_b.text if narrative_b else ""
    passages = flag.passages or []
    segments_a = highlight_segments(text_a, [p["a"] for p in passages if "a" in p])
    segments_b = highlight_segments(text_b, [p["b"] for p in passages if "b" in p])
    for school_id in {flag.school_id, flag.school_b_id}:
        access_log_record(user=request.user, school_id=school_id, action="view", obj=flag, request=request)
    shared_chars = sum(p.get("length", 0) for p in passages)
    return render(request, "submissions/similarity_pair.html", {
        "flag": flag, "percent": _pct(flag.score), "segments_a": segments_a, "segments_b": segments_b,
        "passage_count": len(passages), "shared_chars": shared_chars,
    })
