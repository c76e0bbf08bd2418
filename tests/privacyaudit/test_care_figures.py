"""The audit pack's section on follow-up cases and referrals counts the district's records of the year
(and nothing of another district), each figure against an independent ORM count, without listing a
case, a referral or a child."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from care.models import Case, Referral
from privacyaudit.selectors.figures import audit_report, figure_values
from tenancy.scoping import system_scope
from tests.web.pages_archive import make_child


def _craft(tree) -> None:
    today = timezone.localdate()
    past = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=10))
    with system_scope("test: care records"):
        kids = [make_child(school, name=f"个案孩子{i}") for i, school in
                enumerate([tree.gupei, tree.gupei, tree.menzhuang, tree.menzhuang, tree.far_centre])]
        def case(child, school, owner, reason, due, closed=False):
            Case.objects.create(school=school, child=child, opened_reason=reason, owner=owner, due_on=due,
                                status="closed" if closed else "open", close_reason="已改善" if closed else "",
                                closed_at=timezone.now() if closed else None)
        case(kids[0], tree.gupei, tree.gupei_teacher, "risk", past)  # open, overdue
        case(kids[1], tree.gupei, tree.gupei_teacher, "concern", today + dt.timedelta(days=5))
        case(kids[2], tree.menzhuang, tree.menzhuang_teacher, "manual", past, closed=True)
        case(kids[4], tree.far_centre, tree.other_teacher, "risk", past)  # another district
        def referral(child, school, by, **kw):
            Referral.objects.create(school=school, child=child, to="civil_affairs", made_on=past, made_by=by,
                                    reason="需要民政救助", **kw)
        referral(kids[0], tree.gupei, tree.gupei_teacher, shares_data=True, consent_recorded_on=past,
                 consent_given_by="奶奶")
        referral(kids[1], tree.gupei, tree.gupei_teacher, shares_data=True, legal_ground="mandatory_report",
                 is_mandatory_report=True, answered_on=today, answer="已受理")
        referral(kids[3], tree.menzhuang, tree.menzhuang_teacher)
        referral(kids[4], tree.far_centre, tree.other_teacher)


def test_the_care_section_counts_the_districts_cases_and_referrals(tree):
    _craft(tree)
    today = timezone.localdate()
    report = audit_report(tree.district, today.year)
    got = figure_values(report)
    ids = [s.pk for s in (tree.gupei, tree.village_a, tree.village_b, tree.menzhuang)]
    with system_scope("test: independent counts"):
        cases = Case.objects.filter(school_id__in=ids)
        referrals = Referral.objects.filter(school_id__in=ids)
        independent = {
            "cases_opened": cases.count(),
            "cases_opened_risk": cases.filter(opened_reason="risk").count(),
            "cases_opened_concern": cases.filter(opened_reason="concern").count(),
            "cases_closed": cases.filter(status="closed").count(),
            "cases_overdue": cases.filter(status="open", due_on__lt=today).count(),
            "referrals_made": referrals.count(),
            "referrals_mandatory": referrals.filter(is_mandatory_report=True).count(),
            "referrals_shared_consent": referrals.filter(shares_data=True, consent_recorded_on__isnull=False).count(),
            "referrals_shared_legal_ground": referrals.filter(shares_data=True, consent_recorded_on__isnull=True)
            .exclude(legal_ground="").count(),
            "referrals_unanswered": referrals.filter(answered_on__isnull=True).count(),
        }
    assert independent == {"cases_opened": 3, "cases_opened_risk": 1, "cases_opened_concern": 1, "cases_closed": 1,
                           "cases_overdue": 1, "referrals_made": 3, "referrals_mandatory": 1,
                           "referrals_shared_consent": 1, "referrals_shared_legal_ground": 1,
                           "referrals_unanswered": 2}
    for key, value in independent.items():
        assert got[key] == value, f"{key}: report {got[key]}, ORM {value}"
    section = next(s for s in report["sections"] if s["key"] == "care")
    assert section["title"] == "帮扶个案与转介"
    assert "个案孩子" not in repr(report)
    overdue = next(f for f in section["figures"] if f["key"] == "cases_overdue")
    assert overdue["finding"] is True and overdue["sql"].lstrip().upper().startswith("SELECT")
