from django.urls import include, path

from config import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", include("api.urls")),
    path("", include("offline.urls")),
    path("", include("today.urls")),
    path("", include("tenancy.urls")),
    path("", include("schools.urls")),
    path("", include("compliance.urls")),
    path("", include("submissions.urls")),
    path("care/", include("care.urls")),
    path("", include("privacy.urls")),
    path("", include("notices.urls")),
    path("", include("privacyaudit.urls")),
]

# A clean 500/503 page (JSON under /api/) that needs no database: config/errors.py.
handler500 = "config.errors.server_error"
