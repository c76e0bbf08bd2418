"""Archive pages: school dashboard, four-contact tracker, contact records, children, import and export.

Every pattern names the school (`school_pk`); tests/web/pages_archive.py registers each one for
the generic page-isolation test."""
from django.urls import path

from . import views_archive as views

urlpatterns = [
    path("schools/<int:school_pk>/dashboard/", views.school_dashboard, name="school_dashboard"),
    path("schools/<int:school_pk>/tracker/", views.contact_tracker, name="contact_tracker"),
    path("schools/<int:school_pk>/tracker/record/", views.contact_record, name="contact_record"),
    path("schools/<int:school_pk>/contacts/", views.contacts_list, name="contacts_list"),
    path("schools/<int:school_pk>/contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("schools/<int:school_pk>/contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("schools/<int:school_pk>/children/", views.children_list, name="children_list"),
    path("schools/<int:school_pk>/children/new/", views.child_create, name="child_create"),
    path("schools/<int:school_pk>/children/import/", views.children_import, name="children_import"),
    path("schools/<int:school_pk>/children/import/confirm/", views.children_import_confirm,
         name="children_import_confirm"),
    path("schools/<int:school_pk>/children/import/template.xlsx", views.children_import_template,
         name="children_import_template"),
    path("schools/<int:school_pk>/children/export.xlsx", views.children_export, name="children_export"),
    path("schools/<int:school_pk>/children/<int:pk>/", views.child_detail, name="child_detail"),
    path("schools/<int:school_pk>/children/<int:pk>/edit/", views.child_edit, name="child_edit"),
    path("schools/<int:school_pk>/children/<int:pk>/status/", views.child_status, name="child_status"),
    path("schools/<int:school_pk>/children/<int:pk>/refuse-consent/", views.child_consent_refuse,
         name="child_consent_refuse"),
]
