"""Pages of submissions. Every page with a parameter looks its object up among what the user can
see (else 404) and has a case in tests/web/pages_submissions.py (the isolation walker)."""
from django.urls import path

from . import views

urlpatterns = [
    # A school's reporting calendar.
    path("schools/<int:pk>/submissions/", views.school_submissions, name="school_submissions"),
    # One submission: the school's page, its actions, the compile progress and the package files.
    path("submissions/<int:pk>/", views.submission_detail, name="submission_detail"),
    path("submissions/<int:pk>/status/", views.submission_status, name="submission_status"),
    path("submissions/<int:pk>/compile/", views.submission_compile, name="submission_compile"),
    path("submissions/<int:pk>/narrative/", views.submission_narrative, name="submission_narrative"),
    path("submissions/<int:pk>/submit/", views.submission_submit, name="submission_submit"),
    path("submissions/<int:pk>/package/v<int:version>/<str:kind>/", views.package_download,
         name="submission_package_download"),
    # The bureau's review of one submission.
    path("submissions/<int:pk>/review/", views.submission_review, name="submission_review"),
    path("submissions/<int:pk>/accept/", views.submission_accept, name="submission_accept"),
    path("submissions/<int:pk>/return/", views.submission_return, name="submission_return"),
    path("submissions/<int:pk>/unlock/", views.submission_unlock, name="submission_unlock"),
    path("submissions/<int:pk>/remind/", views.submission_remind, name="submission_remind"),
    # The township centre school's review of its village schools (VIA_CENTRE report types).
    path("centre/reviews/", views.centre_queue, name="centre_queue"),
    path("centre/reviews/decide/", views.centre_decide_many, name="centre_decide_many"),
    path("submissions/<int:pk>/centre/", views.centre_review, name="centre_review"),
    path("submissions/<int:pk>/centre/approve/", views.centre_approve, name="centre_approve"),
    path("submissions/<int:pk>/centre/return/", views.centre_return, name="centre_return"),
    path("submissions/<int:pk>/centre/withdraw/", views.centre_withdraw, name="centre_withdraw"),
    # The school asks for an unlock; the bureau grants or refuses it.
    path("submissions/<int:pk>/unlock-request/", views.submission_unlock_request, name="submission_unlock_request"),
    path("reporting/unlock-requests/", views.unlock_requests, name="unlock_requests"),
    path("reporting/unlock-requests/<int:pk>/grant/", views.unlock_request_grant, name="unlock_request_grant"),
    path("reporting/unlock-requests/<int:pk>/refuse/", views.unlock_request_refuse, name="unlock_request_refuse"),
    path("reporting/remind-late/", views.reporting_remind_late, name="reporting_remind_late"),
    # The bureau's overview (district and report type are query parameters: not school-owned).
    path("reporting/", views.reporting_matrix, name="reporting_matrix"),
    path("reporting/matrix.xlsx", views.matrix_export, name="reporting_matrix_export"),
    path("reporting/print/", views.matrix_print, name="reporting_matrix_print"),
    path("reporting/similarity/", views.similarity_list, name="similarity_list"),
    path("reporting/exports/", views.district_exports, name="district_exports"),
    path("reporting/routes/", views.report_type_routes, name="report_type_routes"),
    path("reporting/routes/<int:pk>/", views.report_type_route, name="report_type_route"),
    path("reporting/exports/<int:pk>/download/", views.district_export_download, name="district_export_download"),
    path("reporting/similarity/<int:pk>/", views.similarity_pair, name="similarity_pair"),
    # The centre school's township package (乡镇汇总) of its village schools' approved reports.
    path("schools/<int:pk>/township/", views.township_packages, name="township_packages"),
    path("schools/<int:pk>/township/compile/", views.township_package_compile, name="township_package_compile"),
    path("township-packages/<int:pk>/status/", views.township_package_status, name="township_package_status"),
    path("township-packages/<int:pk>/download/<str:kind>/", views.township_package_download,
         name="township_package_download"),
    path("reporting/township/", views.township_overview, name="township_overview"),
]
