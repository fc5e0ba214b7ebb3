"""A retention policy's "Dry run" and "Run now": through the service, permission-gated, ending on one report."""

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.permissions import PRIVACY_OFFICER, SUPPORT_AGENT, sync_group_permissions
from retention import locks, selectors
from retention.models import RetentionRun, RunLease, SweepSample
from retention.services import PolicyRunRefused, run_retention_policy
from tests.conftest import is_postgres

pytestmark = pytest.mark.django_db


def _member(user_factory, group, email):
    sync_group_permissions()
    user = user_factory(is_staff=True, email=email)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def officer(user_factory):
    return _member(user_factory, PRIVACY_OFFICER, "officer@example.com")


@pytest.fixture
def agent(user_factory):
    return _member(user_factory, SUPPORT_AGENT, "agent@example.com")


@pytest.fixture
def held_lock(db):
    """Another process holds the enforcement lock (a fresh lease; PostgreSQL's advisory lock is per session)."""
    if is_postgres():
        pytest.skip("on PostgreSQL the lock is an advisory lock, held per database session")
    now = timezone.now()
    RunLease.objects.create(
        name=locks.LOCK_NAME, token="x" * 32, holder="elsewhere:1", acquired_at=now, expires_at=now + locks.LEASE
    )


def test_dry_run_counts_one_policy_and_changes_nothing(sample_policy, make_samples, officer):
    make_samples(3)
    run = run_retention_policy(policy=sample_policy, dry_run=True, actor=officer)
    assert run.dry_run and run.trigger == "admin" and run.only_policy == "samples"
    assert run.items.get().matched == 3 and SweepSample.objects.count() == 3


def test_run_now_enforces_one_policy(sample_policy, make_samples, officer):
    make_samples(2)
    run = run_retention_policy(policy=sample_policy, dry_run=False, actor=officer)
    assert not run.dry_run and run.items.get().deleted == 2 and not SweepSample.objects.exists()


def test_run_now_is_refused_without_the_change_permission(sample_policy, make_samples, user_factory):
    make_samples(1)
    looker = user_factory(is_staff=True, email="looker@example.com")
    with pytest.raises(PermissionDenied):
        run_retention_policy(policy=sample_policy, dry_run=False, actor=looker)
    with pytest.raises(PermissionDenied):
        run_retention_policy(policy=sample_policy, dry_run=True, actor=looker)
    assert SweepSample.objects.count() == 1 and not RetentionRun.objects.exists()


def test_run_now_refuses_a_switched_off_policy(sample_policy, officer):
    sample_policy.enabled = False
    sample_policy.save()
    with pytest.raises(ValidationError, match="switched off"):
        run_retention_policy(policy=sample_policy, dry_run=False, actor=officer)


def test_a_locked_run_says_so_politely(sample_policy, make_samples, officer, held_lock):
    make_samples(1)
    with pytest.raises(PolicyRunRefused, match="Another retention run is under way"):
        run_retention_policy(policy=sample_policy, dry_run=False, actor=officer)
    assert SweepSample.objects.count() == 1


def test_policy_page_offers_both_buttons_to_an_officer(client, sample_policy, officer):
    client.force_login(officer)
    page = client.get(f"/admin/retention/retentionpolicy/{sample_policy.pk}/change/").content.decode()
    assert "Dry run</button>" in page and "Run now</button>" in page


def test_policy_page_offers_a_support_agent_neither_button(client, sample_policy, agent):
    client.force_login(agent)
    response = client.get(f"/admin/retention/retentionpolicy/{sample_policy.pk}/change/")
    page = response.content.decode()
    assert "Run now</button>" not in page
    run = client.post(f"/admin/retention/retentionpolicy/{sample_policy.pk}/run/", {"mode": "run"})
    assert run.status_code in (302, 403) and not RetentionRun.objects.exists()


def test_dry_run_button_ends_on_the_run_report_with_one_message(client, sample_policy, make_samples, officer):
    make_samples(3)
    client.force_login(officer)
    response = client.post(f"/admin/retention/retentionpolicy/{sample_policy.pk}/run/", {"mode": "dry"}, follow=True)
    run = RetentionRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/retention/retentionrun/{run.pk}/change/"
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "3 rows are past their period" in messages[0] and "nothing was changed" in messages[0]
    assert SweepSample.objects.count() == 3


def test_run_now_button_deletes_and_links_to_the_report(client, sample_policy, make_samples, officer):
    make_samples(2)
    client.force_login(officer)
    response = client.post(f"/admin/retention/retentionpolicy/{sample_policy.pk}/run/", {"mode": "run"}, follow=True)
    run = RetentionRun.objects.get()
    assert not run.dry_run and not SweepSample.objects.exists()
    assert f'href="/admin/retention/retentionrun/{run.pk}/change/"' in response.content.decode()


def test_run_now_button_when_locked_stays_on_the_policy_with_a_polite_word(
    client, sample_policy, make_samples, officer, held_lock
):
    make_samples(1)
    client.force_login(officer)
    url = f"/admin/retention/retentionpolicy/{sample_policy.pk}/"
    response = client.post(f"{url}run/", {"mode": "run"}, follow=True)
    assert response.redirect_chain[-1][0] == f"{url}change/"
    assert "Another retention run is under way" in response.content.decode()
    assert SweepSample.objects.count() == 1 and not RetentionRun.objects.exists()


def test_a_get_to_the_run_url_runs_nothing(client, sample_policy, make_samples, officer):
    make_samples(1)
    client.force_login(officer)
    assert client.get(f"/admin/retention/retentionpolicy/{sample_policy.pk}/run/").status_code == 302
    assert not RetentionRun.objects.exists()


# --- what staff read --------------------------------------------------------------------------------


def test_policy_list_shows_dataset_titles_and_field_paths_in_words(client, staff_user, db):
    from retention.policies import sync_policies

    sync_policies()
    client.force_login(staff_user)
    page = client.get("/admin/retention/retentionpolicy/").content.decode()
    assert "requests_app.DataRequest" not in page and "conversation__closed_at" not in page
    assert selectors.dataset_title("demo.SupportMessage") in page
    assert selectors.field_path_words("demo.SupportMessage", "conversation__closed_at") in page


def test_field_path_words_follow_the_relation_through_verbose_names():
    from demo.models import SupportConversation

    closed = str(SupportConversation._meta.get_field("closed_at").verbose_name)
    words = selectors.field_path_words("demo.SupportMessage", "conversation__closed_at")
    assert "__" not in words and words.lower().endswith(closed.lower())


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.0014664880000054836, "< 0.1 s"), (0.2, "0.2 s"), (0.24, "0.2 s"), (12.4, "12 s"), (185, "3 min 5 s")],
)
def test_durations_are_rounded_for_a_person(seconds, text):
    assert selectors.duration_text(seconds) == text


def test_actions_are_words_not_stored_values():
    assert selectors.action_label("null") == "Clear fields (set to empty)"


def test_run_title_is_in_the_organisations_time_zone(settings, sample_policy):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    run = RetentionRun.objects.create(now=timezone.now())
    RetentionRun.objects.filter(pk=run.pk).update(started_at=datetime(2026, 1, 5, 23, 30, tzinfo=ZoneInfo("UTC")))
    run.refresh_from_db()
    assert "Jan. 6, 2026" in str(run) and "12:30 a.m." in str(run)  # Europe/Brussels, the admin's format


def test_a_policys_audit_trail_shows_its_runs_in_words(client, staff_user, sample_policy, make_samples):
    from retention.enforcement import enforce_retention

    make_samples(2)
    enforce_retention()
    client.force_login(staff_user)
    trail = client.get(f"/admin/retention/retentionpolicy/{sample_policy.pk}/audit/").content.decode()
    assert "Status: — → Done" in trail and "Skipped for a hold: — → 0" in trail
    assert "→ done" not in trail and "Skipped hold" not in trail
