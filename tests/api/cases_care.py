"""Isolation cases for the care app: cases, their actions, referrals (about a child: the school
admin sees the school's, a proxy parent their own child's, the clerk and overseers none), each
school's risk list (school admin and proxy parents) and the overseers' figures (counts only)."""
from __future__ import annotations

import datetime as dt

from django.utils import timezone

from care.models import Case, CaseAction, Referral
from tests.api.cases_schools import assign, child, in_scope, semester

from .harness import OTHER_DISTRICT_ROLES, ProxyParentCase, register
from .harness import Case as IsolationCase

LABELS = ("a", "a2", "village", "b", "far")
SEES = {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}}
EVERY_OTHER = ("bureau_admin", "bureau_inspector", "gupei_township", "gupei_teacher", "gupei_clerk", "nobody",
               *OTHER_DISTRICT_ROLES)


def _school(tree, label):
    return {"a": tree.gupei, "a2": tree.gupei, "village": tree.village_a, "b": tree.menzhuang,
            "far": tree.far_school}[label]


def _open(tree, kid):
    # Owned by a user of no school in the runs (the bureau admin), so only the child decides who sees it.
    return in_scope(kid.school, lambda: Case.objects.create(
        school_id=kid.school_id, child=kid, opened_reason=Case.Reason.MANUAL, owner=tree.bureau_admin,
        due_on=timezone.localdate() + dt.timedelta(days=7)))


def _cases(tree):
    semester(tree)
    return {label: _open(tree, child(_school(tree, label))) for label in LABELS}


def _case_proxy(tree, objs):
    assign(tree, objs["a"].child)
    return tree.gupei_teacher, "a", "a2"


def _case_payloads(tree, objs):
    return {label: {"child": child(_school(tree, label)).pk, "opened_note": "担心"} for label in ("a", "b")}


def _proxy_case_payloads(tree, objs):
    mine = child(tree.gupei)
    assign(tree, mine)
    return {"a": {"child": mine.pk}, "a2": {"child": child(tree.gupei).pk}}


def _per_school_expect(ok=201):
    return {"gupei_admin": {"a": ok, "b": 400}, "menzhuang_admin": {"a": 400, "b": ok},
            **{role: {"a": 400, "b": 400} for role in EVERY_OTHER}}


register(IsolationCase(
    basename="care-cases",
    make=_cases,
    sees=SEES,
    write_ok={action: {"gupei_admin": {"a", "a2"}, "menzhuang_admin": {"b"}} for action in ("update", "partial_update")},
    update_payload=lambda c: {"close_reason": "情况好转", "confirm": True},
    snapshot=lambda c: (c.status, c.close_reason),
    create_payloads=_case_payloads,
    create_expect=_per_school_expect(),
    proxy_parent=ProxyParentCase(_case_proxy, write_ok={"update": {"a"}, "partial_update": {"a"}},
                                 create_payloads=_proxy_case_payloads, create_expect={"a": 201, "a2": 400}),
))


def _actions(tree):
    return {label: in_scope(case.school, lambda case=case: CaseAction.objects.create(
        school_id=case.school_id, case=case, done_on=timezone.localdate(), text="家访", done_by=tree.bureau_admin))
        for label, case in _cases(tree).items()}


def _action_proxy(tree, objs):
    assign(tree, objs["a"].case.child)
    return tree.gupei_teacher, "a", "a2"


def _action_payloads(tree, objs):
    return {label: {"case": objs[label].case_id, "text": "电话联系了奶奶"} for label in ("a", "b")}


register(IsolationCase(
    basename="care-case-actions",
    make=_actions,
    sees=SEES,
    create_payloads=_action_payloads,
    create_expect=_per_school_expect(),
    proxy_parent=ProxyParentCase(
        _action_proxy,
        create_payloads=lambda tree, objs: {label: {"case": objs[label].case_id, "text": "谈心"} for label in ("a", "a2")},
        create_expect={"a": 201, "a2": 400}),
))


def _referrals(tree):
    semester(tree)
    out = {}
    for label in LABELS:
        kid = child(_school(tree, label))
        out[label] = in_scope(kid.school, lambda kid=kid: Referral.objects.create(
            school_id=kid.school_id, child=kid, to="civil_affairs", made_on=timezone.localdate(),
            made_by=tree.bureau_admin, reason="需要救助"))
    return out


def _referral_proxy(tree, objs):
    assign(tree, objs["a"].child)
    return tree.gupei_teacher, "a", "a2"


def _referral_body(kid):
    return {"child": kid.pk, "to": "village_director", "reason": "请村儿童主任家访"}


register(IsolationCase(
    basename="care-referrals",
    make=_referrals,
    sees=SEES,
    create_payloads=lambda tree, objs: {label: _referral_body(child(_school(tree, label))) for label in ("a", "b")},
    create_expect=_per_school_expect(),
    proxy_parent=ProxyParentCase(
        _referral_proxy,
        create_payloads=lambda tree, objs: {label: _referral_body(objs[label].child) for label in ("a", "a2")},
        create_expect={"a": 201, "a2": 400}),
))


def _schools(tree):
    semester(tree)
    return {"a": tree.gupei, "village": tree.village_a, "b": tree.menzhuang, "far": tree.far_school}


# The risk list names children: the school admin and the school's proxy parents (their own
# children only), nobody else; the figures are for those who oversee schools.
register(IsolationCase(basename="care-risk-lists", make=_schools,
                       sees={"gupei_admin": {"a"}, "menzhuang_admin": {"b"}, "gupei_teacher": {"a"}}))
register(IsolationCase(basename="care-figures", make=_schools,
                       sees={"bureau_admin": {"a", "village", "b"}, "bureau_inspector": {"a", "village", "b"},
                             "gupei_township": {"a", "village"}, "other_bureau_admin": {"far"},
                             "other_bureau_inspector": {"far"}}))
