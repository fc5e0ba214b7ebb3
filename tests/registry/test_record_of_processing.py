"""The record of processing as an Art. 30 register: activities by purpose, the officer's wording over the
declarations, third-country transfers, the audit trail, and the CSV."""

import csv
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from core.permissions import SUPPORT_AGENT, sync_group_permissions
from registry import selectors, services
from registry.models import ProcessingActivity

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer_in(officer):
    sync_group_permissions()
    return officer


def _activity(name):
    return next(a for a in selectors.processing_activities() if a.name == name)


def _events(activity):
    return AuditEvent.objects.filter(object_id=str(activity.pk), verb__startswith="activity_").order_by("pk")


def test_activities_group_the_declared_fields_by_purpose():
    support = _activity("Customer support")
    # Profiles, conversations and messages all serve this purpose: one activity, with all their categories.
    assert set(support.datasets) == {"Account profile", "Support conversations", "Support messages"}
    assert len(support.categories) > 1 and support.legal_bases and support.retention
    assert support.declared and not support.officer_added
    assert len({a.purpose for a in selectors.processing_activities()}) == len(selectors.processing_activities())


def test_the_officer_wording_wins_and_empty_texts_keep_the_declared_ones(officer_in):
    declared = _activity("Selling our products")
    services.save_processing_activity(
        actor=officer_in,
        purpose="selling our products",
        name="Online shop",
        data_subjects="Customers",
        recipients="Payment provider\nCarrier",
        transfers=[{"recipient": "Carrier", "country": "United States", "safeguard": "Standard contractual clauses"}],
        security_measures="Encryption at rest",
    )
    worded = _activity("Online shop")
    assert worded.recipients == ["Payment provider", "Carrier"]
    assert worded.data_subjects == "Customers" and worded.security_measures == "Encryption at rest"
    assert worded.transfers == [
        {"recipient": "Carrier", "country": "United States", "safeguard": "Standard contractual clauses"}
    ]
    # Texts left empty: still what the declarations and the enforced retention say.
    assert worded.categories == declared.categories and worded.retention == declared.retention
    assert worded.changed_by_officer and not worded.officer_added


def test_an_officer_adds_an_activity_no_declaration_names(officer_in):
    services.save_processing_activity(
        actor=officer_in, purpose="CCTV at the office", name="Video surveillance", data_subjects="Visitors"
    )
    added = _activity("Video surveillance")
    assert added.officer_added and added.data_subjects == "Visitors" and not added.datasets
    assert selectors.processing_activities()[-1].name == "Video surveillance"  # added activities come last
    with pytest.raises(ValidationError):
        services.save_processing_activity(actor=officer_in, purpose="Something new")  # an added one needs a name


def test_changes_are_audited_with_old_and_new_values(officer_in):
    activity = services.save_processing_activity(
        actor=officer_in, purpose="selling our products", security_measures="TLS"
    )
    services.save_processing_activity(
        actor=officer_in, purpose="selling our products", security_measures="TLS and encryption at rest"
    )
    services.save_processing_activity(
        actor=officer_in, purpose="selling our products", security_measures="TLS and encryption at rest"
    )  # nothing changed: no event
    worded, changed = _events(activity)
    assert worded.verb == "activity_worded" and worded.new["security_measures"] == "TLS"
    assert changed.verb == "activity_changed" and changed.actor_id == officer_in.pk
    assert changed.old == {"security_measures": "TLS"} and changed.new == {
        "security_measures": "TLS and encryption at rest"
    }
    services.remove_processing_activity(actor=officer_in, activity=activity)
    assert not ProcessingActivity.objects.exists()
    removed = AuditEvent.objects.get(verb="activity_removed")
    assert removed.old["security_measures"] == "TLS and encryption at rest"
    assert _activity("Selling our products").security_measures == ""  # back to the declarations


def test_staff_without_the_permission_may_not_word_the_record(user_factory):
    from django.contrib.auth.models import Group

    sync_group_permissions()
    agent = user_factory(is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    with pytest.raises(PermissionDenied):
        services.save_processing_activity(actor=agent, purpose="selling our products", data_subjects="Customers")
    assert not ProcessingActivity.objects.exists() and not AuditEvent.objects.filter(verb__startswith="activity_")


def test_a_transfer_names_recipient_and_country(officer_in):
    with pytest.raises(ValidationError):
        services.save_processing_activity(
            actor=officer_in, purpose="selling our products", transfers=[{"recipient": "Carrier", "country": ""}]
        )


def test_third_parties_outside_the_eea_become_transfers(officer_in):
    from consent.models import Vendor

    Vendor.objects.create(name="Carrier", purpose="Delivery", country="United States")
    Vendor.objects.create(name="Analytics Co", purpose="Statistics", country="Canada")
    Vendor.objects.create(name="Local Mail", purpose="Newsletters", country="Belgium")
    services.save_processing_activity(actor=officer_in, purpose="selling our products", recipients="Carrier")
    selling = _activity("Selling our products")
    assert selling.transfers == [{"recipient": "Carrier", "country": "United States", "safeguard": ""}]
    unplaced = selectors.unplaced_vendor_transfers()
    assert [v["recipient"] for v in unplaced] == ["Analytics Co"]  # Belgium is in the EEA
    # The officer records the safeguard: it stands, the vendor is not listed twice.
    services.save_processing_activity(
        actor=officer_in,
        purpose="selling our products",
        recipients="Carrier",
        transfers=[{"recipient": "Carrier", "country": "United States", "safeguard": "Data Privacy Framework"}],
    )
    assert _activity("Selling our products").transfers == [
        {"recipient": "Carrier", "country": "United States", "safeguard": "Data Privacy Framework"}
    ]


def test_connected_systems_columns_join_their_purpose():
    from systems.models import ExternalSystem, SystemDataset, SystemField

    system = ExternalSystem.objects.create(
        key="legacy", name="Legacy shop", owner_name="Shop team", owner_email="shop@example.com", kind="manual"
    )
    dataset = SystemDataset.objects.create(
        system=system, table="orders", title="Old orders", identity={"email": "email"}
    )
    SystemField.objects.create(
        dataset=dataset,
        name="email",
        category="user.contact.email",
        purpose="selling our products",
        legal_basis="contract",
    )
    SystemField.objects.create(
        dataset=dataset, name="note", category="user.content", purpose="warehouse planning", legal_basis="contract"
    )
    assert "Legacy shop: Old orders" in _activity("Selling our products").datasets
    assert _activity("Warehouse planning").datasets == ["Legacy shop: Old orders"]


def test_an_officer_words_an_activity_in_admin(client, officer_in):
    client.force_login(officer_in)
    page = client.get(reverse("admin:registry_recordofprocessing_changelist")).content.decode()
    assert "Complete or reword" in page and "privacy.py" not in page
    form = client.get(reverse("admin:registry_processingactivity_add") + "?purpose=selling+our+products")
    assert 'value="selling our products"' in form.content.decode()
    response = client.post(
        reverse("admin:registry_processingactivity_add"),
        {
            "purpose": "selling our products",
            "name": "",
            "data_subjects": "Customers and prospects",
            "transfers_text": "Carrier; United States; Standard contractual clauses",
            "security_measures": "Encryption at rest",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith("/admin/registry/recordofprocessing/")
    activity = ProcessingActivity.objects.get()
    assert activity.transfers == [
        {"recipient": "Carrier", "country": "United States", "safeguard": "Standard contractual clauses"}
    ]
    assert _events(activity).get().actor_id == officer_in.pk
    page = client.get(reverse("admin:registry_recordofprocessing_changelist")).content.decode()
    assert "Customers and prospects" in page and "Carrier (United States): Standard contractual clauses" in page
    bad = client.post(
        reverse("admin:registry_processingactivity_change", args=[activity.pk]), {"transfers_text": "Carrier"}
    )
    assert bad.status_code == 200 and "recipient; country; safeguard" in bad.content.decode()


def test_read_only_staff_see_the_record_without_the_wording_links(client, user_factory):
    from django.contrib.auth.models import Group

    sync_group_permissions()
    agent = user_factory(is_staff=True)
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    client.force_login(agent)
    page = client.get(reverse("admin:registry_recordofprocessing_changelist"))
    assert page.status_code == 200 and "Customer support" in page.content.decode()
    assert "Complete or reword" not in page.content.decode()
    assert (
        client.post(reverse("admin:registry_processingactivity_add"), {"purpose": "x", "name": "X"}).status_code == 403
    )


def test_the_csv_has_one_row_per_activity_with_transfers(client, officer_in):
    services.save_processing_activity(
        actor=officer_in,
        purpose="CCTV at the office",
        name="Video surveillance",
        transfers=[{"recipient": "Monitoring Co", "country": "India", "safeguard": "Standard contractual clauses"}],
    )
    client.force_login(officer_in)
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("registry:inventory_csv")).content.decode())))
    assert len(rows) == len(selectors.processing_activities())
    cctv = next(r for r in rows if r["activity"] == "Video surveillance")
    assert cctv["added_by_officer"] == "yes"
    assert cctv["third_country_transfers"] == "Monitoring Co (India): Standard contractual clauses"
    selling = next(r for r in rows if r["activity"] == "Selling our products")
    assert selling["data_categories"] and selling["retention"] and selling["security_measures"] == ""
