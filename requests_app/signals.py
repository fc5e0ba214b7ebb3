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

# ``request_mail_settled``: sent in the worker once one of a request's mails is settled: sent, or given up on
# after its last retry. Receivers get ``sender=None``, ``data_request_id=`` and ``mail=`` (the mail's name, e.g.
# ``"completed"``). Fulfilment listens to it to seal an erasure request's own name and address, which the
# completion mail still needed.
request_mail_settled = Signal()

MAIL_TASK = "requests_app.send_request_mail"


def _settled(task, args) -> None:
    if getattr(task, "name", "") != MAIL_TASK or not args or len(args) < 2:
        return
    request_mail_settled.send(sender=None, data_request_id=args[0], mail=args[1])


def _on_task_success(sender=None, **kwargs) -> None:
    _settled(sender, getattr(getattr(sender, "request", None), "args", None))


def _on_task_failure(sender=None, args=None, **kwargs) -> None:
    _settled(sender, args)


def connect() -> None:
    from celery.signals import task_failure, task_success

    task_success.connect(_on_task_success, weak=False, dispatch_uid="requests_app.mail_settled_on_success")
    task_failure.connect(_on_task_failure, weak=False, dispatch_uid="requests_app.mail_settled_on_failure")
