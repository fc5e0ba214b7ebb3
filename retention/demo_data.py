"""Demo data for retention: the policies, seeded from the registry's rules."""

from retention.policies import sync_policies


def seed(*, users: int, stdout) -> None:
    result = sync_policies()
    stdout.write(f"Retention policies: {result['created']} created, {result['updated']} refreshed.")
