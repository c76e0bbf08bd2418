"""Pages of the school's home: site and rules, activities, proxy parents, study support, evidence.

Every pattern with a parameter has an isolation case in tests/web/pages_home.py.
"""
from django.urls import path

from . import views_home as v

S = "schools/<int:school_pk>/"

urlpatterns = [
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
]
