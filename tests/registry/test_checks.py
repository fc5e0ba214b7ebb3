"""The registry refuses declarations it could not keep, and registers other apps' models from outside."""

import pytest

from registry import LegalBasis, PersonalField, PrivacyRegistry, Strategy, site
from registry.checks import check_registry


def _ids(registry):
    return {e.id for e in check_registry(registry)}


def _field(name, **kw):
    return PersonalField(name, category="user.contact.email", purpose="p", legal_basis=LegalBasis.CONTRACT, **kw)


@pytest.mark.smoke
def test_project_registry_passes_its_own_checks():
    assert check_registry(site) == []


def test_missing_field_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.TrafficLog", user_path="user", fields=[_field("no_such_field")])
    assert "registry.E001" in _ids(r)


def test_null_on_non_null_field_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.TrafficLog", user_path="user", fields=[_field("path", strategy=Strategy.NULL)])
    assert "registry.E002" in _ids(r)


def test_null_on_nullable_field_is_fine():
    r = PrivacyRegistry()
    r.register("demo.TrafficLog", user_path="user", fields=[_field("ip_address", strategy=Strategy.NULL)])
    assert _ids(r) == set()


def test_mask_on_unique_field_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.Order", user_path="user", fields=[_field("number", strategy=Strategy.MASK)])
    assert "registry.E003" in _ids(r)


def test_mask_on_a_field_unique_through_a_unique_constraint_is_an_error():
    # SentReminder declares Meta.constraints = [UniqueConstraint(fields=[..., "recipient"])].
    r = PrivacyRegistry()
    r.register(
        "requests_app.SentReminder", email_field="recipient", fields=[_field("recipient", strategy=Strategy.MASK)]
    )
    assert "registry.E003" in _ids(r)


def test_keep_in_a_dataset_whose_rows_are_deleted_is_an_error():
    r = PrivacyRegistry()
    r.register(
        "demo.Invoice",
        user_path="user",
        fields=[
            _field("billing_address"),  # no strategy given: delete the row
            _field("vat_number", strategy=Strategy.KEEP, keep_reason="tax law"),
        ],
    )
    assert "registry.E014" in _ids(r)
    r = PrivacyRegistry()
    r.register(
        "demo.Invoice",
        user_path="user",
        fields=[_field("billing_address"), _field("billing_company", strategy=Strategy.MASK)],
    )
    assert _ids(r) == {"registry.W001"}


def test_mask_on_a_field_too_short_for_the_mask_text_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.Order", user_path="user", fields=[_field("currency", strategy=Strategy.MASK)])
    assert "registry.E008" in _ids(r)
    r = PrivacyRegistry()
    r.register("demo.Order", user_path="user", fields=[_field("billing_name", strategy=Strategy.MASK)])
    assert _ids(r) == set()


def test_keep_without_reason_unknown_category_and_basis_are_errors():
    r = PrivacyRegistry()
    r.register(
        "demo.TrafficLog",
        user_path="user",
        fields=[
            _field("path", strategy=Strategy.KEEP),
            PersonalField("user_agent", category="user.nonsense", purpose="p", legal_basis="because"),
        ],
    )
    assert {"registry.E005", "registry.E009", "registry.E010"} <= _ids(r)


def test_pseudonymise_needs_room_for_the_pseudonym():
    r = PrivacyRegistry()
    r.register("demo.Invoice", user_path="user", fields=[_field("currency", strategy=Strategy.PSEUDONYMISE)])
    assert "registry.E008" in _ids(r)


def test_model_without_subject_lookup_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.TrafficLog", fields=[_field("path")])
    assert "registry.E007" in _ids(r)


def test_check_stops_manage_py(monkeypatch):
    """The registered system check reports errors from the project-wide site."""
    from django.core import checks

    bad = PrivacyRegistry()
    bad.register("demo.TrafficLog", user_path="user", fields=[_field("nope")])
    monkeypatch.setattr("registry.sites.site", bad)
    errors = [e for e in checks.run_checks(tags=["registry"]) if e.id.startswith("registry.")]
    assert errors and errors[0].is_serious()


@pytest.mark.smoke
def test_auth_user_is_registered_from_outside_its_app():
    ds = site.get("auth.User")
    assert ds.model._meta.app_label == "auth"
    assert ds.field("email").category == "user.contact.email"
    assert "password" not in ds.export_field_names()
    # The account is erased after every other dataset.
    assert site.datasets()[-1].label == "auth.User"


@pytest.mark.django_db
def test_subject_q_finds_rows_by_user_email_and_custom_lookup(user_factory, subject_data):
    from demo.models import SupportMessage

    alice, bob = user_factory(), user_factory()
    subject_data(alice)
    subject_data(bob)
    ds = site.get("demo.SupportMessage")
    rows = SupportMessage.objects.filter(ds.subject_q(user_ids=[alice.pk]))
    assert rows.count() == 2 and all(r.conversation.user_id == alice.pk for r in rows)
    by_email = SupportMessage.objects.filter(ds.subject_q(emails=[alice.email.upper()]))
    assert set(by_email) == set(rows)
    assert not SupportMessage.objects.filter(ds.subject_q()).exists()


def test_retention_rules_are_declared_data():
    rules = {r.name: r for r in site.retention_rules()}
    assert rules["invoices-tax"].period_months == 84 and rules["invoices-tax"].period_text == "84 months"
    assert rules["comment-ip"].period_days == 30 and rules["comment-ip"].period_text == "30 days"
    assert rules["closed-requests"].action == "delete" and rules["closed-requests"].period_months == 24
    assert (
        rules["inactive-accounts"].dataset == "auth.User" and rules["inactive-accounts"].action == "inactive_accounts"
    )
    assert rules["comment-ip"].action == "null" and rules["comment-ip"].fields == ("ip_address",)
    assert rules["support-closed"].filters == {"status": "closed"}


def test_pseudonymise_is_keyed_stable_and_not_the_input(settings):
    from registry.strategies import pseudonymise

    a = pseudonymise("alice@example.com")
    assert a == pseudonymise("Alice@example.com ") and "alice" not in a
    settings.PSEUDONYMISATION_KEY = "another key"
    assert pseudonymise("alice@example.com") != a
    assert pseudonymise(a) == a  # idempotent


def test_rectify_fields_must_be_registered_fields():
    r = PrivacyRegistry()
    r.register(
        "demo.Order", user_path="user", rectifiable=True, rectify_fields=("nope",), fields=[_field("billing_name")]
    )
    assert "registry.E001" in _ids(r)


def test_a_retention_rule_has_one_period_and_a_known_action():
    from registry import RetentionRule
    from retention.models import RetentionAction

    assert set(RetentionRule.ACTIONS) == set(RetentionAction.values)
    for periods in ({}, {"period_days": 30, "period_months": 1}, {"period_days": -1}):
        with pytest.raises(ValueError, match="period_days or period_months"):
            RetentionRule(name="r", dataset="demo.TrafficLog", date_field="created_at", **periods)


def test_retention_rule_with_an_unknown_action_or_misplaced_fields_is_an_error():
    from registry import RetentionRule

    def ids_for(**kw):
        r = PrivacyRegistry()
        rule = RetentionRule(name="t", dataset="demo.TrafficLog", date_field="created_at", period_days=1, **kw)
        r.register("demo.TrafficLog", user_path="user", fields=[_field("ip_address")], retention=[rule])
        return _ids(r)

    assert "registry.E013" in ids_for(action="shred")
    assert "registry.E013" in ids_for(action="null")  # which fields?
    assert "registry.E013" in ids_for(action="delete", fields=("ip_address",))
    assert "registry.E013" not in ids_for(action="null", fields=("ip_address",))


@pytest.mark.parametrize(
    ("label", "column"),
    [
        ("usersessions.UserSession", "session_key"),
        ("auth.User", "password"),
        ("requests_app.DataRequest", "status_nonce"),
    ],
)
def test_a_column_named_like_a_credential_must_be_marked_secret(label, column):
    r = PrivacyRegistry()
    r.register(label, user_path="user" if label != "auth.User" else "pk", fields=[])
    errors = [e for e in check_registry(r) if e.id == "registry.E015"]
    assert [column in e.msg for e in errors] == [True]
    marked = PrivacyRegistry()
    marked.register(label, user_path="user" if label != "auth.User" else "pk", fields=[], secret_fields=[column])
    assert "registry.E015" not in _ids(marked)


def test_a_registered_field_marked_secret_passes_and_is_never_exported():
    r = PrivacyRegistry()
    ds = r.register("auth.User", user_path="pk", fields=[_field("password", strategy=Strategy.DELETE, secret=True)])
    assert "registry.E015" not in _ids(r)
    assert "password" not in ds.export_field_names() and ds.withheld_field_names() == ["password"]
    # Still erased as declared: the mark hides the value, it does not take the field out of erasure.
    assert ds.field("password").strategy == Strategy.DELETE


def test_an_unknown_secret_field_is_an_error():
    r = PrivacyRegistry()
    r.register("demo.TrafficLog", user_path="user", fields=[_field("path")], secret_fields=["no_such_column"])
    assert "registry.E001" in _ids(r)


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("session_key", True),
        ("api_token", True),
        ("password_hash", True),
        ("client_secret", True),
        ("otp", True),
        ("otp_code", True),
        ("key_hash", True),
        ("footprint", False),
        ("email", False),
        ("ip_address", False),
    ],
)
def test_secret_names(name, secret):
    from registry.checks import looks_secret

    assert looks_secret(name) is secret
