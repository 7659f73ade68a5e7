"""The site's URLs: the pages (rooms/web/urls.py), the admin, health and
metrics, and the JSON API (rooms/api/urls.py)."""

from django.contrib import admin
from django.urls import include, path

from rooms.ops import health
from rooms.ops import views as ops_views

urlpatterns = [
    path("", include("rooms.web.urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("api/", include("rooms.api.urls")),
]
