from datetime import timedelta

import pytest
from django.utils import timezone

from retention.models import RetentionAction, RetentionPolicy, SweepSample


@pytest.fixture
def sample_policy(db):
    """A delete-after-30-days policy on the sample dataset, alone (seeded policies are removed)."""
    RetentionPolicy.objects.all().delete()
    return RetentionPolicy.objects.create(
        name="samples",
        dataset="retention.SweepSample",
        period=30,
        period_unit="days",
        date_field="created_at",
        action=RetentionAction.DELETE,
        legal_basis="Test data, not needed after 30 days.",
    )


@pytest.fixture
def make_samples(db):
    def make(count: int, *, age_days: int = 40, **fields):
        created = timezone.now() - timedelta(days=age_days)
        return SweepSample.objects.bulk_create(
            [
                SweepSample(
                    **{"created_at": created, "email": f"s{i}@example.com", "ip_address": "192.0.2.1", **fields}
                )
                for i in range(count)
            ]
        )

    return make


@pytest.fixture
def on_batch(monkeypatch):
    """Register hooks called as each batch is acted on, inside its transaction, whichever path the engine
    takes (one statement per batch for plain deletes on PostgreSQL, a window of rows otherwise)."""
    from retention import enforcement

    hooks = []
    real_apply, real_statement = enforcement._apply, enforcement._run_batch_statement

    def apply(policy, model, window):
        for hook in hooks:
            hook()
        return real_apply(policy, model, window)

    def statement(sql, params):
        for hook in hooks:
            hook()
        return real_statement(sql, params)

    monkeypatch.setattr(enforcement, "_apply", apply)
    monkeypatch.setattr(enforcement, "_run_batch_statement", statement)
    return hooks.append
