"""Every staff path that changes a hold, a restriction, an export, an erasure or an account flow writes the one
audit trail: who, which record, which verb, old and new values, and the request it belongs to."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import ActorKind, AuditEvent
from core.permissions import sync_group_permissions
from fulfilment import lifecycle
from fulfilment.models import DataExport, ErasureRun, InactiveAccountNotice
from registry.models import LegalHold, ProcessingRestriction

pytestmark = pytest.mark.django_db


def events_of(obj, verb=None):
    qs = AuditEvent.objects.filter(content_type__model=obj._meta.model_name, object_id=str(obj.pk))
    return qs.filter(verb=verb) if verb else qs


@pytest.fixture
def officer_client(client, officer):
    sync_group_permissions()
    client.force_login(officer)
    return client


def test_a_hold_placed_changed_and_released_in_admin_is_in_the_trail(officer_client, officer, user_factory):
    subject = user_factory(email="held@example.com")
    response = officer_client.post(
        "/admin/registry/legalhold/add/",
        {
            "user": subject.pk,
            "email": "",
            "dataset": "",
            "reason": "Pending litigation",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hold = LegalHold.objects.get(user=subject)
    assert hold.created_by == officer
    [placed] = events_of(hold, "hold_placed")
    assert (placed.actor, placed.actor_kind, placed.new["reason"]) == (officer, ActorKind.STAFF, "Pending litigation")

    officer_client.post(
        f"/admin/registry/legalhold/{hold.pk}/change/",
        {
            "user": subject.pk,
            "email": "",
            "dataset": "",
            "reason": "Litigation, case 42",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )
    [changed] = events_of(hold, "hold_changed")
    assert changed.old == {"reason": "Pending litigation"} and changed.new == {"reason": "Litigation, case 42"}

    officer_client.post("/admin/registry/legalhold/", {"action": "release", "_selected_action": [hold.pk]})
    [released] = events_of(hold, "hold_released")
    assert released.actor == officer
    trail = officer_client.get(f"/admin/registry/legalhold/{hold.pk}/audit/").content.decode()
    assert "legal hold placed" in trail and "legal hold released" in trail and "hold_placed" not in trail


def test_restriction_lift_through_admin_actions_is_in_its_trail_and_its_requests(
    officer_client, officer, user_factory, verified_request_for
):
    from fulfilment.services import restrict_processing

    data_request = verified_request_for(user_factory(), kind="objection")
    restriction = ProcessingRestriction.objects.filter(request_reference=data_request.reference).first()
    if restriction is None:  # objection requests wait for approval when proven by e-mail only
        restriction = restrict_processing(data_request=data_request, kind="objection", actor=officer)
    for action in ("notify_lift", "lift"):
        officer_client.post(
            "/admin/registry/processingrestriction/", {"action": action, "_selected_action": [restriction.pk]}
        )
    verbs = list(events_of(restriction).values_list("verb", "actor", "request_reference"))
    assert ("restriction_lift_announced", officer.pk, data_request.reference) in verbs
    assert ("restriction_lifted", officer.pk, data_request.reference) in verbs
    assert data_request.events.filter(verb="restriction_lifted").exists()  # in the request's timeline too


def test_erasure_approved_in_admin_and_an_export_started_by_staff_name_their_actor(
    officer_client, officer, user_factory, subject_data, verified_request_for, django_capture_on_commit_callbacks
):
    from fulfilment.services import preview_erasure

    subject = user_factory()
    subject_data(subject)
    erasure = verified_request_for(subject, kind="erasure")
    run = preview_erasure(data_request=erasure)
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post("/admin/fulfilment/erasurerun/", {"action": "approve", "_selected_action": [run.pk]})
    run.refresh_from_db()
    assert run.state == ErasureRun.State.COMPLETED
    [approved] = events_of(run, "erasure_approved")
    assert approved.actor == officer and (approved.old, approved.new) == ("previewed", "approved")
    assert events_of(run, "erasure_completed").get().actor_kind == ActorKind.SYSTEM

    access = verified_request_for(user_factory(), kind="access")
    DataExport.objects.filter(data_request=access).delete()
    officer_client.post(reverse("fulfilment:start_export", args=[access.pk]))
    export = DataExport.objects.get(data_request=access)
    started = events_of(export, "export_started").get()
    assert started.actor == officer and started.request_reference == access.reference


def test_account_deletion_and_its_cancellation_are_in_the_trail_by_role_not_by_name(user_factory):
    holder = user_factory(email="leaving@example.com", username="leaving-holder")
    deletion = lifecycle.request_account_deletion(user=holder)
    lifecycle.cancel_account_deletion(user=holder)
    rows = list(events_of(deletion).values_list("verb", "actor_label", "new", "request_reference"))
    assert rows == [
        ("deletion_scheduled", "account holder", "scheduled", deletion.request_reference),
        ("deletion_cancelled", "account holder", "cancelled", deletion.request_reference),
    ]


def test_inactivity_warning_and_the_login_that_cancels_it_are_in_the_trail(user_factory, mailoutbox):
    from django.contrib.auth import get_user_model

    idle = user_factory(email="idle@example.com")
    get_user_model().objects.filter(pk=idle.pk).update(last_login=timezone.now() - timedelta(days=900))
    lifecycle.notify_inactive_accounts()
    lifecycle.cancel_inactivity_notices(user=idle)
    notice = InactiveAccountNotice.objects.get(user=idle)
    verbs = list(events_of(notice).values_list("verb", "actor_kind", "new"))
    assert verbs == [
        ("inactivity_warned", ActorKind.SYSTEM, "warned"),
        ("inactivity_closed", ActorKind.REQUESTER, "cancelled"),
    ]
