"""/api/docs: Swagger UI served from the portal's own static files, reading a document it can parse."""

import json

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_document_holds_each_key_once(client):
    repeated = []

    def keep(pairs):
        keys = [k for k, _ in pairs]
        repeated.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(pairs)

    json.loads(client.get("/api/openapi.json").content, object_pairs_hook=keep)
    assert repeated == []


def test_api_docs_load_swagger_ui_from_the_portal_without_inline_script(client):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui-init.js" in html
    assert "cdn" not in html.lower()
    # Only the JSON settings block may be a script without src: browsers do not run it, so the CSP allows it.
    assert html.count("<script>") == 0
