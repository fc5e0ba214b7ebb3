"""Documented hooks for code outside this app.

``consent_withdrawn``: sent after commit when an identified person withdraws a purpose consent (their consents
page, their e-mail preferences, an unsubscribe link, staff), and when a logged-in account's browser sends a Global
Privacy Control signal with a banner choice (an opt-out of sale or sharing). Receivers get ``sender=None``,
``user=`` (the account), ``purpose=`` (the purpose's key; ``"sale_or_sharing"`` for GPC), ``source=`` (where the
choice was made) and ``gpc=`` (True for a GPC signal). Fulfilment listens to it to tell the recipients (the
connected systems that declare the ``consent`` or ``opt_out`` action). Receivers must not assume they run inside a
transaction.
"""

from django.dispatch import Signal

consent_withdrawn = Signal()

GPC_PURPOSE = "sale_or_sharing"


def announce_withdrawal(*, user, purpose: str, source: str, gpc: bool = False) -> None:
    """Send ``consent_withdrawn`` once the current transaction commits."""
    from django.db import transaction

    transaction.on_commit(
        lambda: consent_withdrawn.send(sender=None, user=user, purpose=purpose, source=source, gpc=gpc)
    )
