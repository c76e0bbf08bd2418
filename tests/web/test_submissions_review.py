"""The lifecycle through the pages: the clerk submits, a teacher cannot, the school cannot accept,
the bureau accepts or returns with comments, the school sends again; every step is audited."""
from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from submissions.models import Status, SubmissionEvent
from tenancy.scoping import tenant_scope

from .pages_submissions import compile_with_files, fresh_report, reload, submission_of


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _msgs(client, response):
    assert response.status_code == 302, response.status_code
    return [str(m) for m in client.get(response["Location"]).context["messages"]]


@pytest.fixture
def sent(en, tree):
    """Gupei's current period, compiled and submitted by the clerk through the page."""
    sub = submission_of(fresh_report(tree, [tree.gupei, tree.menzhuang]), tree.gupei, 2)
    compile_with_files(sub, tree.gupei_clerk)
    en.force_login(tree.gupei_clerk)
    en.post(reverse("submission_submit", kwargs={"pk": sub.pk}))
    sub = reload(sub)
    assert sub.status == Status.SUBMITTED
    return sub


def test_only_the_bureau_accepts(en, tree, sent):
    url = reverse("submission_accept", kwargs={"pk": sent.pk})
    # The school's admin and the township admin are told no; nothing changes.
    for user in (tree.gupei_admin, tree.gupei_clerk, tree.gupei_township, tree.bureau_inspector):
        en.force_login(user)
        assert "Only the bureau can accept submissions." in _msgs(en, en.post(url, {"comment": ""})), user
        assert reload(sent).status == Status.SUBMITTED
    # A teacher has no part in reporting; another school's admin does not see it at all.
    en.force_login(tree.gupei_teacher)
    assert en.post(url).status_code == 403
    en.force_login(tree.menzhuang_admin)
    assert en.post(url).status_code == 404
    assert reload(sent).status == Status.SUBMITTED
    # The bureau admin accepts on the review screen.
    en.force_login(tree.bureau_admin)
    review = en.get(reverse("submission_review", kwargs={"pk": sent.pk}))
    assert review.status_code == 200 and url in review.content.decode()
    assert "Accepted. The submission is now locked." in _msgs(en, en.post(url, {"comment": "很好"}))
    sub = reload(sent)
    assert sub.status == Status.ACCEPTED and sub.reviewed_by == tree.bureau_admin and sub.review_comment == "很好"
    # Accepted is locked: no submit, no narrative edit, no second decision.
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sent.pk})).content.decode()
    assert reverse("submission_submit", kwargs={"pk": sent.pk}) not in detail
    msgs = _msgs(en, en.post(reverse("submission_submit", kwargs={"pk": sent.pk})))
    assert "This submission has been accepted and is locked." in msgs
    en.force_login(tree.bureau_admin)
    assert url not in en.get(reverse("submission_review", kwargs={"pk": sent.pk})).content.decode()


def test_return_with_comments_then_resubmit(en, tree, sent):
    en.force_login(tree.bureau_admin)
    url = reverse("submission_return", kwargs={"pk": sent.pk})
    # An empty return keeps the review page open, the error next to the comment field.
    empty = en.post(url, {"comment": "  "})
    assert empty.status_code == 400 and empty.context["return_open"]
    assert empty.context["return_form"].errors["comment"] == ["Say what the school needs to change."]
    assert reload(sent).status == Status.SUBMITTED
    assert "Returned to the school with your comments." in _msgs(en, en.post(url, {"comment": "请补充家访照片。"}))
    assert reload(sent).status == Status.RETURNED

    # The clerk sees the bureau's comments, edits the narrative, compiles and sends again.
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sent.pk})).content.decode()
    assert "Returned by the bureau" in detail and "请补充家访照片。" in detail
    assert "Send again to the bureau" in detail
    response = en.post(reverse("submission_narrative", kwargs={"pk": sent.pk}), {"s5": "补充了家访照片。"})
    assert response.status_code == 302
    compile_with_files(reload(sent), tree.gupei_clerk)
    assert "Sent to the bureau again." in _msgs(en, en.post(reverse("submission_submit", kwargs={"pk": sent.pk})))
    sub = reload(sent)
    assert sub.status == Status.RESUBMITTED and sub.timeliness == "on_time"  # decided at the first submission

    en.force_login(tree.bureau_admin)
    review = en.get(reverse("submission_review", kwargs={"pk": sent.pk})).content.decode()
    assert "补充了家访照片。" in review
    _msgs(en, en.post(reverse("submission_accept", kwargs={"pk": sent.pk}), {"comment": ""}))
    assert reload(sent).status == Status.ACCEPTED

    with tenant_scope([tree.gupei.id]):
        actions = list(SubmissionEvent.objects.filter(submission=sent).values_list("action", flat=True))
    assert actions == ["open", "compile", "submit", "return", "narrative", "compile", "resubmit", "accept"]
    # The audit trail is on the page, with the comment.
    en.force_login(tree.gupei_clerk)
    detail = en.get(reverse("submission_detail", kwargs={"pk": sent.pk})).content.decode()
    assert "History" in detail and "请补充家访照片。" in detail and "gupei_clerk" in detail


def test_review_screen_is_for_the_bureau_and_overseers(en, tree, sent):
    url = reverse("submission_review", kwargs={"pk": sent.pk})
    en.force_login(tree.gupei_admin)
    assert en.get(url).status_code == 403
    en.force_login(tree.gupei_teacher)
    assert en.get(url).status_code == 403
    en.force_login(tree.menzhuang_admin)
    assert en.get(url).status_code == 404
    # Overseers without the review grant read it, with no decision buttons.
    for user in (tree.gupei_township, tree.bureau_inspector):
        en.force_login(user)
        response = en.get(url)
        assert response.status_code == 200
        assert reverse("submission_accept", kwargs={"pk": sent.pk}) not in response.content.decode()


def test_unlock_is_refused_for_a_sent_submission(en, tree, sent):
    en.force_login(tree.bureau_admin)
    msgs = _msgs(en, en.post(reverse("submission_unlock", kwargs={"pk": sent.pk}), {"until": ""}))
    assert "Only a submission that has not been sent can be unlocked." in msgs
    assert reload(sent).unlocked_until is None


def test_unlock_rejects_a_bad_date(en, tree):
    sub = submission_of(fresh_report(tree, [tree.gupei], days_ago=60), tree.gupei, 1)
    en.force_login(tree.bureau_admin)
    msgs = _msgs(en, en.post(reverse("submission_unlock", kwargs={"pk": sub.pk}), {"until": "not-a-date"}))
    assert msgs and reload(sub).unlocked_until is None
    msgs = _msgs(en, en.post(reverse("submission_unlock", kwargs={"pk": sub.pk}), {"until": "2020-01-01"}))
    assert "The unlock must last until today or later." in msgs
    assert reload(sub).unlocked_until is None
