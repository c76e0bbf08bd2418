"""The children's archive: who sees which child, masking per role, encryption, consent, access log."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from schools import selectors, services
from schools.models import Child, ChildUserObjectPermission
from tenancy.models import AccessLog
from tenancy.scoping import tenant_scope
from tenancy.selectors import school_ids_for_user
from tests.support.schools import add_child, make_id_number


def scope_of(user):
    return tenant_scope(school_ids_for_user(user))


def visible_ids(user):
    with scope_of(user):
        return set(selectors.children_visible_to(user).values_list("id", flat=True))


def test_admin_sees_own_school_only(home):
    assert visible_ids(home.gupei_admin) == {c.id for c in home.g}
    assert visible_ids(home.menzhuang_admin) == {c.id for c in home.m}


def test_teacher_sees_only_currently_assigned_children(home):
    assert visible_ids(home.gupei_teacher) == {home.g[0].id, home.g[1].id}
    assert visible_ids(home.menzhuang_teacher) == {home.m[0].id}
    with scope_of(home.gupei_teacher), pytest.raises(Child.DoesNotExist):
        selectors.child_get_for_view(home.gupei_teacher, home.g[2].id)


def test_reassignment_moves_access_and_keeps_history(home, today):
    other = home.gupei_admin  # a school admin may also be a proxy parent
    with tenant_scope([home.gupei.id]):
        services.proxy_assignment_create(actor=home.gupei_admin, child=home.g[0], proxy_parent=other,
                                         starts_on=today)
        history = list(home.g[0].proxy_assignments.order_by("starts_on").values_list("proxy_parent_id", "ends_on"))
    assert history == [(home.gupei_teacher.id, today - dt.timedelta(days=1)), (other.id, None)]
    assert visible_ids(home.gupei_teacher) == {home.g[1].id}
    perms = set(ChildUserObjectPermission.objects.filter(content_object_id=home.g[0].id).values_list("user_id", flat=True))
    assert perms == {other.id}


def test_future_assignment_takes_effect_on_its_date(home, today):
    with tenant_scope([home.gupei.id]):
        services.proxy_assignment_end(actor=home.gupei_admin, assignment=home.g[1].proxy_assignments.get(),
                                      ends_on=today - dt.timedelta(days=1))
        services.proxy_assignment_create(actor=home.gupei_admin, child=home.g[1], proxy_parent=home.gupei_teacher,
                                         starts_on=today + dt.timedelta(days=3))
    assert home.g[1].id not in visible_ids(home.gupei_teacher)
    with tenant_scope([home.gupei.id]):
        services.proxy_assignments_sync(school=home.gupei, today=today + dt.timedelta(days=3))
    assert home.g[1].id in visible_ids(home.gupei_teacher)


def test_bureau_and_township_see_no_children_without_explicit_grant(home):
    assert visible_ids(home.bureau_admin) == set()
    assert visible_ids(home.bureau_inspector) == set()
    assert visible_ids(home.gupei_township) == set()
    assert visible_ids(home.nobody) == set()


def test_masking_per_role(home):
    child = home.g[0]
    number = make_id_number(0)
    with scope_of(home.gupei_admin):
        admin = selectors.child_get_for_view(home.gupei_admin, child.id)
    assert admin.level == "admin"
    assert admin.data["id_number"] == number
    assert admin.data["wellbeing_notes"] == "想念妈妈"

    with scope_of(home.gupei_teacher):
        teacher = selectors.child_get_for_view(home.gupei_teacher, child.id)
    assert teacher.level == "proxy"
    assert teacher.data["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert teacher.data["wellbeing_notes"] == "想念妈妈"
    assert teacher.data["guardian_phone"] == "13800001111"

    with scope_of(home.gupei_clerk):
        clerk = selectors.child_get_for_view(home.gupei_clerk, child.id)
    assert clerk.level == "basic"
    assert set(clerk.data) == {"id", "name", "grade", "class_name", "status"}

    with scope_of(home.bureau_inspector), pytest.raises(Child.DoesNotExist):
        selectors.child_get_for_view(home.bureau_inspector, child.id)


def test_explicit_identity_grant_shows_identity_but_not_wellbeing(home):
    from django.contrib.auth.models import Permission

    from tenancy.models import DistrictUserObjectPermission

    perm = Permission.objects.get(codename="view_child_identity", content_type__model="district")
    DistrictUserObjectPermission.objects.create(user=home.bureau_inspector, content_object=home.district,
                                                permission=perm)
    home.bureau_inspector.__dict__.pop("_school_perm_cache", None)
    with scope_of(home.bureau_inspector):
        view = selectors.child_get_for_view(home.bureau_inspector, home.m[0].id)
    assert view.level == "identity"
    # Masked: the full number is for the school admin only.
    assert view.data["id_number"] == home.m[0].id_number_masked != make_id_number(100)
    assert "wellbeing_notes" not in view.data


def test_every_detail_read_is_logged(home):
    with scope_of(home.gupei_teacher):
        services.child_read(user=home.gupei_teacher, pk=home.g[0].id)
    with tenant_scope([home.gupei.id]):
        log = AccessLog.objects.filter(action="view", object_type="schools.child").get()
    assert (log.user_id, log.object_id, log.detail["level"]) == (home.gupei_teacher.id, str(home.g[0].id), "proxy")


def test_writes_are_logged_without_personal_data(home):
    with tenant_scope([home.gupei.id]):
        services.child_update(actor=home.gupei_admin, child=home.g[0], guardian_phone="13900002222")
        log = AccessLog.objects.filter(action="update", object_type="schools.child").latest("id")
    assert log.detail == {"fields": ["guardian_phone"]}
    assert "13900002222" not in str(log.detail)


def test_id_number_is_encrypted_at_rest(home):
    number = make_id_number(0)
    with tenant_scope([home.gupei.id]):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM schools_child WHERE id = %s", [home.g[0].id])
            row = cursor.fetchone()
    assert row is not None
    assert not any(number in str(value) for value in row)
    assert not any(number[6:14] in str(value) for value in row if not hasattr(value, "year"))


def test_duplicate_id_number_refused_in_the_district_until_the_transfer_out(home, today):
    with pytest.raises(ValidationError, match="already"):
        add_child(home.gupei, 0)
    # Another school of the district: refused while the child is still at gupei, and the message
    # says only that, pointing to the transfer.
    with pytest.raises(ValidationError) as refused:
        add_child(home.menzhuang, 0)
    text = " ".join(refused.value.messages)
    assert "another school" in text and "transfer" in text
    assert home.g[0].name not in text and home.gupei.name not in text
    with tenant_scope([home.gupei.id]):
        services.child_status_set(actor=home.gupei_admin, child=home.g[0], status=Child.Status.TRANSFERRED,
                                  since=today)
    add_child(home.menzhuang, 0)  # once transferred out, the new school registers the child


def test_invalid_id_number_refused(home):
    bad = make_id_number(7)[:-1] + ("0" if make_id_number(7)[-1] != "0" else "1")
    with pytest.raises(ValidationError, match="ID number"):
        add_child(home.gupei, 7, id_number=bad)


def test_clerk_and_teacher_cannot_edit_children(home):
    with tenant_scope([home.gupei.id]):
        for user in (home.gupei_clerk, home.gupei_teacher):
            with pytest.raises(PermissionDenied):
                services.child_update(actor=user, child=home.g[0], name="x")


def test_consent_refusal_keeps_only_the_minimum(home, today):
    with tenant_scope([home.gupei.id]):
        child = services.child_consent_refuse(actor=home.gupei_admin, child=home.g[2], on=today, method="电话")
        child.refresh_from_db()
        assert child.consent == "refused"
        assert (child.id_number_ciphertext, child.guardian_phone, child.wellbeing_notes, child.birth_date) == (
            "", "", "", None)
        assert child.name and child.class_name
        with pytest.raises(ValidationError, match="refused"):
            services.child_update(actor=home.gupei_admin, child=child, health_notes="哮喘")


def test_leaving_ends_assignment_and_access(home, today):
    with tenant_scope([home.gupei.id]):
        services.child_status_set(actor=home.gupei_admin, child=home.g[0], status="transferred", since=today)
        assert home.g[0].status_history.count() == 2
    assert home.g[0].id not in visible_ids(home.gupei_teacher)


def test_children_list_masks_per_level(home):
    with scope_of(home.gupei_clerk):
        rows = selectors.children_list(home.gupei_clerk)
    assert len(rows) == 4
    assert all(set(r) <= {"id", "name", "grade", "class_name", "status", "level"} for r in rows)


def test_lists_never_show_full_id_numbers(home):
    with scope_of(home.gupei_admin):
        rows = selectors.children_list(home.gupei_admin)
    assert rows and all("*" in r["id_number"] for r in rows)
