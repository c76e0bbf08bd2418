"""The API side of the deliberate decisions: a stale narrative save is a 409, a returned submission
sent back unchanged needs a note, the bureau's reminder and the unlock requests."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from submissions import services
from submissions.models import Status, Submission, UnlockRequest
from tenancy.scoping import tenant_scope
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.web.pages_submissions import compile_with_files, fresh_report, reload, submission_of

URL = "/api/v1/"


@pytest.fixture
def sub(tree):
    return submission_of(fresh_report(tree, [tree.gupei, tree.menzhuang]), tree.gupei, 2)


def test_a_stale_narrative_save_is_a_409_and_changes_nothing(api_as, tree, sub):
    admin, clerk = api_as("gupei_admin"), api_as("gupei_clerk")
    created = admin.post(f"{URL}narratives/", {"submission": sub.pk, "sections": {"s1": "甲"}, "version": 0},
                         format="json")
    assert created.status_code == 201, created.content
    pk, version = created.json()["id"], created.json()["version"]
    assert version == 1
    # Both loaded version 1; the admin saves first, the clerk's save is refused.
    assert admin.patch(f"{URL}narratives/{pk}/", {"sections": {"s1": "甲乙"}, "version": 1},
                       format="json").status_code == 200
    stale = clerk.patch(f"{URL}narratives/{pk}/", {"sections": {"s1": "丙"}, "version": 1}, format="json")
    assert stale.status_code == 409
    assert "saved this narrative while you were editing" in stale.json()["detail"]
    fresh = clerk.get(f"{URL}narratives/{pk}/").json()
    assert (fresh["sections"], fresh["version"]) == ({"s1": "甲乙"}, 2)
    assert clerk.patch(f"{URL}narratives/{pk}/", {"sections": {"s1": "丙"}, "version": 2},
                       format="json").status_code == 200


def test_resending_a_returned_submission_unchanged_needs_a_note(api_as, tree, sub):
    compile_with_files(sub, tree.gupei_clerk)
    clerk, bureau = api_as("gupei_clerk"), api_as("bureau_admin")
    events = f"{URL}submission-events/"
    assert clerk.post(events, {"submission": sub.pk, "action": "submit"}, format="json").status_code == 201
    assert bureau.post(events, {"submission": sub.pk, "action": "return", "comment": "请补充"},
                       format="json").status_code == 201
    compile_with_files(reload(sub), tree.gupei_clerk)  # the same content again
    refused = clerk.post(events, {"submission": sub.pk, "action": "submit"}, format="json")
    assert refused.status_code == 400 and "note" in refused.json()
    assert reload(sub).status == Status.RETURNED
    sent = clerk.post(events, {"submission": sub.pk, "action": "submit", "note": "材料已齐全，无需修改"}, format="json")
    assert sent.status_code == 201 and sent.json()["comment"] == "材料已齐全，无需修改"
    assert reload(sub).status == Status.RESUBMITTED


def test_the_bureau_reminds_a_school_once_a_day(api_as, tree):
    late = submission_of(fresh_report(tree, [tree.gupei]), tree.gupei, 1)  # due a few days ago
    bureau = api_as("bureau_admin")
    body = {"submission": late.pk, "action": "remind"}
    first = bureau.post(f"{URL}submission-events/", body, format="json")
    assert first.status_code == 201 and first.json()["action"] == "remind"
    again = bureau.post(f"{URL}submission-events/", body, format="json")
    assert again.status_code == 400 and "already reminded" in str(again.json())
    assert api_as("gupei_admin").post(f"{URL}submission-events/", body, format="json").status_code == 403


def test_unlock_request_then_the_bureau_grants_it(api_as, tree):
    locked = submission_of(fresh_report(tree, [tree.gupei], days_ago=40, lock_after_days=3), tree.gupei, 1)
    assert services.submission_is_locked(locked, timezone.localdate())
    asked = api_as("gupei_admin").post(f"{URL}unlock-requests/", {"submission": locked.pk, "reason": "管理员住院"},
                                       format="json")
    assert asked.status_code == 201 and asked.json()["status"] == "pending"
    pk = asked.json()["id"]
    granted = api_as("bureau_admin").patch(f"{URL}unlock-requests/{pk}/", {"status": "granted"}, format="json")
    assert granted.status_code == 200 and granted.json()["status"] == "granted"
    assert reload(locked).unlocked_until == timezone.localdate() + timedelta(days=7)
    again = api_as("bureau_admin").patch(f"{URL}unlock-requests/{pk}/", {"status": "refused"}, format="json")
    assert again.status_code == 400 and "already been decided" in str(again.json())
    with tenant_scope([tree.gupei.id]):
        assert UnlockRequest.objects.get(pk=pk).status == UnlockRequest.State.GRANTED
        assert Submission.objects.get(pk=locked.pk).status == Status.OPEN
