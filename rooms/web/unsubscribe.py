"""`/unsubscribe/<token>/`: the link of every notification email. GET shows
a page with one button; a POST (the button, or a mail client's RFC 8058
one-click POST) turns the user's email notifications off. No login: the
signed token is the authority, and a one-click POST carries no CSRF token."""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .. import services


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    if request.method == "GET":
        return render(request, "rooms/unsubscribe.html", {"done": False})
    if not services.email_unsubscribe(token=token):
        return render(request, "rooms/unsubscribe.html", {"invalid": True}, status=400)
    return render(request, "rooms/unsubscribe.html", {"done": True})
