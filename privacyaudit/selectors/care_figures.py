"""The audit report's section on follow-up cases and referrals: how many cases were opened and
closed in the year, and the referrals that shared a child's data, by the ground that allowed it.
Counts only, like every other section: no case or referral is listed."""
from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from care.models import Case, Referral

from .figures import SECTIONS, Section, _Builder


def care_section(b: _Builder) -> Section:
    s = Section("care", _(dict(SECTIONS)["care"]))
    d = b.w.district.pk
    cases = Case.objects.filter(school__district_id=d).order_by()
    b.count(s, "cases_opened", _("Follow-up cases opened in the year"), b.in_year(cases, "created_at"))
    for value, label in Case.Reason.choices:
        b.count(s, f"cases_opened_{value}", _("of them: %(reason)s") % {"reason": label},
                b.in_year(cases.filter(opened_reason=value), "created_at"))
    b.count(s, "cases_closed", _("Follow-up cases closed in the year"), b.in_year(cases, "closed_at"))
    b.count(s, "cases_overdue", _("Open follow-up cases past their due date"),
            cases.filter(status=Case.Status.OPEN, due_on__lt=b.w.as_of), finding=True)
    referrals = b.days_in_year(Referral.objects.filter(school__district_id=d), "made_on").order_by()
    b.count(s, "referrals_made", _("Referrals made in the year"), referrals)
    b.count(s, "referrals_mandatory", _("of them: mandatory reports of suspected harm"),
            referrals.filter(is_mandatory_report=True))
    shared = referrals.filter(shares_data=True)
    b.count(s, "referrals_shared_consent", _("Referrals that shared data with the guardian's consent"),
            shared.filter(consent_recorded_on__isnull=False))
    b.count(s, "referrals_shared_legal_ground", _("Referrals that shared data on a legal ground"),
            shared.filter(consent_recorded_on__isnull=True).exclude(legal_ground=""))
    b.count(s, "referrals_unanswered", _("Referrals not yet answered"),
            referrals.filter(Q(answered_on__isnull=True)))
    return s
