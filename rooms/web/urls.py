"""The pages' routes: the room list, a room (leaving it, hiding a
conversation), its manage page, search, direct conversations, the user's
settings and the emails' unsubscribe link, the files of attachments, the
browser client's words in each language, and the accounts pages (login,
sign-up, Django's own)."""

from django.urls import include, path, re_path

from . import (
    accounts,
    attachments,
    direct,
    jscatalog,
    leaving,
    manage,
    pwa,
    rooms,
    search,
    settings,
    unsubscribe,
)

urlpatterns = [
    path("", rooms.room_list, name="room-list"),
    path("rooms/<slug:slug>/", rooms.room_page, name="room"),
    path("rooms/<slug:slug>/leave/", leaving.room_leave, name="room-leave"),
    path("rooms/<slug:slug>/hide/", leaving.room_hide, name="room-hide"),
    path("rooms/<slug:slug>/manage/", manage.room_manage, name="room-manage"),
    path("search/", search.search_page, name="search"),
    path("direct/", direct.direct_open, name="direct-open"),
    path("settings/", settings.settings_page, name="settings"),
    path("unsubscribe/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
    # Files of attachments (docs/attachments.md); selectors.attachments builds these addresses.
    re_path(
        r"^attachments/thumbnails/(?P<attachment_id>[0-9a-f]{32})\.webp$",
        attachments.attachment_thumbnail,
        name="attachment-thumbnail",
    ),
    re_path(
        r"^attachments/(?P<attachment_id>[0-9a-f]{32})/(?P<name>[^/]+)$",
        attachments.attachment_file,
        name="attachment",
    ),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
    # The installable app (pwa.py); the service worker from the root, to control every page.
    path("sw.js", pwa.service_worker, name="service-worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("offline/", pwa.offline, name="offline"),
    # The browser client's words in one language (jscatalog.py).
    path("jsi18n/<str:language>.js", jscatalog.js_catalog, name="js-catalog"),
]
