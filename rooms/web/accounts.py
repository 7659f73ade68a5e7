"""Login and sign-up: Django's login page telling whether sign-up is on, the
answer to a login the throttle refuses, and the sign-up page
(ROOMS_SIGNUP)."""

import logging

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import ngettext

from .. import login_throttle
from ..ops import metrics
from .forms import SignupForm

logger = logging.getLogger(__name__)


class LoginView(auth_views.LoginView):
    """Django's login, telling the page whether to offer sign-up. Failed
    logins are throttled by django-axes (project/settings.py,
    rooms/login_throttle.py), which answers a refused one with `login_refused`."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signup_enabled"] = settings.ROOMS_SIGNUP
        return context


def login_refused(request, original_response=None, credentials=None):
    """The answer to a login the throttle refuses, whatever its password:
    the login page saying why (this username from this address, or this
    address), with HTTP 429, and a log line (the username and the address,
    never the password). django-axes calls it as
    AXES_LOCKOUT_CALLABLE, for the site's login and the admin's alike."""
    username = request.POST.get("username", "")
    address = request.META.get("REMOTE_ADDR")
    metrics.RATE_LIMITED.labels("login").inc()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if login_throttle.address_locked(request, credentials):
        logger.warning(
            "login refused (429): too many failures from %s for any username (this one %r)",
            address,
            username,
        )
        refused = ngettext(
            "Too many failed logins from your address. Try again in %(count)d minute.",
            "Too many failed logins from your address. Try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    else:
        logger.warning("login refused (429): too many failures for %r from %s", username, address)
        refused = ngettext(
            "Too many failed logins for this username from your address. "
            "Try again in %(count)d minute.",
            "Too many failed logins for this username from your address. "
            "Try again in %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    context = {
        "form": AuthenticationForm(request, initial={"username": username}),
        "refused": refused,
        "next": request.POST.get("next", ""),
        "signup_enabled": settings.ROOMS_SIGNUP,
    }
    response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(minutes * 60)
    return response


def signup(request):
    if not settings.ROOMS_SIGNUP:
        raise Http404("Sign-up is switched off.")
    if request.user.is_authenticated:
        return redirect("room-list")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("room-list")
    status = 400 if form.errors else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)
