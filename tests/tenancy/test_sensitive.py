"""Which models are sensitive (every detail read access-logged) and which are school-owned.

Both are structural: a new model carrying a child's identity, or a new table with a `school`
foreign key, fails here until it is classified.
"""
from __future__ import annotations

from django.apps import apps
from django.db import connection

from tenancy.models import School, SchoolOwnedModel, is_sensitive

# Models with a foreign key to a child that are deliberately NOT sensitive, and why. Everything
# else that points at a child must be marked with tenancy.models.SensitiveRecord.
NOT_SENSITIVE = {
    "schools.proxyassignment": "who cares for which child, by ids and dates only; the child's identity "
                               "is read (and logged) through the child's own record",
    "schools.studypair": "a teacher-child pairing with a subject, by ids only",
    "schools.activityparticipant": "attendance of an activity, by ids only; no API detail route",
    "schools.childcontactsummary": "which contact kinds a child had in a semester, by ids and a bit mask "
                                   "only; derived by triggers, never served by the API or a page",
    "schools.childuserobjectpermission": "guardian's permission mirror of proxy assignments; never "
                                         "served by the API or a page",
}
# Models with a `school` foreign key to School that are not school-owned data, and why.
NOT_SCHOOL_OWNED = {
    "tenancy.membership": "a role held on a school or a district (nullable school); the scope itself is "
                          "computed from it, before any scope exists",
    "submissions.reporttype_schools": "a district's report type names the schools it applies to: district "
                                      "configuration the bureau writes, holding no school's data",
    "tenancy.idempotencykey": "a client's create key, district-owned with an optional school; its own RLS "
                              "policy also matches the school when there is one; holds only a reference",
    "notices.robot": "a group robot of a district (no school) or of one school: district-owned and under "
                     "the district RLS; the pages show a school's robots to that school's admin only",
    "privacyaudit.breach": "a data breach of a district (no school) or of one school: district-owned, with the "
                           "idempotency keys' RLS policy that also matches the school when there is one",
}


def _concrete_models():
    return [m for m in apps.get_models(include_auto_created=True) if not m._meta.proxy and m._meta.managed]


def sensitive_models():
    return [m for m in _concrete_models() if is_sensitive(m)]


def _points_at(model, target) -> bool:
    return any(f.is_relation and f.many_to_one and f.related_model is target for f in model._meta.concrete_fields)


def test_every_model_carrying_a_child_is_sensitive_or_excused():
    from schools.models import Child

    carrying = {m._meta.label_lower for m in _concrete_models() if _points_at(m, Child)} | {"schools.child"}
    marked = {m._meta.label_lower for m in sensitive_models()}
    assert "schools.child" in marked
    assert not marked & set(NOT_SENSITIVE), "a model is both marked sensitive and excused"
    unclassified = carrying - marked - set(NOT_SENSITIVE)
    assert not unclassified, (f"{sorted(unclassified)} point at a child: mark them SensitiveRecord or list "
                              f"them in NOT_SENSITIVE with a reason")
    stale = set(NOT_SENSITIVE) - carrying
    assert not stale, f"NOT_SENSITIVE lists models that no longer point at a child: {sorted(stale)}"


def test_sensitive_models_are_school_owned():
    # The access-log row of a read belongs to the record's school.
    for model in sensitive_models():
        assert issubclass(model, SchoolOwnedModel), model


def test_every_school_fk_model_is_school_owned_with_forced_rls(db):
    with_school = [m for m in _concrete_models()
                   if any(f.name == "school" and f.is_relation and f.related_model is School
                          for f in m._meta.concrete_fields)]
    assert len(with_school) > 10, "found too few models with a school FK: is the walk broken?"
    labels = {m._meta.label_lower for m in with_school}
    assert set(NOT_SCHOOL_OWNED) <= labels, "NOT_SCHOOL_OWNED lists a model without a school FK"
    problems = []
    with connection.cursor() as cursor:
        for model in with_school:
            label = model._meta.label_lower
            if label in NOT_SCHOOL_OWNED:
                if issubclass(model, SchoolOwnedModel):
                    problems.append(f"{label} is school-owned: remove it from NOT_SCHOOL_OWNED")
                continue
            if not issubclass(model, SchoolOwnedModel):
                problems.append(f"{label} has a school FK but does not subclass SchoolOwnedModel")
                continue
            if model._meta.get_field("school").null:
                problems.append(f"{label}.school is nullable")
            cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                           [model._meta.db_table])
            if cursor.fetchone() != (True, True):
                problems.append(f"{model._meta.db_table} lacks ROW LEVEL SECURITY or FORCE ROW LEVEL SECURITY")
    assert not problems, "\n".join(problems)
