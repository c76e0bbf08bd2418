"""The demo (`make run`): the risk check ran on the demo children's register values, and
gupei_teacher's start page shows their follow-up cases (one overdue, one due within the week)."""
from __future__ import annotations

import os

from django.core.management import call_command
from django.urls import reverse

from care.models import Case, Referral
from tenancy.models import School, User
from tenancy.scoping import tenant_scope


def test_the_demo_gives_the_teacher_cases_and_the_admin_a_risk_list(db, client, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    teacher = User.objects.get(username="gupei_teacher")
    client.force_login(teacher)
    items = {i.key: i for s in client.get(reverse("home")).context["todo"].sections for i in s.items}
    assert items["cases_overdue"].count >= 1 and items["cases_due"].count >= 1
    gupei = School.objects.get(pk=items["cases_overdue"].school_id)
    page = client.get(items["cases_overdue"].url).content.decode()
    assert "case-overdue" in page and "case-soon" in page
    with tenant_scope([gupei.pk]):
        assert Case.objects.filter(school=gupei, opened_reason__in=("risk", "unattended")).count() >= 2
        assert Referral.objects.filter(school=gupei).count() == 1
    client.force_login(User.objects.get(username="gupei_admin"))
    response = client.get(reverse("care_risk", args=[gupei.pk]))
    assert response.status_code == 200 and response.context["counts"]["high"] >= 1
    # Seeding again changes nothing.
    with tenant_scope([gupei.pk]):
        before = Case.objects.count()
    call_command("seed_demo", stdout=open(os.devnull, "w"))
    with tenant_scope([gupei.pk]):
        assert Case.objects.count() == before
