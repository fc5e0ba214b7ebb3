"""Listens to the requests app's documented hook to start fulfilment automatically."""

import logging

logger = logging.getLogger(__name__)


def on_request_verified(sender, data_request, **kwargs):
    from registry import services

    try:
        services.start_automatic_fulfilment(data_request=data_request)
    except Exception:
        # Verification already happened; fulfilment can be started again from admin.
        logger.exception("Automatic fulfilment of %s failed", data_request.reference)


COMPLETION_MAIL_TASK = "requests_app.send_request_mail"


def _completion_mail_request_id(task, args) -> int | None:
    if getattr(task, "name", "") != COMPLETION_MAIL_TASK or not args or len(args) < 2 or args[1] != "completed":
        return None
    return args[0]


def on_mail_task_success(sender=None, **kwargs):
    """The completion mail went out: the erasure request's own name and address can now be sealed."""
    request_id = _completion_mail_request_id(sender, getattr(getattr(sender, "request", None), "args", None))
    if request_id is not None:
        from registry import services

        services.seal_after_completion_mail(data_request_id=request_id)


def on_mail_task_failure(sender=None, args=None, **kwargs):
    """Retries are exhausted: the mail will not go, so nothing needs the address any more."""
    request_id = _completion_mail_request_id(sender, args)
    if request_id is not None:
        from registry import services

        services.seal_after_completion_mail(data_request_id=request_id)


def connect() -> None:
    from celery.signals import task_failure, task_success

    task_success.connect(on_mail_task_success, weak=False, dispatch_uid="registry.seal_on_mail_success")
    task_failure.connect(on_mail_task_failure, weak=False, dispatch_uid="registry.seal_on_mail_failure")
    try:
        from requests_app.signals import request_verified
    except ImportError:
        logger.info("requests_app.signals.request_verified not available yet; automatic fulfilment is off.")
        return
    request_verified.connect(on_request_verified, dispatch_uid="registry.on_request_verified")
