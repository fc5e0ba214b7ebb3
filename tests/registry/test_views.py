"""Download access control, the public data page, the record of processing, the fulfilment panel."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from fulfilment import services
from fulfilment.models import DataExport, ExportDownload


@pytest.fixture
def ready_export(user_factory, subject_data, verified_request_for):
    owner = user_factory()
    subject_data(owner)
    export = services.build_export(export=services.start_export(data_request=verified_request_for(owner)))
    return owner, export


def _url(export, token=""):
    url = reverse("fulfilment:export_download", args=[export.pk])
    assert "download" in url and url.startswith("/privacy/data/exports/")
    return f"{url}?t={token}" if token else url


@pytest.mark.django_db
def test_export_download_is_not_cached_nor_referred(client, ready_export):
    owner, export = ready_export
    client.force_login(owner)
    response = client.get(_url(export))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store" and response["Referrer-Policy"] == "strict-origin"


@pytest.mark.smoke
@pytest.mark.django_db
def test_owner_downloads_and_every_download_is_audited(client, ready_export):
    owner, export = ready_export
    client.force_login(owner)
    response = client.get(_url(export))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content)[:2] == b"PK"
    assert ExportDownload.objects.filter(export=export, user=owner, via="session").count() == 1
    assert export.data_request.events.filter(verb="export_downloaded").exists()


@pytest.mark.smoke
@pytest.mark.django_db
def test_other_users_anonymous_and_expired_links_are_refused(client, ready_export, user_factory):
    from requests_app.services import make_status_token

    owner, export = ready_export
    token = make_status_token(export.data_request)
    assert client.get(_url(export)).status_code == 302  # anonymous: to login
    assert client.get(_url(export, "forged-token")).status_code == 403
    client.force_login(user_factory())
    assert client.get(_url(export)).status_code == 403
    assert client.get(_url(export, token)).status_code == 403  # someone else's account, even with the link
    client.logout()
    assert client.get(_url(export, token)).status_code == 200  # holder of the secret status link
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(owner)
    assert client.get(_url(export)).status_code == 403
    assert ExportDownload.objects.filter(export=export).count() == 1


@pytest.mark.django_db
def test_progress_json_only_for_the_requester(client, ready_export, user_factory):
    owner, export = ready_export
    url = reverse("fulfilment:export_progress", args=[export.pk])
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).json()["percent"] == 100


@pytest.mark.django_db
def test_fulfilment_panel_shows_download_link_to_owner(ready_export):
    owner, export = ready_export
    request = RequestFactory().get("/requests/x/")
    request.user = owner
    request.resolver_match = None
    html = Template("{% load fulfilment_tags %}{% fulfilment_panel dr %}").render(
        Context({"request": request, "dr": export.data_request})
    )
    assert _url(export) in html and "Download your data" in html


@pytest.mark.smoke
@pytest.mark.django_db
def test_public_data_page_says_what_why_how_long_and_who(client):
    response = client.get("/privacy/data/")
    text = response.content.decode()
    assert response.status_code == 200
    for words in ("Traffic logs", "Invoices", "7 years", "Payment provider", "Legal obligation", "IP address"):
        assert words in text


@pytest.mark.django_db
def test_record_of_processing_in_admin_and_as_csv(client, staff_user, user_factory):
    import csv
    import io

    client.force_login(user_factory())
    assert client.get(reverse("registry:inventory_csv")).status_code == 302
    client.force_login(staff_user)
    page = client.get(reverse("admin:registry_recordofprocessing_changelist"))
    # One entry per activity (purpose), categories in words, not their taxonomy keys.
    assert page.status_code == 200 and b">Selling our products</h2>" in page.content
    assert b"user.device.ip_address" not in page.content
    rows = list(csv.DictReader(io.StringIO(client.get(reverse("registry:inventory_csv")).content.decode())))
    selling = next(r for r in rows if r["activity"] == "Selling our products")
    assert selling["datasets"] == "Orders" and selling["legal_basis"] and selling["retention"]


@pytest.mark.django_db
def test_rectification_records_diff_and_tells_requester(
    client, staff_user, user_factory, subject_data, verified_request_for, django_capture_on_commit_callbacks, mailoutbox
):
    from demo.models import Profile

    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user, kind="rectification")
    client.force_login(staff_user)
    page = client.get(reverse("fulfilment:rectify", args=[data_request.pk]))
    assert b"job_title" in page.content
    profile = Profile.objects.get(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("fulfilment:rectify", args=[data_request.pk]),
            {"dataset": "demo.Profile", "pk": profile.pk, "field": "job_title", "value": "Chief Engineer"},
        )
    profile.refresh_from_db()
    assert profile.job_title == "Chief Engineer"
    event = data_request.events.filter(verb="fulfilment", new="Chief Engineer").get()
    assert event.old == "Engineer"
    assert any(user.email in m.to for m in mailoutbox)


@pytest.mark.django_db
def test_erasure_review_page_approves_for_officer(client, officer, user_factory, subject_data, verified_request_for):
    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user, kind="erasure")
    client.force_login(officer)
    url = reverse("fulfilment:erasure_review", args=[data_request.pk])
    client.post(url, {"action": "preview"})
    page = client.get(url)
    assert b"Rows to delete" in page.content and b"tax law" in page.content
    client.post(url, {"action": "approve"})
    assert data_request.erasure_run.state != "previewed"


@pytest.mark.django_db
def test_registry_admin_lists_requests_to_fulfil_with_their_pages(client, user_factory, verified_request_for):
    from django.contrib.auth.models import Group

    from core.permissions import SUPPORT_AGENT, sync_group_permissions

    sync_group_permissions()
    agent = user_factory(is_staff=True)  # a support agent works the queue through the group's permissions
    agent.groups.add(Group.objects.get(name=SUPPORT_AGENT))
    access = verified_request_for(user_factory(), kind="access")
    erasure = verified_request_for(user_factory(), kind="erasure")
    rectification = verified_request_for(user_factory(), kind="rectification")
    client.force_login(agent)
    index = client.get(reverse("admin:index"))
    queue_url = reverse("admin:fulfilment_fulfilmentqueue_changelist")
    assert queue_url in index.content.decode()
    html = client.get(queue_url).content.decode()
    assert reverse("fulfilment:start_export", args=[access.pk]) in html
    assert reverse("fulfilment:erasure_review", args=[erasure.pk]) in html
    assert reverse("fulfilment:rectify", args=[rectification.pk]) in html
    assert reverse("admin:requests_app_datarequest_change", args=[access.pk]) in html
    assert client.get(reverse("fulfilment:rectify", args=[rectification.pk])).status_code == 200


@pytest.mark.django_db
def test_start_export_page_confirms_then_queues_and_refuses_outside_redirects(
    client, staff_user, user_factory, verified_request_for
):
    data_request = verified_request_for(user_factory(), kind="portability")
    client.force_login(staff_user)
    url = reverse("fulfilment:start_export", args=[data_request.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"Start the export" in page.content
    assert not DataExport.objects.filter(data_request=data_request).exists()  # GET changes nothing
    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response.status_code == 302 and response.url == reverse("admin:fulfilment_dataexport_changelist")
    assert DataExport.objects.filter(data_request=data_request).count() == 1
    assert client.post(url, {"next": url}).url == url
    changelist = client.get(reverse("admin:fulfilment_dataexport_changelist")).content.decode()
    assert url in changelist


@pytest.mark.django_db
def test_rectify_refuses_other_subjects_rows_and_bad_input_without_error_pages(
    client, staff_user, user_factory, subject_data, verified_request_for
):
    from demo.models import Profile

    user, other = user_factory(), user_factory()
    subject_data(user)
    subject_data(other)
    data_request = verified_request_for(user, kind="rectification")
    others_profile = Profile.objects.get(user=other)
    client.force_login(staff_user)
    url = reverse("fulfilment:rectify", args=[data_request.pk])
    for data in (
        {"dataset": "demo.Profile", "pk": others_profile.pk, "field": "job_title", "value": "Hacked"},
        {"dataset": "demo.Profile", "pk": "not-a-number", "field": "job_title", "value": "x"},
        {"dataset": "nope.Nothing", "pk": 1, "field": "job_title", "value": "x"},
        {"dataset": "demo.Profile", "pk": others_profile.pk, "field": "password", "value": "x"},
    ):
        response = client.post(url, data, follow=True)
        assert response.status_code == 200
        assert any(m.level_tag == "error" for m in response.context["messages"])
    others_profile.refresh_from_db()
    assert others_profile.job_title == "Engineer"


@pytest.mark.django_db
def test_rectification_only_through_an_open_rectification_request(
    client, staff_user, user_factory, verified_request_for, mailoutbox, django_capture_on_commit_callbacks
):
    from django.core.exceptions import ValidationError

    from requests_app.services import withdraw_request

    user = user_factory(first_name="Hieronymus", last_name="Wrongname")
    access = verified_request_for(user, kind="access")
    closed = verified_request_for(user, kind="rectification")
    withdraw_request(data_request=closed, actor="requester")
    client.force_login(staff_user)
    change = {"dataset": "auth.User", "pk": user.pk, "field": "last_name", "value": "Rightname"}
    for data_request, refusal in (
        (access, "only be rectified through a rectification request"),
        (closed, "data can no longer be rectified through it"),
    ):
        url = reverse("fulfilment:rectify", args=[data_request.pk])
        page = client.get(url).content.decode()
        assert refusal in page and 'name="value"' not in page  # the page says why and offers no form
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, change, follow=True)
        assert any(m.level_tag == "error" and refusal in str(m) for m in response.context["messages"])
        with pytest.raises(ValidationError):
            services.rectify_field(data_request=data_request, actor=staff_user, **change)
    user.refresh_from_db()
    assert user.last_name == "Wrongname" and mailoutbox == []
    assert not access.events.filter(new="Rightname").exists()
    # An open one works.
    open_request = verified_request_for(user, kind="rectification")
    services.rectify_field(data_request=open_request, actor=staff_user, **change)
    user.refresh_from_db()
    assert user.last_name == "Rightname"


@pytest.mark.django_db
def test_legal_hold_admin_refuses_unknown_datasets_and_holds_without_target(client, staff_user):
    from registry.models import LegalHold

    client.force_login(staff_user)
    url = reverse("admin:registry_legalhold_add")
    page = client.get(url)
    assert b'value="demo.TrafficLog"' in page.content
    for data in ({"dataset": "demo.Nothing", "reason": "Audit"}, {"reason": "Audit"}, {"dataset": "demo.Order"}):
        response = client.post(url, data)
        assert response.status_code == 200 and response.context["adminform"].form.errors
    assert not LegalHold.objects.exists()
    response = client.post(url, {"dataset": "demo.Order", "reason": "Tax audit 2026"})
    assert response.status_code == 302
    hold = LegalHold.objects.get()
    assert hold.dataset == "demo.Order" and hold.created_by == staff_user


@pytest.mark.django_db
def test_rectification_page_never_offers_credentials_or_the_login_email(
    client, staff_user, user_factory, subject_data, verified_request_for
):
    user = user_factory(first_name="Aurelie", last_name="Maes")
    subject_data(user)
    data_request = verified_request_for(user, kind="rectification")
    client.force_login(staff_user)
    url = reverse("fulfilment:rectify", args=[data_request.pk])
    html = client.get(url).content.decode()
    assert 'value="first_name"' in html and 'value="job_title"' in html
    # Contact and billing details held elsewhere can be corrected too; issued invoices cannot.
    assert 'value="demo.Order"' in html and 'value="billing_address"' in html
    assert 'value="demo.NewsletterSubscription"' in html and 'value="demo.Invoice"' not in html
    assert 'value="password"' not in html and user.password not in html
    assert f'id="f-auth.User-{user.pk}-email"' not in html and 'value="username"' not in html
    assert f'id="f-auth.User-{user.pk}-first_name"' in html
    for field in ("password", "email"):
        response = client.post(url, {"dataset": "auth.User", "pk": user.pk, "field": field, "value": "x"}, follow=True)
        assert any(m.level_tag == "error" for m in response.context["messages"])
    user.refresh_from_db()
    assert user.check_password("Correct-horse-42") and user.email != "x"


@pytest.mark.django_db
def test_restriction_admin_actions_tell_then_lift_and_refuse_cleanly(client, staff_user, user_factory):
    from registry.models import ProcessingRestriction

    restriction = services.restrict_processing(user=user_factory(), kind="restriction")
    client.force_login(staff_user)
    url = reverse("admin:registry_processingrestriction_changelist")
    response = client.post(url, {"action": "lift", "_selected_action": [restriction.pk]}, follow=True)
    assert "Tell the requester" in response.content.decode()
    client.post(url, {"action": "notify_lift", "_selected_action": [restriction.pk]})
    client.post(url, {"action": "lift", "_selected_action": [restriction.pk]})
    restriction.refresh_from_db()
    assert restriction.lift_notified_at and restriction.lifted_at
    response = client.post(url, {"action": "notify_lift", "_selected_action": [restriction.pk]}, follow=True)
    assert response.status_code == 200 and "already lifted" in response.content.decode()
    assert ProcessingRestriction.objects.count() == 1


@pytest.mark.django_db
def test_public_data_page_states_the_retention_actually_enforced(client):
    from retention.models import RetentionPolicy
    from retention.policies import sync_policies

    sync_policies()
    text = client.get("/privacy/data/").content.decode()
    assert "cleared 30 days after the comment" in text
    assert "deleted 24 months after closing" in text

    # A staff edit of the enforced policy is what the public page then says.
    policy = RetentionPolicy.objects.get(name="comment-ip")
    policy.description = "IP addresses of blog comments are cleared 14 days after the comment."
    policy.save()
    text = client.get("/privacy/data/").content.decode()
    assert "cleared 14 days after the comment" in text
    assert "cleared 30 days after the comment" not in text


@pytest.mark.django_db
def test_record_of_processing_csv_neutralises_formulas(client, staff_user):
    import csv
    import io

    from registry import site
    from retention.models import RetentionPolicy

    rule = site.retention_rules()[0]
    # Staff edit enforced policies' descriptions in admin; the CSV shows them as the retention text.
    RetentionPolicy.objects.update_or_create(
        name=rule.name,
        defaults={
            "dataset": rule.dataset,
            "period": 1,
            "date_field": rule.date_field,
            "action": "delete",
            "enabled": True,
            "description": '+HYPERLINK("https://attacker.example.com")',
        },
    )
    client.force_login(staff_user)
    rows = list(csv.reader(io.StringIO(client.get(reverse("registry:inventory_csv")).content.decode(), newline="")))
    retention = rows[0].index("retention")
    assert '\'+HYPERLINK("https://attacker.example.com")' in [r[retention] for r in rows[1:]]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r)


@pytest.mark.django_db
def test_erasure_review_refuses_an_unknown_action_with_a_message(
    client, officer, user_factory, subject_data, verified_request_for
):
    user = user_factory()
    subject_data(user)
    data_request = verified_request_for(user, kind="erasure")
    client.force_login(officer)
    url = reverse("fulfilment:erasure_review", args=[data_request.pk])
    response = client.post(url, {"action": "erase-everything"}, follow=True)
    assert response.status_code == 200
    assert "Choose what to do with the erasure." in response.content.decode()
    from fulfilment.models import ErasureRun

    assert not ErasureRun.objects.filter(data_request=data_request).exclude(state="previewed").exists()
