import uuid

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from consent import selectors, services
from consent.models import AppendOnlyError, ConsentMethod, ConsentRecord, Purpose, PurposeVersion


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("2001:db8:abcd:12:1:2:3:4", "2001:db8:abcd::"),
        ("::ffff:198.51.100.9", "198.51.100.0"),
        ("not-an-ip", None),
        ("", None),
    ],
)
def test_truncate_ip_keeps_only_the_network(ip, expected):
    assert services.truncate_ip(ip) == expected


@given(st.ip_addresses(v=4))
def test_truncate_ipv4_always_zeroes_the_last_octet(addr):
    out = services.truncate_ip(str(addr))
    assert out.split(".")[:3] == str(addr).split(".")[:3] and out.endswith(".0")


@given(st.ip_addresses(v=6))
def test_truncate_ipv6_keeps_at_most_48_bits(addr):
    import ipaddress

    out = ipaddress.ip_address(services.truncate_ip(str(addr)))
    if not addr.ipv4_mapped:
        assert int(out) & ((1 << 80) - 1) == 0
        assert int(out) >> 80 == int(addr) >> 80


def test_clean_page_url_drops_query_fragment_and_credentials():
    assert (
        services.clean_page_url("https://bob:secret@shop.example.com:8443/cart?email=a@example.com#x")
        == "https://shop.example.com:8443/cart"
    )
    assert services.clean_page_url("javascript:alert(1)") == ""


@pytest.mark.smoke
def test_record_consent_writes_full_proof(prop):
    cid = uuid.uuid4()
    rec = services.record_consent(
        property_key=prop.key,
        consent_id=cid,
        revision=1,
        choices={"performance": True},
        method="custom",
        ip="203.0.113.5",
        user_agent="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
        page_url="https://shop.example.com/p?utm=1",
    )
    rec.refresh_from_db()
    assert rec.choices == {"necessary": True, "features": False, "performance": True, "targeting": False}
    assert rec.ip == "203.0.113.0"
    assert rec.user_agent_family == "Chrome"
    assert rec.page_url == "https://shop.example.com/p"
    assert rec.method == ConsentMethod.CUSTOM


def test_reject_all_keeps_necessary_on_and_refuses_the_rest(prop):
    rec = services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={"targeting": True}, method="reject_all"
    )
    assert rec.choices == {"necessary": True, "features": False, "performance": False, "targeting": False}


def test_gpc_turns_targeting_off_on_accept_all(prop):
    rec = services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="accept_all", gpc=True
    )
    assert rec.choices["targeting"] is False and rec.choices["performance"] is True
    assert rec.method == ConsentMethod.GPC and rec.gpc


def test_record_consent_refuses_unknown_category_and_future_revision(prop):
    with pytest.raises(ValidationError) as exc:
        services.record_consent(
            property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={"spying": True}, method="custom"
        )
    assert "choices" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.record_consent(property_key=prop.key, consent_id=uuid.uuid4(), revision=2, choices={}, method="custom")


@pytest.mark.smoke
def test_consent_records_are_append_only(prop):
    rec = services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="reject_all"
    )
    rec.method = "accept_all"
    with pytest.raises(AppendOnlyError):
        rec.save()
    with pytest.raises(AppendOnlyError):
        rec.delete()
    assert ConsentRecord.objects.get(pk=rec.pk).method == "reject_all"


def test_property_with_records_cannot_be_deleted(prop):
    from django.db.models import ProtectedError

    services.record_consent(property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="reject_all")
    with pytest.raises(ProtectedError):
        prop.delete()


def test_material_revision_bumps_and_invalidates_cached_config(prop, django_capture_on_commit_callbacks):
    assert selectors.get_property_config(prop.key)["revision"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        rev = services.record_revision(prop=prop, note="Added an ads partner")
    assert rev.number == 2
    assert selectors.get_property_config(prop.key)["revision"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.record_revision(prop=prop, note="Typo", material=False)
    prop.refresh_from_db()
    assert prop.revision == 2
    assert list(prop.revisions.values_list("number", "material")) == [(2, False), (2, True)]


def test_cached_config_costs_no_query(prop, django_assert_num_queries):
    selectors.get_property_config(prop.key)
    with django_assert_num_queries(0):
        assert selectors.get_property_config(prop.key)["key"] == prop.key
    assert selectors.get_property_config("nope") is None
    with django_assert_num_queries(0):
        assert selectors.get_property_config("nope") is None


@pytest.mark.smoke
def test_has_consent_follows_latest_choice_and_keeps_history(user_factory, purposes):
    user = user_factory()
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    assert not selectors.has_consent(user=user, purpose=Purpose.RESEARCH)
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=False)
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    assert [h.granted for h in selectors.list_purpose_history(user=user)] == [False, True]


def test_new_wording_marks_earlier_grant_outdated(user_factory, purposes):
    user = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.RESEARCH, granted=True)
    PurposeVersion.objects.create(purpose=purposes[Purpose.RESEARCH], version=2, title="Research", wording="New words")
    state = {s["purpose"].key: s for s in selectors.list_purpose_states(user=user)}[Purpose.RESEARCH]
    assert state["version"].version == 2 and state["outdated"]
    services.set_purpose_consent(user=user, purpose=Purpose.RESEARCH, granted=True)
    state = {s["purpose"].key: s for s in selectors.list_purpose_states(user=user)}[Purpose.RESEARCH]
    assert not state["outdated"] and state["choice"].version.version == 2


def test_unsubscribe_token_is_signed_and_withdraws_marketing(user_factory, purposes, settings):
    user = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    url = services.build_unsubscribe_url(user=user)
    assert url.startswith(settings.SITE_URL + "/unsubscribe/")
    token = url.rstrip("/").rsplit("/", 1)[1]
    with pytest.raises(ValidationError):
        services.read_unsubscribe_token(token[:-2] + "xx")
    assert services.unsubscribe(token=token).granted is False
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    assert services.unsubscribe(token=token) is None  # idempotent


def test_outcomes_per_day_counts_methods(prop):
    for method in ["accept_all", "accept_all", "reject_all", "custom", "gpc", "gpc", "gpc", "withdraw"]:
        services.record_consent(
            property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method=method, gpc=method == "gpc"
        )
    services.summarise_consent()  # the chart reads the daily figures, as of the job's last run
    rows = selectors.outcomes_per_day(prop=prop, days=7)
    assert len(rows) == 7
    today = {k: v for k, v in rows[-1].items() if k != "day"}
    assert today == {"accept_all": 2, "reject_all": 1, "custom": 1, "gpc": 3, "withdraw": 1}
    assert all(sum(v for k, v in r.items() if k != "day") == 0 for r in rows[:-1])


def test_portal_property_key_is_cached(portal_property, django_assert_num_queries, settings):
    settings.PORTAL_CONSENT_PROPERTY_KEY = ""
    assert selectors.get_portal_property_key() == portal_property.key
    with django_assert_num_queries(0):
        assert selectors.get_portal_property_key() == portal_property.key


def test_log_rows_survive_deleting_their_configuration(prop, categories, purposes, user_factory):
    """Deleting a category, a property, a purpose or a wording never takes proof with it."""
    from django.db.models import ProtectedError

    from consent.models import Category, PurposeConsent

    user = user_factory(email="keep.proof@example.com")
    services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={"features": True}, method="custom"
    )
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    # A category a record mentions can go (the record keeps its choice by key), or is protected by its declarations.
    categories["features"].delete()
    assert not Category.objects.filter(key="features").exists()
    assert ConsentRecord.objects.get().choices["features"] is True
    with pytest.raises(ProtectedError):
        categories["performance"].delete()
    with pytest.raises(ProtectedError):
        prop.delete()
    purpose = Purpose.objects.get(key=Purpose.MARKETING)
    with pytest.raises(ProtectedError):
        purpose.current_version().delete()
    with pytest.raises(ProtectedError):
        purpose.delete()
    assert ConsentRecord.objects.count() == 1 and PurposeConsent.objects.count() == 1


def test_deleting_an_account_outside_erasure_is_refused(prop, purposes, user_factory):
    from django.db.models import ProtectedError

    from consent.models import PurposeConsent

    visitor = user_factory(email="visitor@example.com")
    member = user_factory(email="member@example.com")
    services.record_consent(
        property_key=prop.key, consent_id=uuid.uuid4(), revision=1, choices={}, method="reject_all", user=visitor
    )
    services.set_purpose_consent(user=member, purpose=Purpose.RESEARCH, granted=True)
    for user in (visitor, member):
        with pytest.raises(ProtectedError):
            user.delete()
    assert ConsentRecord.objects.get().user == visitor
    assert PurposeConsent.objects.get().user == member


def test_erasure_unlinks_the_logs_before_the_account_goes(prop, purposes, user_factory):
    """The registry nulls the log's user (and pseudonymises the consent id) before deleting the account."""
    from django.contrib.auth import get_user_model

    from consent.models import PurposeConsent
    from fulfilment.services import approve_erasure, execute_erasure, preview_erasure
    from requests_app.services import create_verified_request

    user = user_factory(email="leaving@example.com")
    cid = uuid.uuid4()
    services.record_consent(
        property_key=prop.key, consent_id=cid, revision=1, choices={}, method="accept_all", user=user
    )
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=False)
    data_request = create_verified_request(user=user, kind="erasure")
    preview_erasure(data_request=data_request)
    # The account holder deleting their own account, as /account/delete/ does.
    approve_erasure(data_request=data_request, actor=user, self_service=True, queue=False)
    execute_erasure(data_request=data_request)

    assert not get_user_model().objects.filter(pk=user.pk).exists()
    record = ConsentRecord.objects.get()
    assert record.user_id is None and record.consent_id != cid and record.method == "accept_all"
    assert list(PurposeConsent.objects.values_list("user_id", "granted")) == [(None, False), (None, True)]


def test_a_shared_browser_never_mixes_two_peoples_consent_proof(prop, user_factory):
    """A and B logged in one after the other on one browser: one consent id, two people."""
    from fulfilment.services import approve_erasure, execute_erasure, preview_erasure
    from registry import site
    from requests_app.services import create_verified_request

    a, b = user_factory(), user_factory()
    cid = uuid.uuid4()
    before_login = services.record_consent(
        property_key=prop.key, consent_id=cid, revision=1, choices={}, method="reject_all"
    )
    a_row = services.record_consent(
        property_key=prop.key, consent_id=cid, revision=1, choices={}, method="accept_all", user=a
    )
    b_row = services.record_consent(
        property_key=prop.key, consent_id=cid, revision=1, choices={}, method="custom", user=b
    )
    ds = site.get("consent.ConsentRecord")
    # A's access export: A's own row and the anonymous one made in A's browser, never B's.
    assert set(ds.queryset_for(user_ids=[a.pk])) == {before_login, a_row}
    assert set(ds.queryset_for(user_ids=[b.pk])) == {before_login, b_row}

    data_request = create_verified_request(user=a, kind="erasure")
    preview_erasure(data_request=data_request)
    approve_erasure(data_request=data_request, actor=a, self_service=True, queue=False)
    execute_erasure(data_request=data_request)
    b_row.refresh_from_db()
    assert b_row.user_id == b.pk and b_row.consent_id == cid  # B's proof untouched


def test_a_new_wording_that_asks_again_suspends_earlier_consent(user_factory, purposes):
    user = user_factory()
    other = user_factory()
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    services.set_purpose_consent(user=other, purpose=Purpose.MARKETING, granted=True)
    # A typo fix keeps consents in force.
    PurposeVersion.objects.create(
        purpose=purposes[Purpose.MARKETING], version=2, title="News", wording="Fixed typo", requires_new_consent=False
    )
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    state = {s["purpose"].key: s for s in selectors.list_purpose_states(user=user)}[Purpose.MARKETING]
    assert state["granted"] and not state["outdated"]
    # A change in what is done asks everyone again: nobody is mailed on the strength of the old wording.
    PurposeVersion.objects.create(
        purpose=purposes[Purpose.MARKETING], version=3, title="News and partner offers", wording="Now with partners"
    )
    assert not selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    state = {s["purpose"].key: s for s in selectors.list_purpose_states(user=user)}[Purpose.MARKETING]
    assert state["outdated"] and state["version"].version == 3
    services.set_purpose_consent(user=user, purpose=Purpose.MARKETING, granted=True)
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)
    assert not selectors.has_consent(user=other, purpose=Purpose.MARKETING)
    # A later typo fix does not undo the fresh consent.
    PurposeVersion.objects.create(
        purpose=purposes[Purpose.MARKETING], version=4, title="News", wording="Typo", requires_new_consent=False
    )
    assert selectors.has_consent(user=user, purpose=Purpose.MARKETING)


def test_marketing_subscription_records_only_a_change(user_factory, purposes):
    from consent.models import PurposeConsent

    user = user_factory()
    assert services.set_marketing_subscription(user=user, subscribed=False) is False
    assert services.set_marketing_subscription(user=user, subscribed=True) is True
    assert services.set_marketing_subscription(user=user, subscribed=True) is False
    assert services.set_marketing_subscription(user=user, subscribed=False) is True
    assert list(PurposeConsent.objects.filter(user=user).order_by("pk").values_list("granted", flat=True)) == [
        True,
        False,
    ]
