"""The pages' routes: the room list, a room (leaving it, hiding a
conversation), its manage page, search, direct conversations, and the
accounts pages (login, sign-up, Django's own)."""

from django.urls import include, path

from . import accounts, direct, leaving, manage, rooms, search

urlpatterns = [
    path("", rooms.room_list, name="room-list"),
    path("rooms/<slug:slug>/", rooms.room_page, name="room"),
    path("rooms/<slug:slug>/leave/", leaving.room_leave, name="room-leave"),
    path("rooms/<slug:slug>/hide/", leaving.room_hide, name="room-hide"),
    path("rooms/<slug:slug>/manage/", manage.room_manage, name="room-manage"),
    path("search/", search.search_page, name="search"),
    path("direct/", direct.direct_open, name="direct-open"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/", include("django.contrib.auth.urls")),
]
