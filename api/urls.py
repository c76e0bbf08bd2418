"""The REST API. Everything under /api/v1/ is either a router-registered ScopedViewSet or listed in
NON_ROUTER_ENDPOINTS; tests/api/test_isolation.py fails for an endpoint it has no case for."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .auth import TokenView
from .tenancy import DistrictViewSet, MembershipViewSet, MeViewSet, SchoolViewSet

app_name = "api"

router = DefaultRouter()
router.register("districts", DistrictViewSet, basename="districts")
router.register("schools", SchoolViewSet, basename="schools")
router.register("memberships", MembershipViewSet, basename="memberships")

# URL name -> view, for the endpoints that are not router-registered.
NON_ROUTER_ENDPOINTS = {
    "auth-token": TokenView,
    "me": MeViewSet,
}

v1_patterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("me/", MeViewSet.as_view({"get": "retrieve"}), name="me"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("v1/", include((v1_patterns, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
