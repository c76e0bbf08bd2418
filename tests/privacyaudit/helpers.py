"""A crafted year of records for the audit pack's tests: known numbers of children by age,
consents, guardian requests, reads, exports, purges, lockouts, two-factor failures, token
revocations and breaches, in the tree's district, and a few in the other district that must not
count. Shared by the domain, worker and page tests."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from axes.models import AccessAttempt
from django.conf import settings
from django.utils import timezone

from privacy.models import ConsentRecord, GuardianRequest
from privacyaudit import services
from schools import services as school_services
from schools.models import Child
from tenancy import tokens
from tenancy.models import AccessLog
from tenancy.scoping import system_scope, tenant_scope
from tenancy.services import access_log_record, access_log_record_many
from tests.web.pages_archive import make_child

# A name no file or page of the pack may contain.
SECRET_NAME = "秘密孩子"


@dataclass
class World:
    year: int
    children: list = field(default_factory=list)
    expected: dict = field(default_factory=dict)


def _years_ago(years: int) -> dt.date:
    """A birth date `years` and a month before today (clear of birthdays on the report's date)."""
    return timezone.localdate() - dt.timedelta(days=365 * years + 30)


def craft(tree) -> World:
    today = timezone.localdate()
    w = World(year=today.year)
    gupei, menzhuang, far = tree.gupei, tree.menzhuang, tree.far_school
    # Children: 3 under 14, 2 aged 14 to 18, 1 with no birth date; one more who left and is purged.
    under = [make_child(gupei, name=f"{SECRET_NAME}{i}", birth_date=_years_ago(9)) for i in range(2)]
    under.append(make_child(menzhuang, name=f"{SECRET_NAME}M", birth_date=_years_ago(10)))
    teens = [make_child(gupei, name=f"{SECRET_NAME}T{i}", birth_date=_years_ago(15)) for i in range(2)]
    unknown = make_child(menzhuang, name=f"{SECRET_NAME}U", birth_date=None)
    refuser = make_child(gupei, name=f"{SECRET_NAME}R", birth_date=_years_ago(8))
    leaving = make_child(menzhuang, name=f"{SECRET_NAME}L", birth_date=_years_ago(11))
    make_child(far, name=f"{SECRET_NAME}F", birth_date=_years_ago(9))  # another district
    w.children = under + teens + [unknown, refuser]
    with tenant_scope([gupei.id, menzhuang.id]):
        # Consent on the child: 2 given (one under 14), 1 refused (which keeps only the minimum:
        # no birth date), the rest not yet recorded.
        Child.objects.filter(pk__in=[under[0].pk, teens[0].pk]).update(consent="given", consent_date=today)
        cleared = Child.sensitive_cleared()
        Child.objects.filter(pk=refuser.pk).update(consent="refused", consent_date=None, **cleared)
        Child.objects.filter(pk__in=[under[1].pk, under[2].pk, teens[1].pk, unknown.pk]).update(
            consent="pending", consent_date=None)
        Child.objects.filter(pk=leaving.pk).update(status="transferred", status_since=today - dt.timedelta(days=3))
    with tenant_scope([menzhuang.id]):
        purged = school_services.children_purge_expired(school=menzhuang, retention_days=1)
    assert purged == 1
    # Consent decisions recorded in the year: 2 given, 1 refused, 1 withdrawn (+1 elsewhere).
    decisions = [(gupei, under[0], "given"), (gupei, teens[0], "given"), (gupei, refuser, "refused"),
                 (menzhuang, under[2], "withdrawn")]
    with system_scope("test: consent records"):
        for school, child, decision in decisions:
            ConsentRecord.objects.create(school=school, child=child, decision=decision, guardian_name="监护人",
                                         method="纸质", decided_on=today)
        far_child = Child.objects.get(school=far)
        ConsentRecord.objects.create(school=far, child=far_child, decision="given", guardian_name="监护人",
                                     method="纸质", decided_on=today)
        # Guardian requests: one open past due, one done (late), one refused, one open not yet due.
        past = max(dt.date(today.year, 1, 1), today - dt.timedelta(days=20))
        GuardianRequest.objects.create(school=gupei, child=under[0], child_label="x", kind="see",
                                       requester_name="监护人", received_on=past, due_on=past)
        GuardianRequest.objects.create(school=gupei, child=under[1], child_label="x", kind="correct",
                                       requester_name="监护人", received_on=past, due_on=past, status="done",
                                       closed_on=today, outcome="改正")
        GuardianRequest.objects.create(school=menzhuang, child=under[2], child_label="x", kind="delete",
                                       requester_name="监护人", received_on=today, due_on=today, status="refused",
                                       closed_on=today, outcome="不符合")
        GuardianRequest.objects.create(school=menzhuang, child=None, child_label="x", kind="delete",
                                       requester_name="监护人", received_on=today,
                                       due_on=today + dt.timedelta(days=15))
        GuardianRequest.objects.create(school=far, child=None, child_label="x", kind="see",
                                       requester_name="监护人", received_on=past, due_on=past)
    # Reads of sensitive records: 4 by the gupei admin, 2 by the bureau admin (+1 elsewhere).
    for child in (under[0], under[0], under[1], teens[0]):
        access_log_record(user=tree.gupei_admin, school_id=gupei.id, action=AccessLog.Action.VIEW, obj=child)
    for child in (under[2], unknown):
        access_log_record(user=tree.bureau_admin, school_id=menzhuang.id, action=AccessLog.Action.VIEW, obj=child)
    access_log_record(user=tree.other_admin, school_id=far.id, action=AccessLog.Action.VIEW, object_type="schools.child",
                      object_id="1")
    # One archive export of gupei's 4 children (one row per child, one INSERT).
    access_log_record_many(user=tree.gupei_admin, school_id=gupei.id, object_ids=[c.pk for c in under[:2] + teens],
                           action=AccessLog.Action.EXPORT, object_type="schools.child")
    # Lockouts: one of this district's staff locked out, one with a wrong password only (+1 elsewhere).
    limit = settings.AXES_FAILURE_LIMIT
    for username, failures in (("gupei_teacher", limit), ("menzhuang_admin", 2), ("other_teacher", limit)):
        AccessAttempt.objects.create(username=username, ip_address="10.0.0.1", user_agent="t", http_accept="*/*",
                                     path_info="/login/", get_data="", post_data="", failures_since_start=failures)
    # Two wrong two-factor codes of the gupei admin; one token issued and revoked by the gupei teacher.
    for _i in range(2):
        access_log_record(user=tree.gupei_admin, school_id=gupei.id, action=AccessLog.Action.VERIFY,
                          object_type="otp_totp.totpdevice", object_id="1", detail={"event": "verify", "ok": False})
    token, _key = tokens.api_token_issue(user=tree.gupei_teacher, name="phone")
    tokens.api_token_revoke(actor=tree.gupei_teacher, token=token)
    # Breaches: the bureau's (gupei and menzhuang, 7 children, one notice to 7 guardians) and
    # menzhuang's own (2 children, no notice yet: an open finding).
    district_breach = services.breach_record(
        actor=tree.bureau_admin, district=tree.district, occurred_on=today, discovered_on=today,
        data_involved="监护人电话", children_affected=7, description="名单误发到家长群", measures="撤回消息",
        affected_schools=[gupei, menzhuang])
    services.breach_notice_record(actor=tree.bureau_admin, breach=district_breach, method="sms", sent_on=today,
                                  guardians_notified=7, text="您孩子的监护人电话被误发，已撤回。")
    services.breach_record(actor=tree.menzhuang_admin, district=tree.district, school=menzhuang, occurred_on=today,
                           discovered_on=today, data_involved="照片", children_affected=2,
                           description="照片外传", measures="删除")
    w.expected = {
        "children_held": 7, "children_under_14": 3, "children_14_to_18": 2, "children_birth_unknown": 2,
        "sensitive_reads": 6, "sensitive_readers": 2,
        "archive_exports": 1, "archive_records_exported": 4,
        "child_consent_given": 2, "child_consent_refused": 1, "child_consent_pending": 4,
        "consent_records_given": 2, "consent_records_refused": 1, "consent_records_withdrawn": 1,
        "requests_received": 4, "requests_see": 1, "requests_correct": 1, "requests_delete": 2,
        "requests_done": 1, "requests_refused": 1, "requests_closed_late": 1 if past < today else 0,
        "requests_open": 2, "overdue_requests": 1 if past < today else 0,
        "children_purged": 1, "purge_log_rows": 1,
        "lockouts": 1, "failed_sign_ins": 2, "two_factor_failed": 2, "tokens_issued": 1, "tokens_revoked": 1,
        "breaches": 2, "breach_children": 9, "breach_notices": 1, "breach_guardians_notified": 7,
        "breaches_without_notice": 1,
        # Under 14 and active without consent given: under[1] and under[2] (pending).
        "under_14_without_consent": 2,
        "district_exports": 0, "compliance_exports": 0,
    }
    return w
