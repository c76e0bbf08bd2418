"""District dashboard, school page and drill-down of the compliance UI."""
from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from compliance import selectors, services
from compliance.metrics import register_gaps, register_metric
from compliance.scoring import assessment_scores
from tenancy.models import AccessLog, School
from tenancy.scoping import tenant_scope
from tests.support.compliance import SEMESTER, TEST_YAML, assessment, version  # noqa: F401  (fixtures)


# A test metric whose gaps name a child at every school: exercises masking in the drill-down.
@register_metric("web_test_child_gaps", "儿童缺项（测试）", "Children with gaps (test)", "children")
def _child_gap_value(school_ids, semester):
    return {sid: 0 for sid in School.objects.filter(id__in=school_ids).values_list("id", flat=True)}


@register_gaps("web_test_child_gaps")
def _child_gaps(school_ids, semester):
    return [{"school_id": sid, "detail": "缺少家访", "child": "李小红"} for sid in school_ids]


GAPS_YAML = TEST_YAML.replace("total: 20", "total: 24") + """\
- code: G
  title_zh: 家访
  title_en: Home visits
  items:
  - code: G1
    title_zh: 家访覆盖
    title_en: Home visits done
    points: 4
    check: records
    scoring: automatic
    metric: web_test_child_gaps
    rule: threshold
    threshold: 1
"""


@pytest.fixture
def gap_assessment(tree):
    draft = services.checklist_import_yaml(district=tree.district, text=GAPS_YAML.replace("checklist: test",
                                                                                         "checklist: gaps"),
                                           actor=tree.bureau_admin)
    version = services.checklist_version_publish(version=draft, actor=tree.bureau_admin)
    return services.assessment_create(district=tree.district, checklist_version=version, title="带缺项",
                                      actor=tree.bureau_admin, **SEMESTER)


def _ranking_rows(html: str) -> list[tuple[str, str]]:
    """(school name, score) of each ranking table row, in page order."""
    body = html.split('class="data ranking"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-school="\d+"[^>]*>.*?<a href="[^"]+">([^<]+)</a></td>\s*'
                      r'<td class="num score"><span class="value">([^<]+)</span></td>',
                      body, flags=re.S)


def test_ranking_in_rank_order_with_live_scores(client, tree, assessment):
    services.manual_score_set(assessment=assessment, school=tree.menzhuang, item_code="M1", score=4,
                              actor=tree.bureau_inspector)
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=1,
                              actor=tree.bureau_inspector)
    client.force_login(tree.bureau_admin)
    response = client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk}))
    assert response.status_code == 200
    scores = assessment_scores(assessment, use_cache=False)
    expected = [(scores["schools"][sid]["name"], str(scores["schools"][sid]["score"])) for sid in scores["order"]]
    got = _ranking_rows(response.content.decode())
    assert got == expected
    assert len(got) == 4 and [s for _n, s in got] == sorted((s for _n, s in got), key=float, reverse=True)
    # The chart data is the same ranking, handed to ECharts through json_script (no inline code).
    data = json.loads(re.search(r'<script id="compliance-dashboard-data" type="application/json">(.*?)</script>',
                                response.content.decode(), re.S).group(1))
    assert [(r["name"], r["score"]) for r in data["ranking"]] == [(n, float(s)) for n, s in expected]
    assert len(data["heatmap"]["cells"]) == 4 * len(scores["items"])
    html = response.content.decode()
    assert "compliance/vendor/echarts.min.js" in html and "compliance/dashboard.js" in html
    assert not re.search(r"<script>(?!\s*</script>)", html), "no inline script"


def test_ranking_shows_change_since_last_snapshot(client, tree, assessment):
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=1,
                              actor=tree.bureau_inspector)
    services.snapshot_take(assessment=assessment, actor=tree.bureau_admin)
    services.manual_score_set(assessment=assessment, school=tree.gupei, item_code="M1", score=4,
                              actor=tree.bureau_inspector)
    client.force_login(tree.bureau_admin)
    response = client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk}))
    gupei = next(r for r in response.context["ranking"] if r["school_id"] == tree.gupei.id)
    assert gupei["score_change"] and gupei["score_change"] > 0
    assert f"+{gupei['score_change']}" in response.content.decode()
    # The trend has one point per snapshot for every school.
    assert all(len(t["points"]) == 1 for t in response.context["trend_rows"])


def test_township_sees_its_subtree_only(client, tree, assessment):
    client.force_login(tree.gupei_township)
    response = client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk}))
    assert response.status_code == 200
    assert {r["name"] for r in response.context["ranking"]} == {"古沛中心小学", "古沛村小A", "古沛村小B"}
    assert "门庄小学" not in response.content.decode()


def test_school_users_get_their_school_not_the_ranking(client, tree, assessment):
    client.force_login(tree.menzhuang_admin)
    response = client.get(reverse("compliance_dashboard", kwargs={"pk": assessment.pk}))
    assert response.status_code == 302
    assert response["Location"] == reverse("compliance_school", kwargs={"pk": assessment.pk,
                                                                        "school_pk": tree.menzhuang.pk})


def test_school_page_only_own_school(client, tree, assessment):
    client.force_login(tree.menzhuang_admin)
    own = client.get(reverse("compliance_school", kwargs={"pk": assessment.pk, "school_pk": tree.menzhuang.pk}))
    assert own.status_code == 200
    report = selectors.school_report(tree.bureau_admin, assessment, tree.menzhuang.pk)
    assert own.context["report"]["score"] == report["score"]
    # Items are sorted by points lost, and every lost point is in "what to do next".
    lost = [it["lost"] for it in own.context["report"]["items"]]
    assert lost == sorted(lost, reverse=True)
    assert [s["code"] for s in own.context["report"]["next_steps"]] == [
        it["code"] for it in report["items"] if it["lost"] > 0]
    for other in (tree.gupei, tree.village_a, tree.far_school):
        response = client.get(reverse("compliance_school", kwargs={"pk": assessment.pk, "school_pk": other.pk}))
        assert response.status_code == 404, other.code
        response = client.get(reverse("compliance_item", kwargs={"pk": assessment.pk, "school_pk": other.pk,
                                                                 "code": "T1"}))
        assert response.status_code == 404, other.code


def test_dashboard_of_a_subtree_not_theirs_is_404(client, tree, version):
    gupei_only = services.assessment_create(district=tree.district, checklist_version=version, title="古沛片",
                                            root_school=tree.gupei, actor=tree.bureau_admin, **SEMESTER)
    for username in ("menzhuang_admin", "menzhuang_teacher"):
        client.force_login(getattr(tree, username))
        assert client.get(reverse("compliance_dashboard", kwargs={"pk": gupei_only.pk})).status_code == 404
    client.force_login(tree.gupei_township)
    assert client.get(reverse("compliance_dashboard", kwargs={"pk": gupei_only.pk})).status_code == 200


def test_drilldown_masks_names_without_identity_permission(client, tree, gap_assessment):
    url = reverse("compliance_item", kwargs={"pk": gap_assessment.pk, "school_pk": tree.gupei.pk, "code": "G1"})
    # The bureau admin has no identity permission: the child is masked, nothing logged.
    client.force_login(tree.bureau_admin)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "李**" in html and "李小红" not in html and "缺少家访" in html
    with tenant_scope([tree.gupei.id]):
        assert not AccessLog.objects.filter(object_type="compliance.gaps").exists()
    # The school's own admin holds view_child_identity: the name shows, and the read is logged.
    client.force_login(tree.gupei_admin)
    html = client.get(url).content.decode()
    assert "李小红" in html
    with tenant_scope([tree.gupei.id]):
        log = AccessLog.objects.get(object_type="compliance.gaps")
    assert (log.user, log.action, log.object_id) == (tree.gupei_admin, "view", f"{gap_assessment.pk}:G1")
    # The township admin oversees gupei but has no identity permission either.
    client.force_login(tree.gupei_township)
    html = client.get(url).content.decode()
    assert "李**" in html and "李小红" not in html


def test_drilldown_without_a_gaps_hook_says_no_detail(client, tree, assessment):
    client.force_login(tree.bureau_admin)
    response = client.get(reverse("compliance_item", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk,
                                                             "code": "T1"}))
    assert response.status_code == 200
    assert response.context["data"]["has_gaps_hook"] is False
    assert "No detail" in response.content.decode() or "没有明细" in response.content.decode()


def test_drilldown_unknown_item_is_404(client, tree, assessment):
    client.force_login(tree.bureau_admin)
    url = reverse("compliance_item", kwargs={"pk": assessment.pk, "school_pk": tree.gupei.pk, "code": "NOPE"})
    assert client.get(url).status_code == 404


def test_nav_links_per_role(client, tree, assessment):
    client.force_login(tree.bureau_admin)
    links = {item.url: item.label for item in client.get(reverse("compliance_index")).context["nav_items"]}
    assert {reverse("compliance_index"), reverse("compliance_exports_latest"), reverse("compliance_checklists")} <= set(links)
    client.force_login(tree.gupei_teacher)
    urls = {item.url for item in client.get(reverse("compliance_index")).context["nav_items"]}
    assert reverse("compliance_my_score") in urls and reverse("compliance_exports_latest") not in urls
    assert reverse("compliance_index") not in urls
    response = client.get(reverse("compliance_my_score"))
    assert response["Location"] == reverse("compliance_school", kwargs={"pk": assessment.pk,
                                                                        "school_pk": tree.gupei.pk})
