"""Bad input to the JSON API: JSON errors only, strict types, and every rule stated in the OpenAPI document."""

import json
import uuid

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from consent.models import ConsentRecord
from tests.consent.conftest import HOST_ORIGIN

HYPOTHESIS = hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def api(settings):
    """A client that answers like a server: an unhandled error becomes a response instead of a raised exception."""
    settings.CONSENT_API_RATE_LIMIT = "100000/m"
    return Client(raise_request_exception=False)


def post(client, key, body, **extra):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/consent/{key}/records", data=data, content_type="application/json", **extra)


def valid(**kw):
    return {
        "consent_id": str(uuid.uuid4()),
        "revision": 1,
        "choices": {"features": True, "performance": False, "targeting": False},
        "method": "custom",
        "page_url": "https://www.shop.example.com/a",
        **kw,
    }


def assert_json_error(r, low=400, high=499):
    assert low <= r.status_code <= high, (r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json"), (r.status_code, r["Content-Type"], r.content[:300])
    assert "detail" in json.loads(r.content)


# --- finding 11: NUL bytes and every other bad request get a JSON 4xx ---------------------------


def test_nul_in_page_url_is_a_json_4xx_after_a_valid_record(api, prop):
    assert post(api, prop.key, valid(), HTTP_ORIGIN=HOST_ORIGIN).status_code == 201
    r = post(api, prop.key, valid(page_url="https://a/\u0000x"), HTTP_ORIGIN=HOST_ORIGIN)
    assert_json_error(r)
    assert r["Access-Control-Allow-Origin"] == HOST_ORIGIN  # the banner can read why
    assert ConsentRecord.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/consent/a%00b/records",
        "/api/consent/a%00b/consents/{cid}",
        "/api/consent/a%00b/consents/{cid}/history",
        "/api/consent/{key}/consents/a%00b",
        "/api/consent/{key}/consents/a%00b/history",
    ],
)
@pytest.mark.parametrize("method", ["get", "post", "options"])
def test_nul_in_any_api_path_is_a_json_4xx(api, prop, path, method):
    url = path.format(key=prop.key, cid=uuid.uuid4())
    body = json.dumps(valid()) if method == "post" else ""
    r = api.generic(method.upper(), url, data=body, content_type="application/json", HTTP_ORIGIN=HOST_ORIGIN)
    assert_json_error(r)


@pytest.mark.parametrize(
    "field",
    [
        {"consent_id": "\u0000"},
        {"method": "custom\u0000"},
        {"choices": {"perf\u0000ormance": True}},
        {"page_url": "\u0000"},
    ],
)
def test_nul_anywhere_in_the_body_is_a_json_4xx(api, prop, field):
    assert_json_error(post(api, prop.key, valid(**field)))
    assert not ConsentRecord.objects.exists()


def test_nul_in_the_query_string_changes_nothing(api, prop):
    r = api.get(f"/api/consent/{prop.key}/consents/{uuid.uuid4()}?x=%00&y=a%00b")
    assert_json_error(r)  # 404: no consent under that id


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/"),
        ("get", "/api/nothing-here"),
        ("post", "/api/consent/"),
        ("get", "/api/consent/{key}/records/extra"),
        ("get", "/api/consent/{key}/records"),  # 405: only POST and OPTIONS
        ("delete", "/api/consent/{key}/consents/{cid}"),  # 405
        ("put", "/api/consent/{key}/records"),  # 405
    ],
)
def test_unknown_paths_and_methods_are_json(api, prop, method, url):
    r = getattr(api, method)(url.format(key=prop.key, cid=uuid.uuid4()))
    assert_json_error(r)


def test_method_not_allowed_keeps_the_allow_header(api, prop):
    r = api.get(f"/api/consent/{prop.key}/records")
    assert r.status_code == 405 and "POST" in r["Allow"]


@pytest.mark.parametrize(
    "raw",
    [b"{nope", b"", b"[]", b"null", b"1", b'"text"', b"\xff\xfe", b'{"consent_id": 1e999}', b"\x00"],
)
def test_malformed_bodies_are_json_4xx(api, prop, raw):
    r = post(api, prop.key, raw, HTTP_ORIGIN=HOST_ORIGIN)
    assert_json_error(r)
    assert r["Access-Control-Allow-Origin"] == HOST_ORIGIN


def test_oversized_body_is_json_413_with_cors(api, prop, settings):
    settings.CONSENT_API_MAX_BODY_BYTES = 300
    r = post(api, prop.key, valid(page_url="https://www.shop.example.com/" + "a" * 400), HTTP_ORIGIN=HOST_ORIGIN)
    assert r.status_code == 413
    assert_json_error(r)
    assert r["Access-Control-Allow-Origin"] == HOST_ORIGIN


@pytest.mark.server_errors_expected
def test_unexpected_error_is_a_json_500_with_cors(api, prop, monkeypatch):
    from consent import services

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "record_consent", broken)
    r = post(api, prop.key, valid(), HTTP_ORIGIN=HOST_ORIGIN)
    assert r.status_code == 500
    assert r["Content-Type"].startswith("application/json")
    assert "disk on fire" not in r.content.decode()
    assert r["Access-Control-Allow-Origin"] == HOST_ORIGIN


@pytest.mark.server_errors_expected
def test_error_before_the_operation_is_a_json_500(api, prop, monkeypatch):
    from consent import selectors

    def broken(key, **kwargs):
        raise RuntimeError("config store gone")

    monkeypatch.setattr(selectors, "get_property_config", broken)
    r = post(api, prop.key, valid(), HTTP_ORIGIN=HOST_ORIGIN)
    assert r.status_code == 500 and r["Content-Type"].startswith("application/json")


# --- fuzzing every operation of the OpenAPI document ----------------------------------------------

TEXT = st.one_of(
    st.text(min_size=0, max_size=30),
    st.sampled_from(["\u0000", "a\u0000b", "%00", "..", "../..", " ", "é", "\u2028", "null", "-1", "1e999"]),
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)


def _operations(client) -> list[tuple[str, str]]:
    doc = client.get("/api/openapi.json").json()
    return [(method, path) for path, item in doc["paths"].items() for method in item]


@pytest.fixture
def operations(api, db):
    ops = _operations(api)
    assert ("post", "/api/consent/{key}/records") in ops
    return ops


@pytest.mark.django_db
@HYPOTHESIS
@given(data=st.data())
def test_fuzzed_requests_to_every_operation_never_get_a_5xx(api, prop, operations, data):
    method, template = data.draw(st.sampled_from(operations))
    params = {
        "key": data.draw(st.one_of(st.just(prop.key), TEXT)),
        "consent_id": data.draw(st.one_of(st.uuids().map(str), TEXT)),
    }
    url = template
    for name, value in params.items():
        url = url.replace("{" + name + "}", _quote(value))
    body = data.draw(
        st.one_of(
            JSON_VALUE.map(json.dumps),
            st.dictionaries(
                st.sampled_from(["consent_id", "revision", "choices", "method", "page_url", "gpc", "extra"]),
                JSON_VALUE,
            ).map(lambda d: json.dumps({**valid(), **d})),
            st.binary(max_size=40),
        )
    )
    query = data.draw(st.sampled_from(["", "?x=%00", "?format=json", "?consent_id=a%00"]))
    r = api.generic(method.upper(), url + query, data=body, content_type="application/json", HTTP_ORIGIN=HOST_ORIGIN)
    assert r.status_code < 500, (method, url, body, r.status_code, r.content[:300])
    assert r["Content-Type"].startswith("application/json"), (method, url, r.status_code, r["Content-Type"])


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="") or "x"


# --- finding 12: strict types, the GPC rule in the schema, nothing coerced -------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"gpc": 0},
        {"gpc": 1},
        {"gpc": "true"},
        {"gpc": None},
        {"revision": "1"},
        {"revision": 1.0},
        {"revision": True},
        {"choices": {"performance": "yes"}},
        {"choices": {"performance": 1}},
        {"choices": {"performance": None}},
        {"choices": []},
        {"page_url": 5},
        {"method": "gpc"},  # no GPC signal in the body or the Sec-GPC header
        {"unexpected": True},
    ],
)
def test_wrong_types_are_refused_not_converted(api, prop, bad):
    r = post(api, prop.key, valid(**bad))
    assert r.status_code == 422, r.content
    assert_json_error(r)
    assert not ConsentRecord.objects.exists()


def test_gpc_rule_is_checked_by_the_schema(api, prop, monkeypatch):
    from consent import services

    called = []
    monkeypatch.setattr(services, "record_consent", lambda **kw: called.append(kw))
    r = post(api, prop.key, valid(method="gpc", gpc=False))
    assert r.status_code == 422
    assert any("gpc" in json.dumps(e) for e in r.json()["detail"])
    assert not called  # refused before any service ran


def test_gpc_method_with_the_signal_in_the_body_is_recorded(api, prop):
    r = post(api, prop.key, valid(method="gpc", gpc=True))
    assert r.status_code == 201, r.content
    assert ConsentRecord.objects.get().choices["targeting"] is False


NON_BOOL = st.one_of(
    st.none(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.lists(st.booleans(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.booleans(), max_size=2),
)
CATEGORIES = ["features", "performance", "targeting"]


@pytest.mark.django_db
@HYPOTHESIS
@given(category=st.sampled_from(CATEGORIES), value=NON_BOOL)
def test_any_non_boolean_choice_is_refused_and_nothing_written(api, prop, category, value):
    before = ConsentRecord.objects.count()
    r = post(api, prop.key, valid(choices={category: value}))
    assert r.status_code == 422, (value, r.content)
    assert r["Content-Type"].startswith("application/json")
    assert ConsentRecord.objects.count() == before


@pytest.mark.django_db
@HYPOTHESIS
@given(choices=st.dictionaries(st.sampled_from(CATEGORIES), st.booleans()))
def test_boolean_choices_are_recorded_exactly(api, prop, choices):
    b = valid(choices=choices)
    r = post(api, prop.key, b)
    assert r.status_code == 201, r.content
    rec = ConsentRecord.objects.filter(consent_id=b["consent_id"]).get()
    assert rec.choices == {"necessary": True, **dict.fromkeys(CATEGORIES, False), **choices}


def test_openapi_states_the_rules_of_a_record(api, db):
    doc = api.get("/api/openapi.json").json()
    op = doc["paths"]["/api/consent/{key}/records"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    schema = doc["components"]["schemas"][ref]
    props = schema["properties"]
    assert schema.get("additionalProperties") is False
    assert set(schema["required"]) >= {"consent_id", "revision", "method"}
    assert props["revision"]["type"] == "integer" and props["revision"]["minimum"] == 1
    assert "current revision" in props["revision"]["description"]
    assert props["gpc"]["type"] == "boolean"
    assert list(props["choices"]["patternProperties"].values()) == [{"type": "boolean"}]
    assert props["choices"]["additionalProperties"] is False and props["choices"]["maxProperties"] == 20
    assert props["page_url"]["maxLength"] == 2000
    method = doc["components"]["schemas"][props["method"]["$ref"].split("/")[-1]]
    assert set(method["enum"]) == {"accept_all", "reject_all", "custom", "gpc", "withdraw"}
    assert "Sec-GPC" in schema["description"] and "gpc" in schema["description"]
    key = next(p for p in op["parameters"] if p["name"] == "key")
    assert key["schema"]["pattern"] and key["schema"]["maxLength"] == 40
    assert {"201", "403", "404", "413", "422", "429", "500"} <= set(op["responses"])
    assert "allowed origins" in op["description"]
    assert "bytes" in op["responses"]["413"]["description"]
