"""The consent register: a guardian's decision is recorded and the child's consent follows it; a
refusal (or withdrawal) clears what it limits; children under 14 need the guardian's consent."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from privacy import selectors, services
from privacy.models import ConsentRecord
from schools import services as school_services
from schools.models import Child
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.schools import add_child

REFUSAL_CLEARED = ("birth_date", "id_number_ciphertext", "parents_work_place", "guardian_phone",
                   "second_contact_name", "second_contact_phone", "home_village", "health_notes", "wellbeing_notes")


def _record(tree, child, decision, on, **extra):
    fields = {"guardian_name": "王奶奶", "guardian_relation": "祖母", "method": "纸质签字", "decided_on": on, **extra}
    with tenant_scope([child.school_id]):
        return services.consent_record(actor=tree.gupei_admin, child=child, decision=decision, **fields)


def _fresh(child):
    with tenant_scope([child.school_id]):
        return Child.objects.get(pk=child.pk)


def test_given_is_recorded_and_the_child_follows(tree, today):
    child = add_child(tree.gupei, 1, consent_date=None, consent_method="")
    assert child.consent == Child.Consent.PENDING
    record = _record(tree, child, "given", today - dt.timedelta(days=2), method="微信")
    child = _fresh(child)
    assert (child.consent, child.consent_date, child.consent_method) == ("given", today - dt.timedelta(days=2), "微信")
    assert record.limits == "" and record.recorded_by == tree.gupei_admin
    with tenant_scope([tree.gupei.id]):
        assert AccessLog.objects.filter(object_type="privacy.consentrecord", object_id=str(record.pk),
                                        action="create", user=tree.gupei_admin).count() == 1


@pytest.mark.parametrize("decision", ["refused", "withdrawn"])
def test_refusal_clears_what_it_limits_and_says_so(tree, today, decision):
    child = add_child(tree.gupei, 2)
    assert child.guardian_phone and child.wellbeing_notes and child.id_number_ciphertext
    record = _record(tree, child, decision, today)
    child = _fresh(child)
    assert child.consent == Child.Consent.REFUSED and child.consent_date == today
    for name in REFUSAL_CLEARED:
        assert getattr(child, name) in ("", None, []), name
    assert child.name == "孩子2" and child.grade == 4  # the minimum is kept
    assert "身份证号" in record.limits and "联系电话" in record.limits or "电话" in record.limits
    # The refusal holds: a sensitive field can no longer be stored ...
    with tenant_scope([tree.gupei.id]), pytest.raises(ValidationError):
        school_services.child_update(actor=tree.gupei_admin, child=child, guardian_phone="13800002222")
    # ... until the guardian gives consent after all.
    _record(tree, child, "given", today)
    with tenant_scope([tree.gupei.id]):
        school_services.child_update(actor=tree.gupei_admin, child=_fresh(child), guardian_phone="13800002222")
    assert _fresh(child).consent == "given" and _fresh(child).guardian_phone == "13800002222"
    with tenant_scope([tree.gupei.id]):
        assert [r.decision for r in selectors.consent_history(child)] == ["given", decision]


def test_a_refusal_keeps_the_limits_the_school_wrote(tree, today):
    child = add_child(tree.gupei, 3)
    record = _record(tree, child, "refused", today, limits="不参加拍照和家访记录")
    assert record.limits == "不参加拍照和家访记录"


@pytest.mark.parametrize("change, field", [
    ({"method": " "}, "method"),
    ({"guardian_name": ""}, "guardian_name"),
    ({"decision": "maybe"}, "decision"),
    ({"decided_on": dt.date.today() + dt.timedelta(days=3)}, "decided_on"),
])
def test_bad_input_writes_nothing(tree, today, change, field):
    child = add_child(tree.gupei, 4, consent_date=None, consent_method="")
    args = {"decision": "given", "guardian_name": "王奶奶", "method": "纸质签字", "decided_on": today, **change}
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(ValidationError) as exc:
            services.consent_record(actor=tree.gupei_admin, child=child, **args)
        assert field in exc.value.message_dict
        assert not ConsentRecord.objects.filter(child=child).exists()
    assert _fresh(child).consent == "pending"


def test_a_decision_older_than_the_latest_is_refused(tree, today):
    child = add_child(tree.gupei, 5)
    _record(tree, child, "given", today)
    with pytest.raises(ValidationError):
        _record(tree, child, "refused", today - dt.timedelta(days=5))
    assert _fresh(child).consent == "given" and _fresh(child).guardian_phone


def test_only_the_school_admin_records(tree, today):
    child = add_child(tree.gupei, 6)
    for actor in (tree.gupei_teacher, tree.gupei_clerk, tree.bureau_admin, tree.menzhuang_admin):
        with tenant_scope([tree.gupei.id]), pytest.raises(PermissionDenied):
            services.consent_record(actor=actor, child=child, decision="refused", guardian_name="王奶奶",
                                    method="电话", decided_on=today)
    assert _fresh(child).consent == "given"


def test_under_14_rule(tree, today):
    fourteen_today = today.replace(year=today.year - 14) if not (today.month == 2 and today.day == 29) \
        else dt.date(today.year - 14, 2, 28)
    cases = {
        "unknown": (None, True),
        "nine": (today.replace(year=today.year - 9, day=1), True),
        "fourteen tomorrow": (fourteen_today + dt.timedelta(days=1), True),
        "fourteen today": (fourteen_today, False),
        "fifteen": (fourteen_today - dt.timedelta(days=365), False),
    }
    kids = {}
    for n, (label, (birth, under)) in enumerate(cases.items(), start=10):
        kids[label] = add_child(tree.gupei, n, birth_date=birth, consent_date=None, consent_method="")
        assert selectors.is_under_consent_age(kids[label], today) is under, label
    with tenant_scope([tree.gupei.id]):
        overview = selectors.consent_overview(tree.gupei, today)
        counts = selectors.under_age_pending_counts([tree.gupei.id], today)
    expected = {kids[k].pk for k in ("unknown", "nine", "fourteen tomorrow")}
    assert {c.pk for c in overview.under_age_pending} == expected
    assert counts == {tree.gupei.id: 3}
    assert (overview.pending, overview.given, overview.refused) == (5, 0, 0)
    # A decision takes the child off the list.
    _record(tree, kids["nine"], "given", today)
    with tenant_scope([tree.gupei.id]):
        assert kids["nine"].pk not in {c.pk for c in selectors.consent_overview(tree.gupei, today).under_age_pending}


def test_pages_show_the_under_14_pending_and_record_a_decision(client, tree, today):
    pending = add_child(tree.gupei, 20, consent_date=None, consent_method="")
    client.force_login(tree.gupei_admin)
    overview = client.get(reverse("privacy_overview", kwargs={"school_pk": tree.gupei.pk}))
    assert overview.status_code == 200
    body = overview.content.decode()
    assert "待取得监护人同意" in body and "孩子20" in body
    url = reverse("privacy_child_consent", kwargs={"school_pk": tree.gupei.pk, "pk": pending.pk})
    page = client.get(url)
    assert page.status_code == 200 and "待取得监护人同意" in page.content.decode()
    form = page.context["form"]
    data = {"client_id": form["client_id"].value(), "decision": "refused", "guardian_name": "王奶奶",
            "guardian_relation": "祖母", "method": "当面口头", "decided_on": today.isoformat(), "limits": ""}
    # A refusal needs the confirmation tick: nothing is written without it.
    assert client.post(url, data).status_code == 200
    with tenant_scope([tree.gupei.id]):
        assert not ConsentRecord.objects.filter(child=pending).exists()
    response = client.post(url, {**data, "confirm": "on"})
    assert response.status_code == 302
    again = client.post(url, {**data, "confirm": "on"})  # the same tap sent twice is one record
    assert again.status_code == 302
    with tenant_scope([tree.gupei.id]):
        assert ConsentRecord.objects.filter(child=pending).count() == 1
    assert _fresh(pending).consent == "refused"
    history = client.get(url).content.decode()
    assert "当面口头" in history and "拒绝" in history


def test_other_roles_cannot_open_the_register(client, tree):
    child = add_child(tree.gupei, 30)
    urls = [reverse("privacy_overview", kwargs={"school_pk": tree.gupei.pk}),
            reverse("privacy_child_consent", kwargs={"school_pk": tree.gupei.pk, "pk": child.pk})]
    for user, status in ((tree.gupei_teacher, 403), (tree.gupei_clerk, 403), (tree.bureau_admin, 403),
                         (tree.gupei_township, 403), (tree.menzhuang_admin, 404), (tree.other_admin, 404)):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == status, (user.username, url)
