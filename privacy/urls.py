"""Pages of the minors'-data paperwork. Every pattern has a case in tests/web/pages_privacy.py."""
from django.urls import path

from . import views as v

S = "schools/<int:school_pk>/privacy/"

urlpatterns = [
    path(S, v.privacy_overview, name="privacy_overview"),
    path(S + "children/<int:pk>/consent/", v.child_consent, name="privacy_child_consent"),
    path(S + "requests/", v.guardian_requests, name="guardian_requests"),
    path(S + "requests/new/", v.guardian_request_create, name="guardian_request_create"),
    path(S + "requests/<int:pk>/", v.guardian_request_detail, name="guardian_request_detail"),
    path(S + "requests/<int:pk>/close/", v.guardian_request_close, name="guardian_request_close"),
    path(S + "requests/<int:pk>/delete/", v.guardian_request_delete, name="guardian_request_delete"),
    path(S + "requests/<int:pk>/copy/", v.guardian_request_copy, name="guardian_request_copy"),
    path(S + "officer/", v.data_officer, name="data_officer"),
]
