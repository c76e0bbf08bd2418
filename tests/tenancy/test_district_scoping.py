"""District-owned data gets the school-owned guarantees: the ORM refuses an unscoped query,
PostgreSQL row-level security hides another district's rows (also from raw SQL), and a scope can
only narrow unless a job names its widening with system_scope(reason)."""
from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django_scopes import ScopeError

from care import services as care_services
from care.risk_yaml import DEFAULT_PATH as DEFAULT_RULES
from compliance import services as compliance_services
from notices.models import Delivery, Notification, Robot
from privacyaudit import services as audit_services
from schools import services as school_services
from submissions import services as submission_services
from submissions.models import PeriodType
from tenancy import idempotency
from tenancy.middleware import TenantScopeMiddleware
from tenancy.models import DistrictOwnedChild, DistrictOwnedModel, district_path
from tenancy.rls import district_child_models, district_owned_models
from tenancy.scoping import ScopeWidening, district_scope, system_scope, tenant_scope

# The district-owned models the platform has: every one must be covered by the generic checks below.
EXPECTED = {
    "schools.semester", "submissions.reporttype", "submissions.period", "notices.notification",
    "notices.robot", "notices.delivery",
    "submissions.districtexport", "compliance.checklist", "compliance.checklistversion",
    "compliance.checklistsection", "compliance.checklistitem", "compliance.assessment", "compliance.snapshot",
    "compliance.complianceexport", "tenancy.idempotencykey",
    "privacyaudit.auditpack", "privacyaudit.breach", "privacyaudit.breachnotice",
    "compliance.districtcompliancesettings", "care.riskruleversion",
}


def _all_models():
    return district_owned_models() + district_child_models()


def _rows_of(tree, district, school, user, n):
    """One of every district-owned row in `district`, through the services (as a job would)."""
    school_services.semester_create(actor=None, district=district, name=f"学期{n}", start=dt.date(2026, 2, 20),
                                    end=dt.date(2026, 7, 10))
    report_type = submission_services.report_type_create(
        actor=None, district=district, name=f"报送{n}", code=f"rt-{n}", period_type=PeriodType.MONTHLY,
        start_on=dt.date(2026, 1, 1), end_on=dt.date(2026, 3, 31), schools=[school])
    with district_scope(district):
        period = report_type.periods.order_by("seq").first()
        # A create named by its client: the key row is district-owned too.
        idempotency.create_once(user=user, key=f"fixture-key-{n}", digest="d", target=district, create=lambda: (
            Notification.objects.create(district=district, user=user, text=f"提醒{n}")))
        robot = Robot.objects.create(district=district, school=school, channel="dingtalk", name=f"群{n}",
                                     webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x", kinds=[])
        Delivery.objects.create(district=district, event_key=f"e{n}", kind="overdue", channel="dingtalk",
                                target=f"robot:{robot.pk}", robot=robot, title="t", text="t")
    submission_services.district_export_request(actor=None, period=period, enqueue=False)
    version = compliance_services.checklist_load_default(district=district)
    assessment = compliance_services.assessment_create(
        district=district, checklist_version=version, title=f"考核{n}", semester_label="2026春",
        semester_start=dt.date(2026, 2, 20), semester_end=dt.date(2026, 7, 10))
    compliance_services.snapshot_take(assessment=assessment)
    compliance_services.export_request(assessment=assessment)
    # The audit pack and a district-wide breach with its notice to guardians.
    audit_services.audit_pack_request(actor=None, district=district, year=2026, enqueue=False,
                                      today=dt.date(2026, 12, 1))
    breach = audit_services.breach_record(actor=None, district=district, occurred_on=dt.date(2026, 3, 1),
                                          discovered_on=dt.date(2026, 3, 2), data_involved="电话", children_affected=1,
                                          description="x", measures="y", affected_schools=[school],
                                          today=dt.date(2026, 12, 1))
    audit_services.breach_notice_record(actor=None, breach=breach, method="sms", sent_on=dt.date(2026, 3, 3),
                                        guardians_notified=1, text="z", today=dt.date(2026, 12, 1))
    # The district's scoring setting and its risk rules, set by its bureau admin.
    bureau = tree.bureau_admin if district == tree.district else tree.other_bureau_admin
    with district_scope(district):
        compliance_services.district_settings_update(district=district, actor=bureau,
                                                     count_unapproved_submissions=False)
        care_services.risk_rules_save(actor=bureau, district=district, source=DEFAULT_RULES.read_text())


@pytest.fixture
def both(tree):
    _rows_of(tree, tree.district, tree.gupei, tree.gupei_admin, 1)
    _rows_of(tree, tree.other_district, tree.far_centre, tree.other_admin, 2)
    ids = {}
    with system_scope("the test reads every district's rows to compare"):
        for model in _all_models():
            path = district_path(model)
            ids[model] = {
                district.id: set(model.objects.filter(**{path: district}).values_list("id", flat=True))
                for district in (tree.district, tree.other_district)
            }
            assert all(ids[model].values()), f"{model._meta.label}: the fixture made no row in some district"
    return ids


def _raw_ids(model) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {connection.ops.quote_name(model._meta.db_table)}")
        return {row[0] for row in cursor.fetchall()}


def test_every_district_owned_model_is_covered():
    labels = {m._meta.label_lower for m in _all_models()}
    assert labels == EXPECTED


def test_district_owned_tables_have_forced_rls_and_one_policy(db):
    with connection.cursor() as cursor:
        for model in _all_models():
            table = model._meta.db_table
            cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = %s::regclass",
                           [table])
            assert cursor.fetchone() == (True, True), table
            cursor.execute("SELECT policyname FROM pg_policies WHERE tablename = %s", [table])
            assert [r[0] for r in cursor.fetchall()] == ["district_isolation"], table


def test_district_fk_and_the_path_to_it(db):
    for model in district_owned_models():
        field = model._meta.get_field("district")
        assert not field.null and field.related_model._meta.label_lower == "tenancy.district", model
    for model in district_child_models():
        parent = model._meta.get_field(model.district_parent)
        assert not parent.null, model
        assert issubclass(parent.related_model, (DistrictOwnedModel, DistrictOwnedChild)), model
        assert district_path(model).endswith("__district"), model


def test_raw_sql_in_a_district_scope_sees_no_row_of_the_other_district(tree, both):
    own, other = tree.district.id, tree.other_district.id
    # A school's scope holds its district; a bureau scope names the district itself.
    for scope in (tenant_scope([tree.gupei.id]), tenant_scope(district_ids=[own])):
        with scope:
            for model, by_district in both.items():
                seen = _raw_ids(model)
                assert not seen & by_district[other], f"{model._meta.db_table} shows the other district's rows"
                assert by_district[own] <= seen, f"{model._meta.db_table} hides the district's own rows"
    with tenant_scope([tree.far_village.id]):
        for model, by_district in both.items():
            assert _raw_ids(model) == by_district[other], model._meta.db_table
    # No scope: no row at all.
    for model in both:
        assert _raw_ids(model) == set(), model._meta.db_table


def test_rls_refuses_to_write_a_row_into_the_other_district(tree):
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(DatabaseError, match="row-level security"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO schools_semester (district_id, name, start, \"end\") VALUES (%s, 'x', %s, %s)",
                    [tree.other_district.id, dt.date(2030, 1, 1), dt.date(2030, 2, 1)])


def test_an_unscoped_orm_query_on_a_district_owned_model_raises(tree, both):
    for model in _all_models():
        with pytest.raises(ScopeError):
            list(model.objects.all())
    with tenant_scope([tree.menzhuang.id]):
        for model, by_district in both.items():
            assert set(model.objects.values_list("id", flat=True)) == by_district[tree.district.id], model


def test_a_school_users_scope_holds_its_district_and_no_other(tree):
    from tenancy import selectors

    assert selectors.district_ids_for_user(tree.gupei_teacher) == [tree.district.id]
    assert selectors.district_ids_for_user(tree.other_township) == [tree.other_district.id]
    assert selectors.district_ids_for_user(tree.bureau_inspector) == [tree.district.id]
    assert selectors.district_ids_for_user(tree.nobody) == []


# ---------------------------------------------------------------- only narrowing, widening named
def test_a_nested_tenant_scope_may_narrow(tree):
    with tenant_scope([tree.gupei.id, tree.menzhuang.id]) as outer:
        with tenant_scope([tree.gupei.id]) as inner:
            assert inner == (tree.gupei.id,)
        with tenant_scope(district_ids=[tree.district.id]):
            pass
    assert outer == tuple(sorted([tree.gupei.id, tree.menzhuang.id]))


@pytest.mark.parametrize("ask", ["school", "district"])
def test_a_nested_tenant_scope_may_not_widen(tree, ask):
    with tenant_scope([tree.gupei.id]):
        with pytest.raises(ScopeWidening):
            if ask == "school":
                with tenant_scope([tree.gupei.id, tree.far_school.id]):
                    pass
            else:
                with tenant_scope(district_ids=[tree.other_district.id]):
                    pass


def test_tenant_scope_widening_inside_a_request_raises(tree):
    """A view asking for another school's scope inside its user's request is refused."""
    seen = {}

    def view(request):
        with tenant_scope([tree.menzhuang.id]):
            seen["widened"] = True

    request = RequestFactory().get("/")
    request.user = tree.gupei_admin
    with pytest.raises(ScopeWidening):
        TenantScopeMiddleware(view)(request)
    assert "widened" not in seen


def test_system_scope_widens_names_its_reason_and_restores(tree, caplog):
    with caplog.at_level(logging.DEBUG, logger="tenancy.scoping"):
        with tenant_scope([tree.gupei.id]):
            with system_scope("a test job over every district"):
                with connection.cursor() as cursor:
                    cursor.execute("SELECT current_setting('app.district_ids')")
                    assert set(cursor.fetchone()[0].split(",")) == {str(tree.district.id),
                                                                    str(tree.other_district.id)}
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('app.school_ids'), current_setting('app.district_ids')")
                assert cursor.fetchone() == (str(tree.gupei.id), str(tree.district.id))
    assert "a test job over every district" in caplog.text
    with pytest.raises(ValueError):
        with system_scope(" "):
            pass


def test_district_scope_inside_a_request_scope_only_checks(tree):
    with tenant_scope([tree.gupei.id]):
        with district_scope(tree.district) as district_id:
            assert district_id == tree.district.id
        with pytest.raises(ScopeWidening):
            with district_scope(tree.other_district):
                pass


def test_a_child_policy_reads_its_parent_once_per_statement(tree, both):
    """What keeps the child policies cheap: `parent_id IN (SELECT id FROM parent)` is uncorrelated,
    so PostgreSQL builds it once per statement (a hashed sub-plan over the parent's visible rows),
    never once per row, however many rows the statement reads."""
    from submissions.models import Period

    period = next(iter(both[Period][tree.district.id]))
    with tenant_scope([tree.gupei.id]), connection.cursor() as cursor:
        for sql in ("SELECT * FROM submissions_period WHERE id = %s",
                    "SELECT * FROM compliance_checklistitem ORDER BY id"):
            cursor.execute("EXPLAIN " + sql, [period] if "%s" in sql else [])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            filters = [line for line in plan.splitlines() if "Filter:" in line and "SubPlan" in line]
            assert filters and all(not re.search(r"(?<!hashed )SubPlan \d", line) for line in filters), plan
