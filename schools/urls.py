"""Pages of a school's home. Split by area so separate changes do not collide."""
from django.urls import include, path

urlpatterns = [
    path("", include("schools.urls_archive")),
    path("", include("schools.urls_home")),
    path("", include("schools.urls_calendar")),
]
