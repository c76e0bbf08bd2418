"""The approval route through the API: the whole chain as submission-events, the filter by approval
state, another centre's township admin (404), the village school's own admin (403), and a bulk
approval of 20 schools in ONE request writing 20 audited events."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from submissions import services
from submissions.models import ApprovalRoute, Level, Status, SubmissionEvent
from tenancy import services as tenancy_services
from tenancy.models import AccessLog
from tenancy.roles import Role
from tenancy.scoping import system_school_ids, tenant_scope
from tests.support.api import client_for
from tests.support.language import english_messages  # noqa: F401  (autouse)
from tests.web.pages_submissions import compile_with_files, fresh_report, reload, submission_of

URL = "/api/v1/"


def via_centre_report(tree, schools):
    rt = fresh_report(tree, schools)
    return services.report_type_update(actor=tree.bureau_admin, report_type=rt, route=ApprovalRoute.VIA_CENTRE)


def _act(client, sub, action, comment="", status=201, **extra):
    r = client.post(f"{URL}submission-events/", {"submission": sub.pk, "action": action, "comment": comment, **extra},
                    format="json")
    assert r.status_code == status, r.content
    return r


def _state(client, sub):
    return client.get(f"{URL}submissions/{sub.pk}/").json()


def _village_sends(tree, sub, client, text):
    with tenant_scope([sub.school_id]):
        services.narrative_update(actor=tree.village_a_admin, submission=reload(sub), sections={"s1": text})
    compile_with_files(reload(sub), tree.village_a_admin)
    return _act(client, sub, "submit")


def test_the_whole_chain_through_the_api(api_as, tree):
    rt = via_centre_report(tree, [tree.gupei, tree.village_a])
    sub = submission_of(rt, tree.village_a, 2)
    village, centre, bureau = api_as("village_a_admin"), api_as("gupei_township"), api_as("bureau_admin")

    _village_sends(tree, sub, village, "第一稿")
    assert _state(centre, sub)["approval"] == {"route": "via_centre", "via_centre": True,
                                               "bureau": "waiting_below", "centre": "ready"}
    # The filter by approval state follows the same rule.
    ready = centre.get(f"{URL}submissions/", {"approval_state": "ready", "approval_level": "centre"}).json()
    assert [row["id"] for row in ready["results"]] == [sub.pk]
    assert bureau.get(f"{URL}submissions/", {"approval_state": "ready"}).json()["count"] == 0
    _act(bureau, sub, "accept", status=400)  # not approved by the centre yet
    _act(village, sub, "approve", status=403)  # the village school never approves its own
    _act(centre, sub, "centre_return", "", status=400)  # a return needs the reason
    _act(centre, sub, "centre_return", "缺少照片")
    assert _state(village, sub)["status"] == Status.RETURNED

    _village_sends(tree, sub, village, "第二稿")
    event = _act(centre, sub, "approve").json()
    assert (event["action"], event["level"], event["actor"]) == ("approve", "centre", "gupei_township")
    assert _state(bureau, sub)["approval"]["bureau"] == "ready"
    # Locked for the school while the bureau decides.
    _act(village, sub, "submit", status=400)
    assert village.post(f"{URL}package-versions/", {"submission": sub.pk}, format="json").status_code == 400

    _act(bureau, sub, "return", "人数不一致")
    assert _state(centre, sub)["approval"] == {"route": "via_centre", "via_centre": True,
                                               "bureau": "returned", "centre": "ready"}
    _act(centre, sub, "centre_return", "请核对人数")
    _village_sends(tree, sub, village, "第三稿")
    _act(centre, sub, "approve")
    _act(centre, sub, "withdraw", "再看一遍")
    _act(centre, sub, "approve")
    _act(bureau, sub, "accept")
    assert _state(village, sub)["status"] == Status.ACCEPTED
    _act(centre, sub, "withdraw", status=400)  # the bureau has decided

    events = bureau.get(f"{URL}submission-events/", {"submission": sub.pk}).json()["results"]
    trail = [(e["action"], e["level"], e["actor"], e["comment"]) for e in events
             if e["action"] not in ("open", "compile", "narrative")]
    assert trail == [
        ("submit", "school", "village_a_admin", ""), ("return", "centre", "gupei_township", "缺少照片"),
        ("resubmit", "school", "village_a_admin", ""), ("approve", "centre", "gupei_township", ""),
        ("return", "bureau", "bureau_admin", "人数不一致"), ("return", "centre", "gupei_township", "请核对人数"),
        ("resubmit", "school", "village_a_admin", ""), ("approve", "centre", "gupei_township", ""),
        ("withdraw", "centre", "gupei_township", "再看一遍"), ("approve", "centre", "gupei_township", ""),
        ("accept", "bureau", "bureau_admin", ""),
    ]


@pytest.fixture
def second_centre(tree):
    """A second township centre school in the same district, with its own village and township admin."""
    centre = tenancy_services.school_create(district=tree.district, name="苏巷中心小学", code="suxiang")
    village = tenancy_services.school_create(district=tree.district, name="苏巷村小", code="suxiang-a",
                                             parent=centre)
    admin = tenancy_services.user_create(username="suxiang_township", password="Demo2026!")
    tenancy_services.membership_grant(user=admin, role=Role.TOWNSHIP_ADMIN, school=centre)
    return centre, village, admin


def test_another_centres_township_admin_gets_404(api_as, tree, second_centre):
    _centre, _village, other = second_centre
    rt = via_centre_report(tree, [tree.village_a])
    sub = submission_of(rt, tree.village_a, 2)
    _village_sends(tree, sub, api_as("village_a_admin"), "稿")
    client = client_for(other)
    assert client.get(f"{URL}submissions/{sub.pk}/").status_code == 404
    assert client.get(f"{URL}submissions/", {"approval_state": "ready", "approval_level": "centre"}
                      ).json()["count"] == 0
    # Not a submission it can see: the same "does not exist" as an unknown id.
    _act(client, sub, "approve", status=400)
    r = client.post(f"{URL}approval-batches/", {"action": "approve", "submissions": [sub.pk]}, format="json")
    assert r.status_code == 400
    assert reload(sub).status == Status.SUBMITTED


def test_bulk_approval_of_20_schools_is_one_request_with_20_audited_events(api_as, tree):
    villages = [tenancy_services.school_create(district=tree.district, name=f"古沛村小{i:02d}", code=f"bulk-{i}",
                                               parent=tree.gupei) for i in range(20)]
    admins = []
    for i, school in enumerate(villages):
        user = tenancy_services.user_create(username=f"bulk_admin_{i}", password="Demo2026!")
        tenancy_services.membership_grant(user=user, role=Role.SCHOOL_ADMIN, school=school)
        admins.append(user)
    rt = via_centre_report(tree, villages)
    subs = []
    for school, admin in zip(villages, admins, strict=True):
        sub = submission_of(rt, school, 2)
        compile_with_files(sub, admin)
        with tenant_scope([school.id]):
            services.submission_submit(actor=admin, submission=reload(sub), enqueue_similarity=False)
        subs.append(sub)

    centre = api_as("gupei_township")
    with CaptureQueriesContext(connection) as ctx:
        r = centre.post(f"{URL}approval-batches/", {"action": "approve", "submissions": [s.pk for s in subs],
                                                    "comment": "本期材料齐全"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert sorted(body["submission_ids"]) == sorted(s.pk for s in subs)
    print(f"bulk approve of 20: {len(ctx.captured_queries)} queries")
    with tenant_scope(system_school_ids()):
        events = SubmissionEvent.objects.filter(submission__in=[s.pk for s in subs], action="approve")
        assert events.count() == 20
        assert {(e.level, e.actor_id, e.comment) for e in events} == {
            (Level.CENTRE, tree.gupei_township.pk, "本期材料齐全")}
        audited = AccessLog.objects.filter(object_type="submissions.submission",
                                           object_id__in=[str(s.pk) for s in subs], user=tree.gupei_township,
                                           detail__transition="approve").count()
        assert audited == 20
        assert AccessLog.objects.filter(object_type="submissions.approvalbatch", object_id=str(body["id"])).count() == 1
    assert {reload(s).status for s in subs} == {Status.APPROVED}
    # The bureau now finds all 20 ready for its decision.
    assert api_as("bureau_admin").get(f"{URL}submissions/", {"approval_state": "ready", "report_type": rt.pk}
                                      ).json()["count"] == 20


def test_a_bulk_return_refuses_all_when_one_is_not_waiting(api_as, tree):
    rt = via_centre_report(tree, [tree.village_a, tree.village_b])
    a, b = submission_of(rt, tree.village_a, 2), submission_of(rt, tree.village_b, 2)
    _village_sends(tree, a, api_as("village_a_admin"), "稿")
    r = api_as("gupei_township").post(f"{URL}approval-batches/", {"action": "return", "submissions": [a.pk, b.pk],
                                                                  "comment": "请补充"}, format="json")
    assert r.status_code == 400, r.content
    assert reload(a).status == Status.SUBMITTED
    with tenant_scope([a.school_id]):
        assert not SubmissionEvent.objects.filter(submission=a.pk, action="return").exists()


def test_the_bureau_sets_the_route_of_a_report_type(api_as, tree):
    rt = fresh_report(tree, [tree.village_a])
    url = f"{URL}report-types/{rt.pk}/"
    assert api_as("bureau_admin").get(url).json()["route"] == "direct"
    assert api_as("gupei_township").patch(url, {"route": "via_centre"}, format="json").status_code == 403
    r = api_as("bureau_admin").patch(url, {"route": "via_centre"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["route"] == "via_centre"
    assert api_as("bureau_admin").patch(url, {"route": "nowhere"}, format="json").status_code == 400
