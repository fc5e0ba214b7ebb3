"""Changes an account holder makes to their own account (sign-in itself is django-allauth's)."""

from django.db import transaction


@transaction.atomic
def update_name(*, user, name: str):
    """Store the account holder's full name as first and last name (split at the first space)."""
    first, _sep, last = " ".join(name.split()).partition(" ")
    user.first_name, user.last_name = first[:150], last[:150]
    user.save(update_fields=["first_name", "last_name"])
    return user


@transaction.atomic
def complete_signup(*, user, name: str, ip: str) -> None:
    """Finish a new account: store the name, and the proof of the terms and policy the sign-up page named."""
    from policies.services import record_signup_acceptances

    update_name(user=user, name=name)
    record_signup_acceptances(user=user, ip=ip)
