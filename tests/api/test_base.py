"""The base viewset's guarantees: sealed isolation methods, declared permissions, fail closed."""
from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework import mixins
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory

from api.base import VISIBLE, ScopedViewSet
from api.tenancy import SchoolViewSet
from tenancy.models import School
from tests.support.api import api_key


def _define(**attrs):
    bases = attrs.pop("bases", (ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin))
    attrs.setdefault("model", School)
    attrs.setdefault("action_permissions", {"list": VISIBLE, "retrieve": VISIBLE})
    attrs.setdefault("scoped_queryset", lambda self, queryset: queryset)
    return type("Probe", bases, attrs)


def test_a_well_formed_subclass_is_accepted():
    assert _define().abstract is False


@pytest.mark.parametrize("name", ["get_queryset", "get_object", "initial", "check_object_permissions",
                                  "perform_create", "perform_update", "perform_destroy", "filter_queryset"])
def test_overriding_an_isolation_method_is_refused(name):
    with pytest.raises(TypeError, match=name):
        _define(**{name: lambda self, *a, **k: None})


def test_a_mixin_that_would_shadow_the_base_is_refused():
    """DRF's CreateModelMixin.perform_create would call serializer.save() past the services."""
    with pytest.raises(TypeError, match="perform_create"):
        _define(bases=(mixins.CreateModelMixin, ScopedViewSet), action_permissions={"create": "manage_schools"})


def test_a_queryset_override_from_a_mixin_is_refused():
    class Unscoped:
        def get_queryset(self):
            return School.objects.all()

    with pytest.raises(TypeError, match="get_queryset"):
        _define(bases=(Unscoped, ScopedViewSet, mixins.ListModelMixin))


def test_every_action_must_declare_its_permission():
    with pytest.raises(TypeError, match="destroy"):
        _define(bases=(ScopedViewSet, mixins.ListModelMixin, mixins.DestroyModelMixin),
                action_permissions={"list": VISIBLE})


def test_unknown_permission_codename_is_refused():
    with pytest.raises(TypeError, match="unknown permission"):
        _define(action_permissions={"list": VISIBLE, "retrieve": "see_everything"})


@pytest.mark.parametrize("attrs", [
    {"permission_classes": [AllowAny]},
    {"authentication_classes": []},
    {"filter_backends": []},
    {"pagination_class": None},
])
def test_authentication_permissions_filters_and_pagination_cannot_be_switched_off(attrs):
    with pytest.raises(TypeError):
        _define(**attrs)


def test_another_pagination_class_is_allowed():
    _define(pagination_class=PageNumberPagination)


def test_a_model_is_required():
    with pytest.raises(TypeError, match="model"):
        _define(model=None)


def test_a_request_that_bypassed_the_tenant_middleware_is_refused(tree):
    """Called without TenantScopeMiddleware (no scope_user, no scope): refused, never unscoped."""
    request = APIRequestFactory().get("/api/v1/schools/", HTTP_AUTHORIZATION=f"Token {api_key(tree.bureau_admin)}")
    response = SchoolViewSet.as_view({"get": "list"})(request)
    assert response.status_code == 401


def test_a_scoped_queryset_of_the_wrong_model_is_refused(tree):
    from tenancy.models import District

    probe = _define(scoped_queryset=lambda self, queryset: District.objects.all())
    view = probe()
    view.request = type("R", (), {"user": tree.gupei_admin})()
    view.swagger_fake_view = False
    view._assert_scoped = lambda: None
    with pytest.raises(TypeError, match="School"):
        view.get_queryset()


def test_undeclared_action_at_runtime_is_refused(tree):
    from rest_framework.exceptions import PermissionDenied

    view = _define()()
    view.action = "frobnicate"
    with pytest.raises(PermissionDenied):
        view._action_codename()


def test_the_api_root_lists_only_routed_endpoints(tree):
    from api.urls import router
    from tests.support.api import client_for

    body = client_for(tree.gupei_admin).get(reverse("api:v1:api-root")).json()
    assert {"districts", "schools", "memberships"} <= set(body)
    assert set(body) == {prefix for prefix, _viewset, _basename in router.registry}


# ---------------------------------------------------------------- the tenant filter is the base's
def _view(probe, user):
    view = probe()
    view.request = type("R", (), {"user": user})()
    view.swagger_fake_view = False
    view._assert_scoped = lambda: None
    return view


def test_a_hook_returning_a_wider_queryset_is_still_narrowed(tree):
    """A subclass that ignores what it is handed and returns every school gets the user's only."""
    probe = _define(scoped_queryset=lambda self, queryset: School.objects.all())
    assert set(_view(probe, tree.gupei_admin).get_queryset()) == {tree.gupei}
    assert set(_view(probe, tree.gupei_township).get_queryset()) == {tree.gupei, tree.village_a, tree.village_b}


def test_a_district_owned_hook_cannot_reach_another_district(tree):
    """Even inside a scope that would show both districts' rows, the base keeps the user's district."""
    import datetime as dt

    from schools import services as school_services
    from schools.models import Semester
    from tenancy.scoping import system_scope

    for district in (tree.district, tree.other_district):
        school_services.semester_create(actor=None, district=district, name="学期", start=dt.date(2026, 2, 20),
                                        end=dt.date(2026, 7, 10))
    probe = _define(model=Semester, scoped_queryset=lambda self, queryset: Semester.objects.all())
    with system_scope("a wide scope around the probe: the base's filter must still narrow"):
        assert set(Semester.objects.values_list("district_id", flat=True)) == {tree.district.id,
                                                                                tree.other_district.id}
        got = set(_view(probe, tree.gupei_teacher).get_queryset().values_list("district_id", flat=True))
    assert got == {tree.district.id}


def test_a_hook_must_take_the_queryset_it_narrows():
    with pytest.raises(TypeError, match="scoped_queryset"):
        _define(scoped_queryset=lambda self: School.objects.all())


def test_a_model_without_an_owner_needs_a_declared_tenant_filter():
    from api.base import TenantFilter
    from tenancy.models import User

    with pytest.raises(TypeError, match="tenant_filter"):
        _define(model=User)
    with pytest.raises(TypeError, match="reason"):
        _define(model=User, tenant_filter=TenantFilter(" ", lambda user: None))
    assert _define(model=User, tenant_filter=TenantFilter("own account", lambda user: None)).abstract is False
    # An owned model is filtered by its owner: a declared filter may not replace that.
    with pytest.raises(TypeError, match="may not replace"):
        _define(tenant_filter=TenantFilter("wider", lambda user: None))
