"""The Content-Security-Policy of every response.

The pages run only the project's own scripts and styles (no inline script
or style, no eval), connect only to their own origin (HTTP, and the
WebSocket at ws:// or wss:// of the same host), and may not be framed. The
page data blocks of `json_script` are `type="application/json"`: data, not
script, so the policy lets them be. docs/security.md lists the directives.

A dozen lines of our own rather than django-csp: the policy is one constant
string but for the WebSocket's host, and needs no nonces or per-view changes.
"""

from django.core.exceptions import DisallowedHost
from django.utils.deprecation import MiddlewareMixin

DIRECTIVES = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'{websocket}",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
)
POLICY = "; ".join(DIRECTIVES)


def policy_for(request) -> str:
    try:
        host = request.get_host()
    except DisallowedHost:  # answered with 400 anyway: no WebSocket to allow
        return POLICY.format(websocket="")
    return POLICY.format(websocket=f" ws://{host} wss://{host}")


class ContentSecurityPolicyMiddleware(MiddlewareMixin):
    """Sets the header unless the response already has one."""

    def process_response(self, request, response):
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy_for(request)
        return response
