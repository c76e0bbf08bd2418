"""{% township_url submission %}: the township package page of the centre school a submission of a
VIA_CENTRE report belongs to (its parent, or itself when it is the centre), for the review page."""
from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.http import urlencode

from submissions.models import ApprovalRoute

register = template.Library()


@register.simple_tag
def township_url(submission) -> str:
    if submission.report_type.route != ApprovalRoute.VIA_CENTRE:
        return ""
    school = submission.school
    centre_id = school.parent_id or (school.pk if school.children.exists() else None)
    if centre_id is None:
        return ""
    return reverse("township_packages", kwargs={"pk": centre_id}) + "?" + urlencode({"period": submission.period_id})
