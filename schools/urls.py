"""Pages of a school's home, its children's archive, and the district's academic calendar.

Every pattern with a parameter has a case in the page-isolation registry (tests/web/pages_home.py,
pages_archive.py, pages_calendar.py).
"""
from django.urls import path

from . import views as v

S = "schools/<int:school_pk>/"

urlpatterns = [
    # the archive: dashboard, four-contact tracker, contact records, children, import and export
    path(S + "dashboard/", v.school_dashboard, name="school_dashboard"),
    path(S + "tracker/", v.contact_tracker, name="contact_tracker"),
    path(S + "tracker/record/", v.contact_record, name="contact_record"),
    path(S + "contacts/", v.contacts_list, name="contacts_list"),
    path(S + "contacts/<int:pk>/", v.contact_detail, name="contact_detail"),
    path(S + "contacts/<int:pk>/edit/", v.contact_edit, name="contact_edit"),
    path(S + "children/", v.children_list, name="children_list"),
    path(S + "children/new/", v.child_create, name="child_create"),
    path(S + "children/import/", v.children_import, name="children_import"),
    path(S + "children/import/confirm/", v.children_import_confirm, name="children_import_confirm"),
    path(S + "children/import/template.xlsx", v.children_import_template, name="children_import_template"),
    path(S + "children/export.xlsx", v.children_export, name="children_export"),
    path(S + "children/register.xlsx", v.register_export, name="register_export"),
    path(S + "children/<int:pk>/", v.child_detail, name="child_detail"),
    path(S + "children/<int:pk>/edit/", v.child_edit, name="child_edit"),
    path(S + "children/<int:pk>/status/", v.child_status, name="child_status"),
    path(S + "children/<int:pk>/refuse-consent/", v.child_consent_refuse, name="child_consent_refuse"),
    # the home: site and rules, activities, proxy parents, study support, evidence
    path(S + "home/", v.home_setup, name="home_setup"),
    path(S + "home/site/<int:pk>/", v.home_site_edit, name="home_site_edit"),
    path(S + "home/equipment/<int:pk>/", v.home_equipment_edit, name="home_equipment_edit"),
    path(S + "home/leadership/<int:pk>/", v.home_leader_edit, name="home_leader_edit"),
    path(S + "home/rules/<slug:kind>/", v.home_rule_detail, name="home_rule_detail"),
    path(S + "activities/", v.activities_week, name="activities_week"),
    path(S + "activities/new/", v.activity_create, name="activity_create"),
    path(S + "activities/themes/", v.activity_themes, name="activity_themes"),
    path(S + "activities/<int:pk>/", v.activity_detail, name="activity_detail"),
    path(S + "activities/<int:pk>/edit/", v.activity_edit, name="activity_edit"),
    path(S + "proxy-parents/", v.proxy_parents, name="proxy_parents"),
    path(S + "proxy-parents/meetings/", v.meetings, name="meetings"),
    path(S + "proxy-parents/assignments/<int:pk>/edit/", v.assignment_edit, name="assignment_edit"),
    path(S + "proxy-parents/meetings/<int:pk>/", v.meeting_detail, name="meeting_detail"),
    path(S + "proxy-parents/meetings/<int:pk>/edit/", v.meeting_edit, name="meeting_edit"),
    path(S + "proxy-parents/work-records/", v.work_records, name="work_records"),
    path(S + "proxy-parents/work-records/<int:pk>/", v.work_record_detail, name="work_record_detail"),
    path(S + "proxy-parents/work-records/<int:pk>/edit/", v.work_record_edit, name="work_record_edit"),
    path(S + "study-pairs/", v.study_pairs, name="study_pairs"),
    path(S + "study-pairs/<int:pk>/", v.study_pair_detail, name="study_pair_detail"),
    path(S + "study-pairs/<int:pk>/edit/", v.study_pair_edit, name="study_pair_edit"),
    path(S + "study-pairs/<int:pk>/sessions/<int:session_pk>/edit/", v.tutoring_session_edit,
         name="tutoring_session_edit"),
    # Evidence is streamed through these checks; MEDIA_URL is never linked.
    path(S + "evidence/<int:pk>/", v.evidence_file, name="evidence_file"),
    path(S + "evidence/<int:pk>/thumb/", v.evidence_thumb, name="evidence_thumb"),
    path("evidence/reuse-flags/", v.reuse_flags, name="reuse_flags"),
    # the district's academic calendar (bureau pages)
    path("districts/<int:pk>/semesters/", v.district_semesters, name="district_semesters"),
    path("districts/<int:pk>/semesters/<int:semester_pk>/edit/", v.district_semester_edit,
         name="district_semester_edit"),
    path("districts/<int:pk>/semesters/<int:semester_pk>/delete/", v.district_semester_delete,
         name="district_semester_delete"),
]
