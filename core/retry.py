"""How the portal's Celery tasks retry: one policy per kind of job, spread into ``@shared_task(...)``.

Only transient errors are retried: a database, broker or SMTP server that cannot be reached raises an
``OSError`` (``ConnectionError``, ``smtplib.SMTPServerDisconnected``, socket timeouts). Anything else is a
bug or bad data, and retrying would only repeat it.
"""

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OSError,)

# One mail: the SMTP server may be away for a while. Eight tries, 30 s doubling (Celery caps each wait at
# ten minutes), jittered so that a queue of mails does not return all at once: about an hour in all.
MAIL_RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 30, "retry_jitter": True, "max_retries": 8}

# A batch of mails resumes where it stopped, so a few more tries cost nothing and spare a whole notice.
MAIL_BATCH_RETRY = {**MAIL_RETRY, "max_retries": 10}

# A scheduled job retries a few times instead of waiting for its next schedule; after that the next run
# picks up whatever is left (every scheduled job is idempotent).
SCHEDULED_JOB_RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 60, "max_retries": 3}

# Work that waits on one of the organisation's connected systems (an export or erasure step in its database):
# a system that is down for maintenance comes back within hours, so keep trying, up to half an hour apart, for
# about two days. The caller names the exception to retry on (the connected system's "unavailable").
CONNECTED_SYSTEM_RETRY = {"retry_backoff": 30, "retry_backoff_max": 1800, "retry_jitter": True, "max_retries": 100}
