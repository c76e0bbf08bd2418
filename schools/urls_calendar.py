"""The district's academic calendar (bureau pages). Each has a case in tests/web/pages_calendar.py."""
from django.urls import path

from . import views_calendar as views

urlpatterns = [
    path("districts/<int:pk>/semesters/", views.district_semesters, name="district_semesters"),
    path("districts/<int:pk>/semesters/<int:semester_pk>/edit/", views.district_semester_edit,
         name="district_semester_edit"),
    path("districts/<int:pk>/semesters/<int:semester_pk>/delete/", views.district_semester_delete,
         name="district_semester_delete"),
]
