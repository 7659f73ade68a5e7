"""A browser's login session against a real worker, without a browser:
urllib with a cookie jar. It logs in through the login form, posts the
site's forms with their CSRF token, and hands its session cookie to a
WebSocket handshake (with the page's Origin, as a browser sends it).
"""

from __future__ import annotations

import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30


class BrowserSession:
    """One logged-in session of `username` on the worker at `http_url`."""

    def __init__(self, http_url: str):
        self.http_url = http_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    @classmethod
    def login(cls, http_url: str, username: str, password: str) -> BrowserSession:
        session = cls(http_url)
        assert session.get("/accounts/login/")[0] == 200  # sets the CSRF cookie
        status = session.post("/accounts/login/", {"username": username, "password": password})
        assert status == 200 and session.cookie("sessionid"), f"login failed ({status})"
        return session

    def cookie(self, name: str) -> str | None:
        return next((cookie.value for cookie in self.jar if cookie.name == name), None)

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.http_url + path, timeout=TIMEOUT) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path: str, fields: dict) -> int:
        """POST a form to `path` with the CSRF cookie's token, as the page's
        form would; the status of the answer, after redirects."""
        data = {**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        request = urllib.request.Request(
            self.http_url + path,
            data=urllib.parse.urlencode(data).encode(),
            headers={"Referer": self.http_url + path},
        )
        try:
            with self.opener.open(request, timeout=TIMEOUT) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    def websocket_headers(self, origin: str | None = None) -> dict:
        """A handshake's headers as this browser's page sends them: the
        session cookie, and the page's Origin (by default the worker's own)."""
        return {
            "Cookie": f"sessionid={self.cookie('sessionid')}",
            "Origin": origin or self.http_url,
        }
