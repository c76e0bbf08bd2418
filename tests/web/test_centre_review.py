"""The approval route through the pages (Django test client): the village school submits, its
centre school returns and approves from its queue and review page (one by one and in bulk), the
bureau returns to the centre and accepts; each level sees its state and the school its lock."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from submissions import services
from submissions.models import ApprovalRoute, Level, Status, SubmissionEvent
from tenancy.scoping import tenant_scope

from .pages_submissions import compile_with_files, fresh_report, reload, submission_of


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _msgs(client, response):
    assert response.status_code == 302, response.status_code
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


def _village_sends(en, tree, sub, text):
    with tenant_scope([sub.school_id]):
        services.narrative_update(actor=tree.village_a_admin, submission=reload(sub), sections={"s1": text})
    compile_with_files(reload(sub), tree.village_a_admin)
    en.force_login(tree.village_a_admin)
    confirm = en.post(reverse("submission_submit", kwargs={"pk": sub.pk}), {"step": "confirm"})
    assert "centre school" in confirm.content.decode()
    sent = _msgs(en, en.post(reverse("submission_submit", kwargs={"pk": sub.pk})))
    assert any(m in ("Submitted to the centre school.", "Sent to the centre school again.") for m in sent), sent


def _queue(en, tree, rt):
    en.force_login(tree.gupei_township)
    page = en.get(reverse("centre_queue"), {"report_type": rt.pk})
    assert page.status_code == 200
    return {row.school.code: row.state for row in page.context["rows"]}


@pytest.fixture
def rt(tree):
    report = fresh_report(tree, [tree.gupei, tree.village_a, tree.village_b])
    return services.report_type_update(actor=tree.bureau_admin, report_type=report, route=ApprovalRoute.VIA_CENTRE)


def test_the_chain_through_the_pages(en, tree, rt):
    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(en, tree, sub, "第一稿")
    assert _queue(en, tree, rt) == {"gupei-a": "ready", "gupei-b": "waiting_below"}

    # The centre returns it from its review page; the reason is required.
    review = en.get(reverse("centre_review", kwargs={"pk": sub.pk}))
    assert review.status_code == 200 and b'id="decision"' in review.content
    assert en.post(reverse("centre_return", kwargs={"pk": sub.pk}), {"comment": ""}).status_code == 400
    en.post(reverse("centre_return", kwargs={"pk": sub.pk}), {"comment": "缺少照片"})
    assert (reload(sub).status, reload(sub).returned_level) == (Status.RETURNED, Level.CENTRE)
    en.force_login(tree.village_a_admin)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert "Returned by the centre school" in detail and "缺少照片" in detail

    _village_sends(en, tree, sub, "第二稿")
    en.force_login(tree.gupei_township)
    confirm = en.post(reverse("centre_approve", kwargs={"pk": sub.pk}), {"step": "confirm"})
    assert confirm.status_code == 200 and b"data-confirm" in confirm.content
    assert reload(sub).status == Status.RESUBMITTED  # the confirm page changes nothing
    assert "Approved and sent to the bureau." in _msgs(en, en.post(reverse("centre_approve", kwargs={"pk": sub.pk})))
    assert reload(sub).status == Status.APPROVED

    # Locked for the school while the bureau decides.
    en.force_login(tree.village_a_admin)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sub.pk})).content.decode()
    assert 'id="approved"' in detail and "submission_compile" not in detail
    assert any("cannot be compiled again" in m for m in _msgs(
        en, en.post(reverse("submission_compile", kwargs={"pk": sub.pk}))))

    # The bureau sees it ready and returns it to the centre.
    en.force_login(tree.bureau_admin)
    page = en.get(reverse("submission_review", kwargs={"pk": sub.pk}))
    assert page.context["waiting"] and b"Return to the centre school" in page.content
    en.post(reverse("submission_return", kwargs={"pk": sub.pk}), {"comment": "人数不一致"})
    assert (reload(sub).status, reload(sub).returned_level) == (Status.RETURNED, Level.BUREAU)

    # The centre reads the bureau's reason and returns it to the school with its own.
    en.force_login(tree.gupei_township)
    page = en.get(reverse("centre_review", kwargs={"pk": sub.pk})).content.decode()
    assert 'id="bureau-returned"' in page and "人数不一致" in page
    en.post(reverse("centre_return", kwargs={"pk": sub.pk}), {"comment": "请核对人数"})

    # The village school resends; the centre approves it from the queue in bulk; the bureau accepts.
    _village_sends(en, tree, sub, "第三稿")
    en.force_login(tree.gupei_township)
    data = {"action": "approve", "submissions": [sub.pk]}
    assert en.post(reverse("centre_decide_many"), {**data, "step": "confirm"}).status_code == 200
    assert any("approved" in m for m in _msgs(en, en.post(reverse("centre_decide_many"), data)))
    en.force_login(tree.bureau_admin)
    en.post(reverse("submission_accept", kwargs={"pk": sub.pk}), {"comment": ""})
    assert reload(sub).status == Status.ACCEPTED
    assert _queue(en, tree, rt)["gupei-a"] == "passed"
    with tenant_scope([sub.school_id]):
        levels = list(SubmissionEvent.objects.filter(submission=sub, action__in=["approve", "return", "accept"])
                      .values_list("action", "level"))
    assert levels == [("return", "centre"), ("approve", "centre"), ("return", "bureau"), ("return", "centre"),
                      ("approve", "centre"), ("accept", "bureau")]


def test_the_village_admin_cannot_approve_and_has_no_queue(en, tree, rt):
    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(en, tree, sub, "稿")
    en.force_login(tree.village_a_admin)
    assert en.get(reverse("centre_queue")).status_code == 404
    assert en.post(reverse("centre_approve", kwargs={"pk": sub.pk})).status_code == 403
    assert en.post(reverse("centre_decide_many"), {"action": "approve", "submissions": [sub.pk]}).status_code == 302
    assert reload(sub).status == Status.SUBMITTED
    # The bureau may read the centre's page but not decide in its place.
    en.force_login(tree.bureau_admin)
    assert b'id="decision"' not in en.get(reverse("centre_review", kwargs={"pk": sub.pk})).content
    assert any("township admin" in m for m in _msgs(en, en.post(reverse("centre_approve", kwargs={"pk": sub.pk}))))
    assert reload(sub).status == Status.SUBMITTED


def test_a_bulk_return_needs_a_reason(en, tree, rt):
    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(en, tree, sub, "稿")
    en.force_login(tree.gupei_township)
    response = en.post(reverse("centre_decide_many"), {"action": "return", "submissions": [sub.pk], "comment": ""})
    assert any("needs to change" in m for m in _msgs(en, response))
    assert reload(sub).status == Status.SUBMITTED


def test_another_centres_township_admin_gets_404(en, tree, rt):
    """A second township centre school of the same district: its admin does not see Gupei's villages."""
    from tenancy import services as tenancy_services
    from tenancy.roles import Role

    centre = tenancy_services.school_create(district=tree.district, name="苏巷中心小学", code="suxiang")
    tenancy_services.school_create(district=tree.district, name="苏巷村小", code="suxiang-a", parent=centre)
    other = tenancy_services.user_create(username="suxiang_township", password="Demo2026!")
    tenancy_services.membership_grant(user=other, role=Role.TOWNSHIP_ADMIN, school=centre)
    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(en, tree, sub, "稿")
    en.force_login(other)
    for name in ("centre_review", "submission_detail"):
        assert en.get(reverse(name, kwargs={"pk": sub.pk})).status_code == 404
    for name in ("centre_approve", "centre_return", "centre_withdraw"):
        assert en.post(reverse(name, kwargs={"pk": sub.pk}), {"comment": "x"}).status_code == 404
    # Its own queue exists (it has a village school) but lists none of Gupei's.
    queue = en.get(reverse("centre_queue"))
    assert queue.status_code == 200 and "古沛" not in queue.content.decode()
    en.post(reverse("centre_decide_many"), {"action": "approve", "submissions": [sub.pk]})
    assert reload(sub).status == Status.SUBMITTED


def test_a_double_tap_on_the_bulk_confirm_decides_once(en, tree, rt):
    from submissions.models import ApprovalBatch

    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(en, tree, sub, "稿")
    en.force_login(tree.gupei_township)
    confirm = en.post(reverse("centre_decide_many"), {"action": "approve", "submissions": [sub.pk], "step": "confirm"})
    data = dict(confirm.context["hidden"])
    data["submissions"] = [sub.pk]
    first = _msgs(en, en.post(reverse("centre_decide_many"), data))
    second = _msgs(en, en.post(reverse("centre_decide_many"), data))
    assert any("approved" in m for m in first) and second == ["Already decided."]
    with tenant_scope([tree.gupei.id, tree.village_a.id]):
        assert ApprovalBatch.objects.count() == 1
        assert SubmissionEvent.objects.filter(submission=sub, action="approve").count() == 1
