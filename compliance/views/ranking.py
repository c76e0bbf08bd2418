"""The dashboard's ranking as a file and on paper: the same rows as the page (same township filter
and order, selectors.ranking_table), for the overseers who see the dashboard."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from tenancy.downloads import download_response

from .. import downloads, selectors
from ._common import _overseer_assessment


@login_required
@require_GET
def ranking_export(request, pk: int):
    assessment = _overseer_assessment(request, pk)
    return download_response(downloads.ranking_workbook(user=request.user, assessment=assessment,
                                                        params=request.GET, request=request))


@login_required
@require_GET
def ranking_print(request, pk: int):
    assessment = _overseer_assessment(request, pk)
    table = selectors.ranking_table(request.user, assessment, request.GET)
    township = next((t for t in table["townships"] if t.id == table["query"].township), None)
    return render(request, "compliance/ranking_print.html", {
        "assessment": assessment, "rows": table["rows"], "township": township, "query": table["query"],
        "printed_at": timezone.localtime(), "back_params": urlencode(table["query"].params()),
    })
