"""Documented hooks for code outside this app.

``request_verified``: sent once a data-subject request becomes verified, after the transaction
that verified it has committed. A request confirmed only by the e-mail link whose kind releases data
or changes processing (``services.APPROVAL_KINDS``) is sent later instead: when a staff member
approves it (``services.approve_release``). Receivers get ``sender=DataRequest`` and ``data_request=`` (the
request instance). The registry listens to it to start automatic fulfilment of access and
portability requests. Receivers must not assume they run inside a transaction.
"""

from django.dispatch import Signal

request_verified = Signal()
