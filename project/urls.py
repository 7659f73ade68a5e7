"""URLs of INTERFACE.md: pages, auth, admin, health, metrics, and the JSON API."""

from django.contrib import admin
from django.urls import include, path

from rooms import health, metrics_view, views
from rooms.api import api_urlpatterns

urlpatterns = [
    path("", views.room_list, name="room-list"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("api/", include(api_urlpatterns)),
]
