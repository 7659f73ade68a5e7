"""URLs of INTERFACE.md: pages, auth, admin, health, and the JSON API."""

from django.contrib import admin
from django.urls import include, path

from rooms import health, views

urlpatterns = [
    path("", views.room_list, name="room-list"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
]
