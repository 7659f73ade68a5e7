"""`/api/docs` in Chromium: the OpenAPI document shown by the Swagger UI that
django-ninja bundles, from this server's own static files (no other host is
asked for anything), under the Content-Security-Policy of every page (no
inline script: ninja's page starts the UI from a script file); and a
request tried from it, with the session, passes the CSRF check."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


def test_the_docs_page_shows_every_operation_under_the_policy(deployment, browse):
    base = deployment.worker.http_url
    page = browse("alice").new_page()
    refused, elsewhere = [], []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.on("pageerror", lambda error: refused.append(str(error)))
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else elsewhere.append(request.url),
    )
    page.goto(base + "/api/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Rooms API")
    document = page.request.get(base + "/api/openapi.json").json()
    operations = sum(len(methods) for methods in document["paths"].values())
    expect(page.locator(".opblock")).to_have_count(operations)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))

    # "Try it out" on PUT /api/rooms/{slug}/notifications: the page sends
    # the session's CSRF token, so a change goes through.
    deployment.manage("createroom", "docs-room")
    block = page.locator("#operations-notifications-room_notifications_set")
    block.locator(".opblock-summary").click()
    block.get_by_role("button", name="Try it out").click()
    block.locator('input[placeholder="slug"]').fill("docs-room")
    block.locator("textarea.body-param__text").fill('{"level": "all"}')
    block.get_by_role("button", name="Execute").click()
    status = block.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("200")

    assert refused == []
    assert elsewhere == []
