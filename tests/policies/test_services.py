from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from policies import selectors, services
from policies.models import (
    ChangeNotice,
    DocumentKind,
    NoticeDelivery,
    PolicyAcceptance,
    PolicyEvent,
    VersionStatus,
)

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_publish_non_material_version_supersedes_the_one_in_force(in_force_v1, make_version, staff_user):
    v2 = make_version("# Policy\n\nWe keep your e-mail address and name.\n")
    services.publish_version(version=v2, actor=staff_user)
    in_force_v1.refresh_from_db()
    v2.refresh_from_db()
    assert (in_force_v1.status, v2.status) == (VersionStatus.SUPERSEDED, VersionStatus.IN_FORCE)
    assert in_force_v1.superseded_at is not None and v2.published_by == staff_user
    assert selectors.get_version_in_force(kind=DocumentKind.PRIVACY) == v2
    kinds = list(v2.events.order_by("pk").values_list("verb", "old", "new"))
    assert kinds == [("created", None, "draft"), ("in_force", "draft", "in_force")]
    assert in_force_v1.events.filter(verb="superseded", actor=staff_user).exists()
    assert not ChangeNotice.objects.exists() and mail.outbox == []


def test_version_numbers_count_up_per_document(make_version, privacy_document):
    terms = services.ensure_document(kind=DocumentKind.TERMS)
    numbers = [make_version().number, make_version().number, make_version(document=terms).number]
    assert numbers == [1, 2, 1]


def test_future_effective_date_schedules_then_activation_brings_into_force(in_force_v1, make_version):
    when = timezone.now() + timedelta(days=10)
    v2 = make_version("# Policy\n\nNew text.\n")
    services.publish_version(version=v2, effective_at=when)
    v2.refresh_from_db()
    assert v2.status == VersionStatus.SCHEDULED and v2.effective_at == when
    assert selectors.get_version_in_force(kind="privacy") == in_force_v1

    assert services.activate_due_versions(now=when - timedelta(seconds=1)) == []
    activated = services.activate_due_versions(now=when + timedelta(minutes=1))
    assert [v.pk for v in activated] == [v2.pk]
    in_force_v1.refresh_from_db()
    v2.refresh_from_db()
    assert (in_force_v1.status, v2.status) == (VersionStatus.SUPERSEDED, VersionStatus.IN_FORCE)
    assert services.activate_due_versions(now=when + timedelta(days=1)) == []  # nothing left to do


def test_activate_due_versions_command_runs_the_service(in_force_v1, make_version):
    from io import StringIO

    from django.core.management import call_command

    v2 = make_version("x")
    services.publish_version(version=v2, effective_at=timezone.now() + timedelta(seconds=1))
    v2.__class__.objects.filter(pk=v2.pk).update(effective_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()
    call_command("activate_due_versions", stdout=out)
    v2.refresh_from_db()
    assert v2.status == VersionStatus.IN_FORCE and "1 version(s)" in out.getvalue()


@pytest.mark.parametrize(
    "setup, message",
    [
        ("published", "Only a draft can be published"),
        ("empty", "needs its text"),
        ("material_now", "must take effect in the future"),
        ("older_than_published", "later version is already published"),
    ],
)
def test_publish_refuses_invalid_moves(make_version, setup, message):
    if setup == "published":
        version = make_version(publish=True)
    elif setup == "empty":
        version = make_version("   ")
    elif setup == "material_now":
        version = make_version(is_material=True)
    else:
        version = make_version()
        make_version(publish=True)
    with pytest.raises(ValidationError, match=message):
        services.publish_version(version=version)


def test_published_text_is_frozen(in_force_v1):
    with pytest.raises(ValidationError, match="Only a draft can be edited"):
        services.update_draft(version=in_force_v1, body="rewritten history")


def test_update_draft_records_what_changed(make_version, staff_user):
    draft = make_version()
    services.update_draft(version=draft, actor=staff_user, body="new", summary="s")
    event = draft.events.get(verb=PolicyEvent.Kind.EDITED)
    assert event.actor == staff_user and set(event.note.split(", ")) == {"body", "summary"}


def test_unschedule_returns_to_draft_but_not_after_a_notice(make_version):
    plain = make_version()
    services.publish_version(version=plain, effective_at=timezone.now() + timedelta(days=3))
    assert services.unschedule_version(version=plain).status == VersionStatus.DRAFT
    material = make_version(is_material=True)
    services.publish_version(version=material, effective_at=timezone.now() + timedelta(days=3))
    with pytest.raises(ValidationError, match="already told"):
        services.unschedule_version(version=material)


def _publish_material(make_version, days=7, **kw):
    version = make_version("# Policy\n\nWe now share data with partners.\n", is_material=True, summary="Sharing.")
    return services.publish_version(version=version, effective_at=timezone.now() + timedelta(days=days), **kw)


def test_material_change_mails_every_active_holder_once_in_batches(
    in_force_v1, make_version, user_factory, settings, django_capture_on_commit_callbacks
):
    settings.POLICY_NOTICE_BATCH_SIZE = 2
    users = [user_factory() for _ in range(5)]
    user_factory(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        version = _publish_material(make_version)
    notice = ChangeNotice.objects.get(version=version)
    assert (notice.status, notice.total, notice.sent, notice.batches, notice.batch_size) == ("done", 5, 5, 3, 2)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in users)
    message = mail.outbox[0]
    assert message.extra_headers["X-Portal-Mail-Category"] == "service"
    assert "List-Unsubscribe" not in message.extra_headers
    assert "Sharing." in message.body and f"/privacy/history/privacy/v{version.number}/" in message.body

    # Running the task again (a retry, a duplicate delivery) sends nothing more.
    notice.status = ChangeNotice.Status.SENDING
    notice.save()
    assert services.send_change_notice_batch(notice=notice) is False
    assert len(mail.outbox) == 5 and NoticeDelivery.objects.count() == 5


def test_notice_batch_skips_recipients_already_claimed(in_force_v1, make_version, user_factory, settings):
    settings.POLICY_NOTICE_BATCH_SIZE = 10
    first, second = user_factory(), user_factory()
    version = _publish_material(make_version)  # on_commit not run: nothing sent yet
    notice = version.notice
    NoticeDelivery.objects.create(notice=notice, user=first, status=NoticeDelivery.Status.SENT)
    assert services.send_change_notice_batch(notice=notice) is False
    assert [m.to for m in mail.outbox] == [[second.email]]


def test_notice_releases_claim_when_mail_server_is_down(in_force_v1, make_version, user_factory, monkeypatch):
    user = user_factory()
    version = _publish_material(make_version)

    def down(**kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services, "send_templated_mail", down)
    with pytest.raises(OSError):
        services.send_change_notice_batch(notice=version.notice)
    assert not NoticeDelivery.objects.filter(user=user).exists()  # the retry will send it
    monkeypatch.undo()
    services.send_change_notice_batch(notice=version.notice)
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_material_change_requires_acceptance_from_earlier_members_only(in_force_v1, make_version, user_factory):
    member = user_factory()
    version = _publish_material(make_version, days=1)
    assert selectors.list_pending_acceptances(user=member) == []  # not in force yet
    services.activate_due_versions(now=timezone.now() + timedelta(days=2))
    assert selectors.list_pending_acceptances(user=member) == [version]

    newcomer = user_factory()
    newcomer.date_joined = timezone.now() + timedelta(days=3)
    newcomer.save()
    assert selectors.list_pending_acceptances(user=newcomer) == []

    acceptance = services.accept_version(user=member, version=version, ip="203.0.113.77")
    assert acceptance.ip == "203.0.113.0" and acceptance.accepted_at is not None
    assert selectors.list_pending_acceptances(user=member) == []
    assert services.accept_version(user=member, version=version) == acceptance  # once only
    assert PolicyAcceptance.objects.count() == 1
    assert version.events.filter(verb="accepted", actor=member).count() == 1


def test_later_non_material_version_still_needs_acceptance_of_the_material_change(
    in_force_v1, make_version, user_factory
):
    member = user_factory()
    material = _publish_material(make_version, days=1)
    services.activate_due_versions(now=timezone.now() + timedelta(days=2))
    v3 = make_version("# Policy\n\nTypo fixed.\n")
    services.publish_version(version=v3, now=timezone.now() + timedelta(days=3))
    assert material.pk != v3.pk
    assert selectors.list_pending_acceptances(user=member) == [v3]
    services.accept_version(user=member, version=v3)
    assert selectors.list_pending_acceptances(user=member) == []


def test_only_version_in_force_can_be_accepted(make_version, user_factory):
    with pytest.raises(ValidationError, match="in force"):
        services.accept_version(user=user_factory(), version=make_version())


def test_demo_seed_leaves_a_non_material_version_in_force_with_history(db):
    from io import StringIO

    from policies.demo_data import seed

    seed(users=0, stdout=StringIO())
    seed(users=0, stdout=StringIO())  # idempotent
    privacy = selectors.get_version_in_force(kind="privacy")
    assert privacy.number == 3 and not privacy.is_material
    assert selectors.material_requirements() == []
    assert selectors.get_version_in_force(kind="cookies") and selectors.get_version_in_force(kind="terms")
    assert list(privacy.document.versions.values_list("status", flat=True).order_by("number")) == [
        "superseded",
        "superseded",
        "in_force",
        "draft",
    ]


def test_acceptances_and_notices_are_declared_personal_data_of_their_account_holder(
    in_force_v1, make_version, user_factory, client
):
    from registry import site

    member, other = user_factory(), user_factory()
    version = _publish_material(make_version, days=1)
    services.send_change_notice_batch(notice=version.notice)
    services.activate_due_versions(now=timezone.now() + timedelta(days=2))
    acceptance = services.accept_version(user=member, version=version, ip="203.0.113.77")

    rows = site.get("policies.PolicyAcceptance").queryset_for(user_ids=[member.pk])
    assert list(rows) == [acceptance]
    deliveries = site.get("policies.NoticeDelivery").queryset_for(user_ids=[member.pk])
    assert [d.user_id for d in deliveries] == [member.pk]
    assert not site.get("policies.PolicyAcceptance").queryset_for(user_ids=[other.pk]).exists()
    assert "Policy acceptances" in client.get("/privacy/data/").content.decode()
