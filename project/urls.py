"""URLs of INTERFACE.md: pages, auth, admin, health, metrics, and the JSON API."""

from django.contrib import admin
from django.urls import include, path

from rooms import direct_views, health, manage_views, metrics_view, search_views, views
from rooms.api import api_urlpatterns

urlpatterns = [
    path("", views.room_list, name="room-list"),
    path("rooms/<slug:slug>/", views.room_page, name="room"),
    path("rooms/<slug:slug>/manage/", manage_views.room_manage, name="room-manage"),
    path("search/", search_views.search_page, name="search"),
    path("direct/", direct_views.direct_open, name="direct-open"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("api/", include(api_urlpatterns)),
]
