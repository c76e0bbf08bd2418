"""The township package through the pages and the API: the centre's page names the villages still
waiting and refuses to compile; once all are approved the township admin compiles, follows the
progress and downloads; the bureau finds it from the review of a village's report and in its list,
and downloads it too; the API does the same through its sealed viewset."""
from __future__ import annotations

import io
import re

import openpyxl
import pytest
from django.urls import reverse

from submissions.compile.township import compile_township
from submissions.models import TownshipPackage
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tests.support.api import api_as  # noqa: F401
from tests.support.township import CHILDREN, township_report


def _page(client, tree, period):
    return client.get(reverse("township_packages", kwargs={"pk": tree.gupei.pk}), {"period": period.pk})


def _only_package(tree):
    with tenant_scope([tree.gupei.id]):
        return TownshipPackage.objects.get(school=tree.gupei)


@pytest.mark.platform_language
def test_the_page_names_the_village_still_waiting(client, tree):
    t = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=("gupei-a",))
    client.force_login(tree.gupei_township)
    body = _page(client, tree, t.period).content.decode()
    assert "尚待审核：古沛村小B" in body
    assert re.search(r"<button[^>]*disabled[^>]*>生成乡镇汇总包</button>", body), "the button waits too"
    response = client.post(reverse("township_package_compile", kwargs={"pk": tree.gupei.pk}),
                           {"period": t.period.pk}, follow=True)
    assert "尚待审核：古沛村小B" in response.content.decode()
    with tenant_scope([tree.gupei.id]):
        assert not TownshipPackage.objects.exists(), "refused: nothing written"


def test_compile_progress_download_and_the_bureau(client, tree):
    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    client.force_login(tree.gupei_township)
    response = client.post(reverse("township_package_compile", kwargs={"pk": tree.gupei.pk}),
                           {"period": t.period.pk})
    assert response.status_code == 302
    package = _only_package(tree)
    body = _page(client, tree, t.period).content.decode()
    status_url = reverse("township_package_status", kwargs={"pk": package.pk})
    assert f'data-status-url="{status_url}"' in body and "progress.js" in body
    state = client.get(status_url).json()
    assert (state["version"], state["state"], state["progress"], state["finished"]) == (1, "queued", 0, False)
    compile_township(school_id=tree.gupei.id, package_id=package.pk)  # what the worker does
    assert client.get(status_url).json()["finished"] is True
    body = _page(client, tree, t.period).content.decode()
    xlsx = reverse("township_package_download", kwargs={"pk": package.pk, "kind": "xlsx"})
    assert xlsx in body and "古沛村小B" in body
    # The bureau: from the review of a village's report, its list, and the download.
    client.force_login(tree.bureau_admin)
    review = client.get(reverse("submission_review", kwargs={"pk": t.subs["gupei-b"].pk})).content.decode()
    assert f'{reverse("township_packages", kwargs={"pk": tree.gupei.pk})}?period={t.period.pk}' in review
    overview = client.get(reverse("township_overview")).content.decode()
    assert xlsx in overview
    response = client.get(xlsx)
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    children = next(r for r in rows if r[0] == "在册儿童")  # this module runs in the platform language
    assert children[1:4] == [CHILDREN["gupei"], CHILDREN["gupei-a"], CHILDREN["gupei-b"]]
    with tenant_scope([tree.gupei.id, tree.village_a.id, tree.village_b.id]):
        logged = set(AccessLog.objects.filter(object_type="submissions.townshippackage", action="export",
                                              user=tree.bureau_admin).values_list("school_id", flat=True))
    assert logged == {tree.gupei.id, tree.village_a.id, tree.village_b.id}, "an export on every school in it"
    # Another district's bureau: no such package.
    client.force_login(tree.other_bureau_admin)
    assert client.get(xlsx).status_code == 404


def test_the_api_requests_follows_and_downloads(tree, api_as):  # noqa: F811
    t = township_report(tree.gupei, [tree.village_a, tree.village_b])
    api = api_as("gupei_township")
    response = api.post("/api/v1/township-packages/", {"school": tree.gupei.pk, "period": t.period.pk},
                        format="json", HTTP_IDEMPOTENCY_KEY="township-1")
    assert response.status_code == 201, response.content
    first = response.json()
    assert (first["version"], first["status"], first["downloads"]) == (1, "queued", {})
    again = api.post("/api/v1/township-packages/", {"school": tree.gupei.pk, "period": t.period.pk}, format="json")
    assert again.json()["id"] == first["id"], "nothing changed: the same package"
    compile_township(school_id=tree.gupei.id, package_id=first["id"])
    done = api.get(f"/api/v1/township-packages/{first['id']}/").json()
    assert (done["status"], done["progress"], done["is_current"]) == ("done", 100, True)
    assert [s["code"] for s in done["schools"]] == ["gupei", "gupei-a", "gupei-b"]
    assert api.get(done["downloads"]["docx"]).status_code == 200
    # Listed for the centre's admin too (it takes part in the centre's reporting), not its teacher.
    assert [p["id"] for p in api_as("gupei_admin").get("/api/v1/township-packages/").json()["results"]] == [
        first["id"]]
    assert api_as("gupei_teacher").get("/api/v1/township-packages/").json()["results"] == []
    pending = township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=())
    refused = api.post("/api/v1/township-packages/", {"school": tree.gupei.pk, "period": pending.period.pk},
                       format="json")
    assert refused.status_code == 400
    assert "古沛村小A" in str(refused.json()) and "古沛村小B" in str(refused.json()), "both villages still wait"
