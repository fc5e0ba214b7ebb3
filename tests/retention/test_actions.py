"""Retention actions come from one list: core.retention_actions."""

import pytest
from django.core.exceptions import ValidationError

from core.retention_actions import ENFORCEABLE, FIELD_ACTIONS, RetentionAction
from retention.models import RetentionPolicy


def test_policies_and_declared_rules_offer_the_same_actions():
    from registry.sites import RetentionRule

    field = RetentionPolicy._meta.get_field("action")
    assert [value for value, _label in field.choices] == RetentionAction.values
    # Declared rules are checked against the same actions (until they read this list themselves).
    assert tuple(RetentionRule.ACTIONS) == tuple(RetentionAction.values)
    assert tuple(RetentionRule.FIELD_ACTIONS) == FIELD_ACTIONS
    assert set(ENFORCEABLE) == set(RetentionAction.values) - {RetentionAction.KEEP, RetentionAction.ACCOUNT_FLOW}


@pytest.mark.django_db
# Every action but the account flow, which applies to accounts only.
@pytest.mark.parametrize("action", [a for a in RetentionAction.values if a != RetentionAction.ACCOUNT_FLOW])
def test_only_field_actions_take_fields(action):
    policy = RetentionPolicy(
        name="t", dataset="demo.TrafficLog", period=1, date_field="created_at", action=action, fields=["ip_address"]
    )
    errors = {}
    try:
        policy.clean()
    except ValidationError as exc:
        errors = exc.message_dict
    assert ("fields" in errors) == (action not in FIELD_ACTIONS), errors
