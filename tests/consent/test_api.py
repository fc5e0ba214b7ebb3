import json
import uuid

import pytest

from consent.models import ConsentRecord
from tests.consent.conftest import HOST_ORIGIN


def post(client, key, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/consent/{key}/records", data=data, content_type="application/json", **extra)


def body(**kw):
    return {"consent_id": str(uuid.uuid4()), "revision": 1, "choices": {}, "method": "reject_all", **kw}


@pytest.mark.smoke
def test_record_then_read_state_and_history(client, prop):
    b = body(method="custom", choices={"performance": True}, page_url="https://www.shop.example.com/a?x=1")
    r = post(client, prop.key, b, HTTP_ORIGIN=HOST_ORIGIN, HTTP_USER_AGENT="Mozilla/5.0 Firefox/128.0")
    assert r.status_code == 201, r.content
    assert r.json()["choices"]["performance"] is True
    assert r["Access-Control-Allow-Origin"] == HOST_ORIGIN
    post(client, prop.key, {**b, "method": "withdraw", "choices": {}}, HTTP_ORIGIN=HOST_ORIGIN)
    state = client.get(f"/api/consent/{prop.key}/consents/{b['consent_id']}")
    assert state.status_code == 200 and state.json()["method"] == "withdraw"
    history = client.get(f"/api/consent/{prop.key}/consents/{b['consent_id']}/history").json()
    assert [h["method"] for h in history] == ["custom", "withdraw"]
    rec = ConsentRecord.objects.filter(consent_id=b["consent_id"]).order_by("pk").first()
    assert rec.page_url == "https://www.shop.example.com/a" and rec.ip == "127.0.0.0"


def test_unknown_property_is_404(client, db):
    assert post(client, "nope", body()).status_code == 404
    assert client.get(f"/api/consent/nope/consents/{uuid.uuid4()}").status_code == 404


def test_unknown_consent_id_is_404(client, prop):
    assert client.get(f"/api/consent/{prop.key}/consents/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"consent_id": "not-a-uuid"}, "consent_id"),
        ({"method": "sell_everything"}, "method"),
        ({"revision": 0}, "revision"),
        ({"choices": {"performance": "maybe"}}, "choices"),
        ({"choices": {"spying": True}, "method": "custom"}, "choices"),
        ({"revision": 9}, "revision"),
        ({"method": "gpc"}, "method"),  # no Global Privacy Control signal came with it
    ],
)
def test_invalid_body_gets_field_errors(client, prop, bad, field):
    r = post(client, prop.key, body(**bad))
    assert r.status_code == 422, r.content
    assert any(field in err["loc"] for err in r.json()["detail"])
    assert not ConsentRecord.objects.exists()


def test_malformed_json_is_400(client, prop):
    assert post(client, prop.key, "{nope").status_code == 400


def test_body_size_is_limited(client, prop, settings):
    settings.CONSENT_API_MAX_BODY_BYTES = 300
    r = post(client, prop.key, body(page_url="https://www.shop.example.com/" + "a" * 400))
    assert r.status_code == 413
    assert not ConsentRecord.objects.exists()


def test_rate_limit_per_ip(client, prop, settings):
    settings.CONSENT_API_RATE_LIMIT = "3/m"
    codes = [post(client, prop.key, body()).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]
    other = post(client, prop.key, body(), REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 201


@pytest.mark.smoke
def test_cors_preflight_allowed_only_for_property_origins(client, prop):
    ok = client.options(
        f"/api/consent/{prop.key}/records",
        HTTP_ORIGIN=HOST_ORIGIN,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert "POST" in ok["Access-Control-Allow-Methods"] and "Content-Type" in ok["Access-Control-Allow-Headers"]
    bad = client.options(
        f"/api/consent/{prop.key}/records",
        HTTP_ORIGIN="https://evil.example.net",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert bad.status_code == 403
    assert "Access-Control-Allow-Origin" not in bad


def test_post_from_other_origin_is_refused_and_not_recorded(client, prop):
    r = post(client, prop.key, body(), HTTP_ORIGIN="https://evil.example.net")
    assert r.status_code == 403
    assert "Access-Control-Allow-Origin" not in r
    assert not ConsentRecord.objects.exists()


def test_same_origin_post_is_allowed(client, prop):
    assert post(client, prop.key, body(), HTTP_ORIGIN="http://testserver").status_code == 201


def test_sec_gpc_header_turns_targeting_off(client, prop):
    r = post(client, prop.key, body(method="accept_all"), HTTP_SEC_GPC="1")
    assert r.status_code == 201
    data = r.json()
    assert data["gpc"] is True and data["choices"]["targeting"] is False and data["method"] == "gpc"
    assert ConsentRecord.objects.get().gpc is True


def test_logged_in_user_is_linked(client, prop, user_factory):
    user = user_factory()
    client.force_login(user)
    assert post(client, prop.key, body()).status_code == 201
    assert ConsentRecord.objects.get().user == user


def test_openapi_schema_lists_consent_operations(client, db):
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/consent/{key}/records" in paths
    assert "/api/consent/{key}/consents/{consent_id}/history" in paths


def test_logged_in_post_needs_no_csrf_token(prop, user_factory):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user_factory())
    assert post(client, prop.key, body(), HTTP_ORIGIN="http://testserver").status_code == 201


def test_gpc_method_is_accepted_with_the_signal(client, prop):
    r = post(client, prop.key, body(method="gpc"), HTTP_SEC_GPC="1")
    assert r.status_code == 201, r.content
    assert r.json()["method"] == "gpc" and r.json()["choices"]["targeting"] is False
