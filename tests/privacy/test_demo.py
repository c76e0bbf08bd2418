"""The demo's paperwork: the consent register agrees with each child's consent, the schools with
an admin have their data officer, and Gupei's admin has a guardian's request due in a few days on the start page."""
from __future__ import annotations

import datetime as dt

from django.urls import reverse

from privacy import demo as privacy_demo
from privacy.models import ConsentRecord, DataOfficer, GuardianRequest
from schools import demo as schools_demo
from schools.models import Child
from tenancy import demo as tenancy_demo
from tenancy.models import School
from tenancy.scoping import tenant_scope


def _counts():
    with tenant_scope(School.objects.values_list("id", flat=True)):
        return [m.objects.count() for m in (ConsentRecord, DataOfficer, GuardianRequest)]


def test_demo_paperwork_matches_the_children(db, client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    ctx: dict = {}
    tenancy_demo.seed(ctx)
    schools_demo.seed(ctx)
    privacy_demo.seed(ctx)
    today = ctx["today"]
    with tenant_scope(School.objects.values_list("id", flat=True)):
        for school in ctx["schools"].values():
            for child in Child.objects.filter(school=school):
                decisions = list(ConsentRecord.objects.filter(child=child).values_list("decision", "decided_on"))
                if child.consent == Child.Consent.PENDING:
                    assert decisions == []
                else:
                    assert decisions == [(child.consent, child.consent_date)]
        # A school with a demo admin has named that admin.
        for code in ("gupei", "menzhuang"):
            officer = DataOfficer.objects.get(school=ctx["schools"][code])
            assert officer.user == ctx["users"][f"{code}_admin"]
        refused = ConsentRecord.objects.filter(decision="refused")
        assert refused.exists() and all(r.limits for r in refused)
        open_requests = GuardianRequest.objects.filter(status="open")
        assert open_requests.count() == 1
        req = open_requests.get()
        assert req.school == ctx["schools"]["gupei"] and 0 < (req.due_on - today).days <= 7
    before = _counts()
    privacy_demo.seed(ctx)
    assert _counts() == before  # idempotent
    client.force_login(ctx["users"]["gupei_admin"])
    response = client.get(reverse("home"))
    keys = {i.key for s in response.context["todo"].sections for i in s.items}
    assert "guardian_requests_due" in keys
    overview = client.get(reverse("privacy_overview", kwargs={"school_pk": ctx["schools"]["gupei"].pk}))
    assert overview.status_code == 200
    assert today - dt.timedelta(days=privacy_demo.REQUEST_AGE_DAYS) == req.received_on
