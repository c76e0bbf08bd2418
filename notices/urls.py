"""Pages of notices: the user's own inbox and settings (no object in any URL: robots are named in
the POST body and looked up among the user's own)."""
from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_mark_read"),
    path("notices/settings/", views.notice_settings, name="notice_settings"),
    path("notices/robots/add/", views.notice_robot_add, name="notice_robot_add"),
    path("notices/robots/remove/", views.notice_robot_remove, name="notice_robot_remove"),
]
