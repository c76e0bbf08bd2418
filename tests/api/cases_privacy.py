"""Isolation cases of the minors'-data paperwork (api/privacy.py). Labels as in harness.py ("a"
gupei, "village" village_a, "b" menzhuang, "far" another district). Only each school's admin sees
its rows: the teacher, the clerk, the township and the bureau see none (the paperwork names
children and guardians; overseers get no rows, not even counts, from these endpoints)."""
from __future__ import annotations

from django.utils import timezone

from privacy import services as ps
from tenancy.scoping import tenant_scope

from .cases_schools import child
from .harness import Case, Logged, logged, register

ADMINS_SEE = {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}}
ADMINS_WRITE = {"gupei_admin": {"a"}, "menzhuang_admin": {"b"}}


def today():
    return timezone.localdate()


def _schools(tree):
    return {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}


def _consents(tree):
    out = {}
    for label, school in _schools(tree).items():
        kid = child(school, consent_date=None)
        with tenant_scope([school.id]):
            out[label] = ps.consent_record(actor=None, child=kid, decision="given", guardian_name="王奶奶",
                                           method="纸质签字", decided_on=today())
    return out


def _consent_payloads(tree, objs):
    return {label: {"child": child(school, consent_date=None).id, "decision": "given", "guardian_name": "王奶奶",
                    "method": "微信", "decided_on": today().isoformat()}
            for label, school in _schools(tree).items() if label != "village"}


def _consent_logged(action, record, user):
    # The decision is recorded, and the child's consent follows it (an update of the child).
    return logged(record, action, user) + [Logged(record.school_id, "update", "schools.child", str(record.child_id),
                                                  user.pk)]


register(Case(
    basename="consent-records",
    make=_consents,
    sees=ADMINS_SEE,
    create_payloads=_consent_payloads,
    # Another school's child, or any child for a role that does not read children's identities,
    # is "does not exist" (400).
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}},
    logs=_consent_logged,
))


def _requests(tree):
    out = {}
    for label, school in _schools(tree).items():
        kid = child(school)
        with tenant_scope([school.id]):
            out[label] = ps.guardian_request_create(actor=None, school=school, child=kid, kind="see",
                                                    requester_name="王奶奶", received_on=today())
    return out


register(Case(
    basename="guardian-requests",
    make=_requests,
    sees=ADMINS_SEE,
    write_ok={"update": ADMINS_WRITE, "partial_update": ADMINS_WRITE},
    update_payload=lambda r: {"status": "done", "outcome": "已打印交给监护人"},
    snapshot=lambda r: (r.status, r.outcome, r.closed_on),
    create_payloads=lambda tree, objs: {
        label: {"child": child(school).id, "kind": "delete", "requester_name": "李爷爷", "requester_relation": "祖父",
                "received_on": today().isoformat()}
        for label, school in _schools(tree).items() if label != "village"},
    create_expect={"gupei_admin": {"a": 201}, "menzhuang_admin": {"b": 201}},
))


def _officers(tree):
    out = {}
    for label, school in _schools(tree).items():
        with tenant_scope([school.id]):
            out[label] = ps.data_officer_set(actor=None, school=school, name="陈校长", phone="13900001234",
                                             appointed_on=today())
    return out


FORBIDDEN = {"a": 403, "b": 403}
register(Case(
    basename="data-officers",
    make=_officers,
    sees=ADMINS_SEE,
    write_ok={"update": ADMINS_WRITE, "partial_update": ADMINS_WRITE},
    update_payload=lambda o: {"name": "李主任", "phone": "13900005678", "appointed_on": today().isoformat()},
    snapshot=lambda o: (o.name, o.phone),
    create_payloads=lambda tree, objs: {
        label: {"school": school.id, "name": "新负责人", "appointed_on": today().isoformat()}
        for label, school in _schools(tree).items() if label != "village"},
    # Every school of the case has its person already: the admin changes that record instead (400);
    # whoever sees the school without managing its children is refused (403).
    create_expect={"gupei_admin": {"a": 400}, "menzhuang_admin": {"b": 400},
                   "gupei_teacher": {"a": 403}, "gupei_clerk": {"a": 403}, "gupei_township": {"a": 403},
                   "bureau_admin": FORBIDDEN, "bureau_inspector": FORBIDDEN,
                   "other_bureau_admin": {"far": 403}, "other_bureau_inspector": {"far": 403},
                   "other_township": {}, "other_admin": {}},
))

