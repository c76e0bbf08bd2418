"""Compliance pages. Every pattern with an assessment pk looks it up among the assessments the
user can see (404 otherwise); tests/web/pages_compliance.py registers each for the isolation walker.
Checklist versions are district objects: their pages take the version in the query string or form."""
from django.urls import path

from . import views

urlpatterns = [
    path("compliance/", views.index, name="compliance_index"),
    path("compliance/my-score/", views.my_score, name="compliance_my_score"),
    path("compliance/exports/", views.exports_latest, name="compliance_exports_latest"),
    path("compliance/assessments/new/", views.assessment_new, name="compliance_assessment_new"),
    path("compliance/assessments/<int:pk>/", views.dashboard, name="compliance_dashboard"),
    path("compliance/assessments/<int:pk>/ranking.xlsx", views.ranking_export, name="compliance_ranking_export"),
    path("compliance/assessments/<int:pk>/ranking/print/", views.ranking_print, name="compliance_ranking_print"),
    path("compliance/assessments/<int:pk>/lock/", views.assessment_lock, name="compliance_assessment_lock"),
    path("compliance/assessments/<int:pk>/snapshot/", views.snapshot_take, name="compliance_snapshot_take"),
    path("compliance/assessments/<int:pk>/schools/<int:school_pk>/", views.school_page, name="compliance_school"),
    path("compliance/assessments/<int:pk>/schools/<int:school_pk>/items/<str:code>/", views.item_page,
         name="compliance_item"),
    path("compliance/assessments/<int:pk>/schools/<int:school_pk>/items/<str:code>/score/", views.manual_score,
         name="compliance_manual_score"),
    path("compliance/assessments/<int:pk>/exports/", views.exports, name="compliance_exports"),
    path("compliance/assessments/<int:pk>/exports/run/", views.export_run, name="compliance_export_run"),
    path("compliance/assessments/<int:pk>/exports/<int:job_pk>/status/", views.export_status,
         name="compliance_export_status"),
    path("compliance/assessments/<int:pk>/exports/<int:job_pk>/download/", views.export_download,
         name="compliance_export_download"),
    path("compliance/checklists/", views.checklists, name="compliance_checklists"),
    path("compliance/checklists/upload/", views.checklist_upload, name="compliance_checklist_upload"),
    path("compliance/checklists/download/", views.checklist_download, name="compliance_checklist_download"),
    path("compliance/checklists/publish/", views.checklist_publish, name="compliance_checklist_publish"),
    path("compliance/checklists/new-draft/", views.checklist_new_draft, name="compliance_checklist_new_draft"),
    path("compliance/settings/", views.district_settings, name="compliance_district_settings"),
]
