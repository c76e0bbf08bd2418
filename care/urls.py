from django.urls import path

from . import views

urlpatterns = [
    path("schools/<int:school_pk>/cases/", views.case_list, name="care_cases"),
    path("schools/<int:school_pk>/cases/new/", views.case_new, name="care_case_new"),
    path("schools/<int:school_pk>/cases/<int:pk>/", views.case_detail, name="care_case"),
    path("schools/<int:school_pk>/cases/<int:pk>/action/", views.case_action, name="care_case_action"),
    path("schools/<int:school_pk>/cases/<int:pk>/close/", views.case_close, name="care_case_close"),
    path("schools/<int:school_pk>/risk/", views.risk_list, name="care_risk"),
    path("schools/<int:school_pk>/referrals/", views.referral_list, name="care_referrals"),
    path("schools/<int:school_pk>/referrals/new/", views.referral_new, name="care_referral_new"),
    path("schools/<int:school_pk>/referrals/<int:pk>/", views.referral_detail, name="care_referral"),
    path("schools/<int:school_pk>/figures/", views.school_counts, name="care_school_counts"),
    path("districts/<int:pk>/", views.district_overview, name="care_district"),
    path("districts/<int:pk>/rules/<int:version_pk>/download/", views.rules_download, name="care_rules_download"),
    path("districts/<int:pk>/rules/<int:version_pk>/activate/", views.rules_activate, name="care_rules_activate"),
]
