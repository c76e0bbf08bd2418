from django.urls import path

from . import views

urlpatterns = [
    # At the site root: a service worker controls only the paths below its own URL.
    path("sw.js", views.service_worker, name="service_worker"),
    path("manifest.webmanifest", views.manifest, name="web_manifest"),
    path("offline/", views.need_network, name="offline_need_network"),
    path("offline/tracker/", views.shell_tracker, name="offline_tracker"),
    path("offline/home/", views.shell_home, name="offline_home"),
    path("offline/activities/", views.shell_activities, name="offline_activities"),
]
