"""Pages of the minors'-data audit. Every page with a parameter looks its object up among what
the user may see (else 404) and has a case in tests/web/pages_privacyaudit.py."""
from django.urls import path

from . import views

urlpatterns = [
    path("privacy-audit/", views.audit_home, name="audit_home"),
    # The bureau's packs of one district.
    path("districts/<int:pk>/privacy-audit/", views.audit_packs, name="audit_packs"),
    path("districts/<int:pk>/privacy-audit/build/", views.audit_pack_build, name="audit_pack_build"),
    path("districts/<int:pk>/privacy-audit/<int:pack_pk>/", views.audit_pack_report, name="audit_pack_report"),
    path("districts/<int:pk>/privacy-audit/<int:pack_pk>/status/", views.audit_pack_status, name="audit_pack_status"),
    path("districts/<int:pk>/privacy-audit/<int:pack_pk>/file/<str:kind>/", views.audit_pack_download,
         name="audit_pack_download"),
    # Breaches: the bureau's view of its district, a school admin's of the school.
    path("districts/<int:pk>/breaches/", views.district_breaches, name="district_breaches"),
    path("districts/<int:pk>/breaches/<int:breach_pk>/", views.district_breach, name="district_breach"),
    path("schools/<int:school_pk>/breaches/", views.school_breaches, name="school_breaches"),
    path("schools/<int:school_pk>/breaches/<int:breach_pk>/", views.school_breach, name="school_breach"),
]
