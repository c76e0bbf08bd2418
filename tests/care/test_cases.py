"""Follow-up cases: opened automatically (the daily risk check, a concern flag, a register change
to 无人监护) and by hand, worked on and closed after a confirmation; the owner's start page; the
referral gate; who sees what; the access log."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from care import receivers, services
from care.models import Case, CaseAction, Referral
from schools import services as ss
from schools.models import CareContact
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope

from .common import calm_child, semester, today


@pytest.fixture
def school(tree):
    semester(tree.district)
    return tree.gupei


def assign(tree, child, teacher=None):
    with tenant_scope([child.school_id]):
        ss.proxy_assignment_create(actor=None, child=child, proxy_parent=teacher or tree.gupei_teacher,
                                   starts_on=today() - dt.timedelta(days=30))


def _cases(school, **filters):
    with tenant_scope([school.pk]):
        return list(Case.objects.filter(**filters).order_by("id"))


# ---------------------------------------------------------------- opening
def test_the_daily_check_opens_one_case_per_child_at_risk_for_its_proxy_parent(tree, school):
    high = calm_child(school, guardianship_assessment="poor", parents_last_contact_on=None)  # 3 + 2
    unattended = calm_child(school, guardianship_assessment="none")  # 3: medium, but no one cares
    calm_child(school)
    assign(tree, high)
    with tenant_scope([school.pk]):
        made = services.cases_open_from_risk([school])
        again = services.cases_open_from_risk([school])
    assert again == []
    cases = {c.child_id: c for c in _cases(school)}
    assert set(cases) == {high.pk, unattended.pk} and len(made) == 2
    assert cases[high.pk].opened_reason == "risk" and cases[high.pk].owner == tree.gupei_teacher
    assert cases[unattended.pk].opened_reason == "unattended" and cases[unattended.pk].owner == tree.gupei_admin
    assert cases[high.pk].due_on == today() + dt.timedelta(days=14)
    with tenant_scope([school.pk]):
        assert AccessLog.objects.filter(object_type="care.case", action="create").count() == 2


def test_a_contact_flagged_concern_opens_a_case_once(tree, school):
    child = calm_child(school)
    with tenant_scope([school.pk]):
        contact = CareContact.objects.filter(child=child).first()
        contact.concern, contact.concern_reason = True, "孩子说晚上一个人在家"
        contact.save()
        other = CareContact.objects.filter(child=child).exclude(pk=contact.pk).first()
        other.concern, other.concern_reason = True, "再次关注"
        other.save()
    (case,) = _cases(school, child=child)
    assert (case.opened_reason, case.opened_note, case.status) == ("concern", "孩子说晚上一个人在家", "open")


def test_a_register_change_to_no_care_opens_a_case(tree, school):
    child = calm_child(school)
    receivers.on_register_changed(child_id=child.pk, school_id=school.pk, actor=tree.gupei_admin,
                                  changed={"guardianship_assessment"})
    assert _cases(school) == []  # still a good guardian
    with tenant_scope([school.pk]):
        type(child).objects.filter(pk=child.pk).update(guardianship_assessment="none")
    receivers.on_register_changed(child_id=child.pk, school_id=school.pk, actor=tree.gupei_admin,
                                  changed={"guardianship_assessment", "guardian_name"})
    receivers.on_register_changed(child_id=child.pk, school_id=school.pk, actor=tree.gupei_admin,
                                  changed={"guardianship_assessment"})
    (case,) = _cases(school)
    assert (case.opened_reason, case.opened_by) == ("unattended", tree.gupei_admin)


def test_opening_by_hand_own_children_only_and_never_twice(tree, school):
    mine, other = calm_child(school), calm_child(school)
    assign(tree, mine)
    with tenant_scope([school.pk]):
        case = services.case_open(actor=tree.gupei_teacher, child=mine, note="家访后担心")
        assert case.owner == tree.gupei_teacher and case.opened_reason == "manual"
        with pytest.raises(ValidationError):
            services.case_open(actor=tree.gupei_admin, child=mine)
        with pytest.raises(PermissionDenied):
            services.case_open(actor=tree.gupei_teacher, child=other)
        with pytest.raises(PermissionDenied):
            services.case_open(actor=tree.gupei_clerk, child=other)
    assert len(_cases(school)) == 1


# ---------------------------------------------------------------- pages: work on a case, close it
def test_teacher_records_an_action_and_closes_after_confirming(client, tree, school):
    child = calm_child(school)
    assign(tree, child)
    with tenant_scope([school.pk]):
        case = services.case_open(actor=tree.gupei_admin, child=child)
    client.force_login(tree.gupei_teacher)
    detail = reverse("care_case", args=[school.pk, case.pk])
    assert child.name in client.get(detail).content.decode()
    r = client.post(reverse("care_case_action", args=[school.pk, case.pk]),
                    {"text": "家访，奶奶说孩子晚上哭", "done_on": today().isoformat()})
    assert r.status_code == 302
    assert "家访，奶奶说孩子晚上哭" in client.get(detail).content.decode()
    close = reverse("care_case_close", args=[school.pk, case.pk])
    assert client.get(close).status_code == 200
    r = client.post(close, {"close_reason": "妈妈回家了"})  # no confirmation tick
    assert r.status_code == 400 and "确认" in r.content.decode()
    assert _cases(school)[0].status == "open"
    assert client.post(close, {"close_reason": "妈妈回家了", "confirm": "on"}).status_code == 302
    (closed,) = _cases(school)
    assert (closed.status, closed.close_reason, closed.closed_by) == ("closed", "妈妈回家了", tree.gupei_teacher)
    with tenant_scope([school.pk]):
        assert CaseAction.objects.filter(case=case).count() == 1
        assert AccessLog.objects.filter(object_type="care.case", action="view", user=tree.gupei_teacher).exists()


def test_the_owner_start_page_shows_overdue_and_due_soon(client, tree, school):
    late, soon, later = calm_child(school), calm_child(school), calm_child(school)
    for c in (late, soon, later):
        assign(tree, c)
    with tenant_scope([school.pk]):
        for child, days in ((late, -3), (soon, 5), (later, 20)):
            case = services.case_open(actor=tree.gupei_teacher, child=child)
            Case.objects.filter(pk=case.pk).update(due_on=today() + dt.timedelta(days=days))
    client.force_login(tree.gupei_teacher)
    response = client.get(reverse("home"))
    items = {i.key: i for s in response.context["todo"].sections for i in s.items}
    assert items["cases_overdue"].count == 1 and items["cases_overdue"].urgency == 0
    assert items["cases_due"].count == 1
    assert items["cases_overdue"].url == reverse("care_cases", args=[school.pk])
    page = client.get(reverse("care_cases", args=[school.pk])).content.decode()
    assert "case-overdue" in page and "case-soon" in page
    client.force_login(tree.gupei_admin)  # not the owner: nothing of this on their start page
    items = {i.key for s in client.get(reverse("home")).context["todo"].sections for i in s.items}
    assert not items & {"cases_overdue", "cases_due"}


# ---------------------------------------------------------------- referrals
def test_a_referral_sharing_data_needs_consent_or_a_legal_ground(tree, school):
    child = calm_child(school)
    base = dict(actor=tree.gupei_admin, child=child, to="civil_affairs", reason="无人照看", shares_data=True)
    with tenant_scope([school.pk]):
        with pytest.raises(ValidationError) as exc:
            services.referral_create(**base)
        assert "监护人" in " ".join(exc.value.messages)
        with pytest.raises(ValidationError):
            services.referral_create(**base, consent_given_by="王奶奶")  # who, but not when
        assert not Referral.objects.exists()
        services.referral_create(**base, consent_recorded_on=today(), consent_given_by="王奶奶")
        report = services.referral_create(**{**base, "to": "police"}, is_mandatory_report=True,
                                          legal_ground="mandatory_report")
        services.referral_create(**{**base, "shares_data": False})
        assert Referral.objects.count() == 3 and report.is_mandatory_report


def test_the_referral_page_refuses_with_a_chinese_message(client, tree, school):
    child = calm_child(school)
    client.force_login(tree.gupei_admin)
    url = reverse("care_referral_new", args=[school.pk])
    r = client.post(url, {"child": child.pk, "to": "womens_federation", "reason": "需要帮助", "shares_data": "on",
                          "made_on": today().isoformat()})
    assert r.status_code == 400 and "法定依据" in r.content.decode()
    with tenant_scope([school.pk]):
        assert not Referral.objects.exists()


# ---------------------------------------------------------------- who sees what
def test_clerk_sees_nothing_teacher_own_only_bureau_counts_only(client, tree, school):
    mine, other = calm_child(school, guardianship_assessment="none"), calm_child(school, guardianship_assessment="none")
    assign(tree, mine)
    with tenant_scope([school.pk]):
        services.cases_open_from_risk([school])
        services.referral_create(actor=tree.gupei_admin, child=other, to="police", reason="疑似侵害",
                                 is_mandatory_report=True, shares_data=True, legal_ground="mandatory_report")
    cases = {c.child_id: c for c in _cases(school)}
    client.force_login(tree.gupei_clerk)
    for name in ("care_cases", "care_risk", "care_referrals"):
        assert client.get(reverse(name, args=[school.pk])).status_code == 403, name
    assert client.get(reverse("care_case", args=[school.pk, cases[mine.pk].pk])).status_code == 403

    client.force_login(tree.gupei_teacher)
    page = client.get(reverse("care_risk", args=[school.pk])).content.decode()
    assert mine.name in page and other.name not in page
    assert client.get(reverse("care_case", args=[school.pk, cases[mine.pk].pk])).status_code == 200
    assert client.get(reverse("care_case", args=[school.pk, cases[other.pk].pk])).status_code == 404
    assert other.name not in client.get(reverse("care_referrals", args=[school.pk])).content.decode()

    client.force_login(tree.bureau_admin)
    assert client.get(reverse("care_cases", args=[school.pk])).status_code == 403
    r = client.get(reverse("care_district", args=[tree.district.pk]))
    body = r.content.decode()
    assert r.status_code == 200 and mine.name not in body and other.name not in body
    row = next(x for x in r.context["rows"] if x.school.pk == school.pk)
    assert (row.open_cases, row.referrals, row.mandatory_reports) == (2, 1, 1)
    client.force_login(tree.gupei_township)
    r = client.get(reverse("care_school_counts", args=[school.pk]))
    assert r.status_code == 200 and mine.name not in r.content.decode()


def test_reads_are_access_logged(client, tree, school):
    child = calm_child(school, guardianship_assessment="none")
    with tenant_scope([school.pk]):
        case = services.case_open(actor=tree.gupei_admin, child=child)
        referral = services.referral_create(actor=tree.gupei_admin, child=child, to="village_director",
                                            reason="请村儿童主任家访")
    client.force_login(tree.gupei_admin)
    client.get(reverse("care_risk", args=[school.pk]))
    client.get(reverse("care_case", args=[school.pk, case.pk]))
    client.get(reverse("care_referral", args=[school.pk, referral.pk]))
    with tenant_scope([school.pk]):
        views = set(AccessLog.objects.filter(action="view", user=tree.gupei_admin)
                    .values_list("object_type", "object_id"))
    assert {("care.risklist", str(school.pk)), ("care.case", str(case.pk)),
            ("care.referral", str(referral.pk))} <= views
    # The school admin reads them in people's words.
    log = client.get(reverse("school_access_log", args=[school.pk])).content.decode()
    assert "风险名单" in log or "帮扶个案" in log


def test_the_register_signal_opens_the_case_after_the_commit(tree, school, django_capture_on_commit_callbacks):
    child = calm_child(school)
    with django_capture_on_commit_callbacks(execute=True):
        with tenant_scope([school.pk]):
            ss.child_update(actor=tree.gupei_admin, child=child, guardianship_assessment="none")
    (case,) = _cases(school)
    assert (case.child_id, case.opened_reason, case.owner) == (child.pk, "unattended", tree.gupei_admin)
