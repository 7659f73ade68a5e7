"""The Content-Security-Policy of every response.

The pages run only the project's own scripts and styles (no inline script
or style, no eval), connect only to their own origin (HTTP, and the
WebSocket at ws:// or wss:// of the same host), and may not be framed. The
page data blocks of `json_script` are `type="application/json"`: data, not
script, so the policy lets them be. docs/security.md lists the directives.

A dozen lines of our own rather than django-csp: the policy is one constant
string but for the WebSocket's host, and needs no nonces or per-view changes.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.utils.deprecation import MiddlewareMixin

DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:{files}",
    "connect-src 'self'{websocket}",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)
POLICY = "; ".join(DIRECTIVES)


def file_hosts() -> str:
    """Where attachments' pictures come from besides the site: with a bucket
    (ROOMS_S3_BUCKET), a file's address redirects to a presigned one on the
    bucket's host (ROOMS_S3_ENDPOINT_URL's origin, else Amazon S3's)."""
    if not getattr(settings, "ROOMS_S3_BUCKET", None):
        return ""
    endpoint = getattr(settings, "ROOMS_S3_ENDPOINT_URL", None)
    if endpoint:
        parts = urlsplit(endpoint)
        return f" {parts.scheme}://{parts.netloc}"
    return " https://*.amazonaws.com"


def policy_for(request) -> str:
    files = file_hosts()
    try:
        host = request.get_host()
    except DisallowedHost:  # answered with 400 anyway: no WebSocket to allow
        return POLICY.format(websocket="", files=files)
    return POLICY.format(websocket=f" ws://{host} wss://{host}", files=files)


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Sets the header unless the response already has one."""

    def process_response(self, request, response):
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for(request)
        return response
