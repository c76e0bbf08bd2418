"""The district's setting whether the compliance measures count the reports a centre school has not
approved yet: on by default (a village's report counts once sent), off (only once approved or
accepted). Set by the bureau admin on the checklists page; the score follows at once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from compliance import metrics, selectors, services
from compliance.models import DistrictComplianceSettings, SemesterWindow
from tenancy.models import AccessLog
from tenancy.scoping import district_scope, tenant_scope
from tests.support.township import township_report


def _on_time(tree, ids):
    today = timezone.localdate()
    window = SemesterWindow(start=today - timedelta(days=60), end=today + timedelta(days=60), label="本学期")
    with tenant_scope(ids):
        return metrics.compute_metrics(["submissions_on_time"], ids, window)["submissions_on_time"]


@pytest.fixture
def sent(tree):
    """Period 1 sent on time by the centre and both villages; the centre approved village A only."""
    return township_report(tree.gupei, [tree.village_a, tree.village_b], children=False, approve=("gupei-a",),
                           today=timezone.localdate() + timedelta(days=20))


def test_the_setting_changes_the_figure(tree, sent):
    ids = [tree.gupei.id, tree.village_a.id, tree.village_b.id]
    with district_scope(tree.district):
        assert selectors.district_settings(tree.district.id).count_unapproved_submissions, "on by default"
    assert _on_time(tree, ids) == {tree.gupei.id: 1.0, tree.village_a.id: 1.0, tree.village_b.id: 1.0}
    services.district_settings_update(district=tree.district, actor=tree.bureau_admin,
                                      count_unapproved_submissions=False)
    # Village B is sent but not approved: it no longer counts; the centre's own and the approved
    # village's do. (Not due yet, so village B's period is not expected at all.)
    assert _on_time(tree, ids) == {tree.gupei.id: 1.0, tree.village_a.id: 1.0, tree.village_b.id: None}
    services.district_settings_update(district=tree.district, actor=tree.bureau_admin,
                                      count_unapproved_submissions=True)
    assert _on_time(tree, ids)[tree.village_b.id] == 1.0


def test_the_setting_is_the_bureau_admins_and_per_district(tree, sent):
    for user in (tree.bureau_inspector, tree.gupei_township, tree.other_bureau_admin):
        with pytest.raises(PermissionDenied):
            services.district_settings_update(district=tree.district, actor=user, count_unapproved_submissions=False)
    services.district_settings_update(district=tree.other_district, actor=tree.other_bureau_admin,
                                      count_unapproved_submissions=False)
    with district_scope(tree.district):
        assert not DistrictComplianceSettings.objects.filter(district=tree.district).exists()
    assert _on_time(tree, [tree.village_b.id]) == {tree.village_b.id: 1.0}, "another district's setting"


@pytest.mark.platform_language
def test_the_checklists_page_edits_it(client, tree, sent):
    client.force_login(tree.bureau_admin)
    page = client.get(reverse("compliance_checklists")).content.decode()
    assert 'id="district-settings"' in page and "计入中心校尚未审核的报送" in page
    response = client.post(reverse("compliance_district_settings"), {"district": tree.district.pk})
    assert response.status_code == 302
    with district_scope(tree.district):
        assert not selectors.district_settings(tree.district.id).count_unapproved_submissions
    assert _on_time(tree, [tree.village_b.id]) == {tree.village_b.id: None}
    with tenant_scope([tree.gupei.id]):
        assert AccessLog.objects.filter(school=tree.gupei, object_type="compliance.districtcompliancesettings",
                                        action="update", user=tree.bureau_admin).exists()
    # Another district's id is not the user's to set.
    other = client.post(reverse("compliance_district_settings"),
                        {"district": tree.other_district.pk, "count_unapproved_submissions": "on"})
    assert other.status_code == 404
    # The inspector reads checklists but does not see the settings form.
    client.force_login(tree.bureau_inspector)
    assert 'id="district-settings"' not in client.get(reverse("compliance_checklists")).content.decode()
