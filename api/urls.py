"""The REST API. Everything under /api/v1/ is either a router-registered ScopedViewSet or listed in
NON_ROUTER_ENDPOINTS; tests/api/test_isolation.py fails for an endpoint it has no case for."""
from django.http import JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import care, compliance, privacy, privacyaudit, schools, submissions
from .auth import ApiTokenViewSet, TokenView
from .offline import OfflineSnapshotViewSet
from .tenancy import DistrictViewSet, MembershipViewSet, MeViewSet, SchoolViewSet
from .today import TodayViewSet

app_name = "api"

router = DefaultRouter()
router.register("districts", DistrictViewSet, basename="districts")
router.register("schools", SchoolViewSet, basename="schools")
router.register("memberships", MembershipViewSet, basename="memberships")
router.register("tokens", ApiTokenViewSet, basename="tokens")

# URL name -> view, for the endpoints that are not router-registered.
NON_ROUTER_ENDPOINTS = {
    "auth-token": TokenView,
    "me": MeViewSet,
    "today": TodayViewSet,
    "offline": OfflineSnapshotViewSet,
}

# One module per domain, in this order: each registers its viewsets and has `extra_patterns`, the
# paths it adds under /api/v1/.
DOMAINS = [schools, compliance, submissions, care, privacy, privacyaudit]
for _domain in DOMAINS:
    _domain.register(router)
extra_patterns: list = [pattern for domain in DOMAINS for pattern in domain.extra_patterns]

v1_patterns = [
    path("auth/token/", TokenView.as_view(), name="auth-token"),
    path("me/", MeViewSet.as_view({"get": "retrieve"}), name="me"),
    path("today/", TodayViewSet.as_view({"get": "retrieve"}), name="today"),
    path("offline/", OfflineSnapshotViewSet.as_view({"get": "retrieve"}), name="offline"),
    *extra_patterns,
    path("", include(router.urls)),
]


# CSRF-exempt like the API's views, so a POST to an unknown path also gets this JSON 404 (it writes nothing).
@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other URL under /api/ (e.g. /api/v1/schools/1.5/, which no route takes): the API's JSON 404,
    as the schema documents, rather than the site's HTML page. Only paths ending in a slash, so
    CommonMiddleware still redirects /api/v1/schools to /api/v1/schools/."""
    return JsonResponse({"detail": _("Not found.")}, status=404)


urlpatterns = [
    path("v1/", include((v1_patterns, "v1"))),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script as its own URL: no inline <script> (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*/$", not_found, name="not-found"),
]
