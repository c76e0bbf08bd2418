"""What the compliance pages share: the assessment lookups, labels and error text."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import get_language

from tenancy import selectors as tenancy_selectors
from tenancy.forms import error_text

from .. import selectors
from ..models import Assessment


def _assessment(request, pk) -> Assessment:
    return selectors.assessment_get_for_user(request.user, pk)


def _overseer_assessment(request, pk) -> Assessment:
    assessment = _assessment(request, pk)
    if not selectors.can_view_dashboard(request.user, assessment):
        raise PermissionDenied
    return assessment


def _exports_assessment(request, pk) -> Assessment:
    assessment = _assessment(request, pk)
    if not selectors.can_view_exports(request.user, assessment):
        raise PermissionDenied
    return assessment


def _flash_outcome(request, call, success: str) -> bool:
    """Run a service call and flash how it went: a refusal is a message on the page, not a 500."""
    try:
        call()
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
        return False
    messages.success(request, success)
    return True


def _zh() -> bool:
    return (get_language() or "zh-hans").startswith("zh")


def _title(row: dict) -> str:
    return row.get("title_zh") if _zh() or not row.get("title_en") else row["title_en"]


def _num(d):
    return None if d is None else float(d)


def _own_school_ids(user) -> list[int]:
    """The schools a user works at (their school roles), for "my score"."""
    return [m.school_id for m in tenancy_selectors.memberships_of(user) if m.school_id]


def _is_manager(user, district_id) -> bool:
    return tenancy_selectors.has_district_perm(user, "manage_checklists", district_id)
