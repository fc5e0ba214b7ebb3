"""Receivers of other packages' documented signals."""

from policies import services


def record_acceptances_on_signup(sender, request, user, **kwargs) -> None:
    """allauth's ``user_signed_up``: keep the proof of the terms and policy the sign-up page named."""
    from core.ratelimit import client_ip

    services.record_signup_acceptances(user=user, ip=client_ip(request) if request is not None else None)
