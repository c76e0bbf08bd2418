"""`make run` shows work to do today: the demo seeded as of several days of the year (term time,
the summer holiday, the winter holiday) gives every demo login a start page with work, and every
reporting role an open period due ahead and something the bureau returned with a reason."""
from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tenancy.models import User

# Demo login -> keys its start page must show (besides being non-empty).
EXPECTED = {
    "gupei_teacher": {"contact_letter"},
    "menzhuang_teacher": set(),
    "gupei_clerk": {"due", "returned", "compile"},
    "gupei_admin": {"due", "returned", "guardian_requests_due"},
    "menzhuang_admin": {"due", "returned"},
    # Its village schools' last period: the centre returned one, approved the other (VIA_CENTRE).
    "gupei_township": {"due", "returned_by_centre", "coverage", "to_approve"},
    # 古沛镇魏岗小学's report, returned by its centre school with a reason.
    "gupei_weigang_clerk": {"returned_by_centre"},
    "bureau_admin": {"due", "returned", "review", "late", "flags", "behind", "waiting_centre"},
    "bureau_inspector": {"due", "returned", "late", "flags", "behind"},
}


@pytest.mark.parametrize("today", [dt.date(2026, 12, 6), dt.date(2027, 7, 25), dt.date(2027, 2, 10)], ids=str)
def test_every_demo_login_has_work_today(db, client, settings, tmp_path, today):
    settings.MEDIA_ROOT = str(tmp_path)
    real = timezone.localdate

    def localdate(value=None, *args, **kwargs):  # only "today" moves; converting a given time does not
        return today if value is None else real(value, *args, **kwargs)

    with mock.patch("django.utils.timezone.localdate", side_effect=localdate):
        call_command("seed_demo", today=today, stdout=open("/dev/null", "w"))
        for username, keys in EXPECTED.items():
            client.force_login(User.objects.get(username=username))
            response = client.get(reverse("home"))
            assert response.status_code == 200
            todo = response.context["todo"]
            assert todo.day == today
            items = [i for s in todo.sections for i in s.items]
            assert items and all(i.count > 0 for i in items), username
            shown = {i.key for i in items}
            assert keys <= shown, (username, keys - shown)
            if "due" in keys:
                # An open period whose due date is ahead of today.
                assert any(i.key == "due" and "天" in i.detail for i in items)
            if "returned" in keys and username != "bureau_admin" and username != "bureau_inspector":
                returned = next(i for i in items if i.key == "returned")
                assert client.get(returned.url).status_code == 200, (username, returned.url)
            body = response.content.decode()
            assert all(i.scope in body for i in items)
        _centre_route_states()


def _centre_route_states():
    """The work-update report goes through Gupei's centre school: one village report waits for the
    centre, one was approved and waits for the bureau, one was returned by the centre with a reason."""
    from submissions.demo import CENTRE_RETURN_REASON, CURRENT_CODE
    from submissions.models import Level, Status, Submission
    from tenancy.scoping import system_scope

    with system_scope("test: the demo's village submissions"):
        subs = list(Submission.objects.filter(report_type__code=CURRENT_CODE, school__parent__code="gupei")
                    .exclude(status__in=[Status.OPEN, Status.COMPILED]).select_related("school"))
        seen = {(s.school.code, s.status, s.returned_level) for s in subs}
        assert ("gupei-shiba", Status.APPROVED, "") in seen
        assert ("gupei-shiba", Status.SUBMITTED, "") in seen
        assert ("gupei-weigang", Status.RETURNED, Level.CENTRE) in seen
        assert any(s.review_comment == CENTRE_RETURN_REASON for s in subs)
