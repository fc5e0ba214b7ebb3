"""Every task that retries takes its policy from core.retry, so the numbers live in one place."""

from core import retry

POLICIES = {"mail": retry.MAIL_RETRY, "mail batch": retry.MAIL_BATCH_RETRY, "scheduled": retry.SCHEDULED_JOB_RETRY}
EXPECTED = {
    "core.send_templated_mail": "mail",
    "requests_app.send_request_mail": "mail",
    "consent.alert_refused_origin": "mail",
    "policies.send_change_notice_batch": "mail batch",
    "requests_app.send_deadline_reminders": "scheduled",
    "requests_app.expire_unverified_requests": "scheduled",
    "policies.activate_due_versions": "scheduled",
    "retention.enforce_retention": "scheduled",
}


def _policy_of(task) -> dict:
    return {
        "autoretry_for": tuple(getattr(task, "autoretry_for", ())),
        "retry_backoff": getattr(task, "retry_backoff", False),
        "retry_jitter": getattr(task, "retry_jitter", True),
        "max_retries": task.max_retries,
    }


def test_tasks_use_the_retry_policies():
    from privacyportal.celery import app

    app.loader.import_default_modules()
    for name, policy in EXPECTED.items():
        # Celery's defaults stand where a policy says nothing (jitter on, for one).
        wanted = {"retry_jitter": True, **POLICIES[policy]}
        assert _policy_of(app.tasks[name]) == wanted, name


def test_only_transient_errors_are_retried():
    assert all(p["autoretry_for"] == (OSError,) for p in POLICIES.values())
    assert retry.MAIL_BATCH_RETRY["max_retries"] > retry.MAIL_RETRY["max_retries"]
