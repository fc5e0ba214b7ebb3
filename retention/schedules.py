"""The default schedule of each of the portal's scheduled jobs, as created on a new database.

Staff change timing and on/off in admin afterwards; these defaults only fill in a job that has no entry.
"""

from typing import NamedTuple


class DefaultSchedule(NamedTuple):
    name: str
    task: str
    minute: str
    hour: str
    description: str
    day_of_month: str = "*"


DEFAULT_SCHEDULES: tuple[DefaultSchedule, ...] = (
    DefaultSchedule(
        "Retention: enforce policies (nightly)",
        "retention.enforce_retention",
        "30",
        "2",
        "Deletes or anonymises rows past their retention period; writes a run report.",
    ),
    DefaultSchedule(
        "Requests: deadline reminders (hourly)",
        "requests_app.send_deadline_reminders",
        "5",
        "*",
        "Reminds and escalates before request deadlines.",
    ),
    DefaultSchedule(
        "Requests: expire unverified requests (daily)",
        "requests_app.expire_unverified_requests",
        "15",
        "3",
        "Expires requests never verified; sends the one reminder before expiry.",
    ),
    DefaultSchedule(
        "Registry: purge expired exports (daily)",
        "registry.purge_expired_exports",
        "45",
        "3",
        "Removes export files whose download link has expired.",
    ),
    DefaultSchedule(
        "Retention: notify inactive accounts (daily)",
        "retention.notify_inactive_accounts",
        "0",
        "9",
        "Warns inactive accounts and deletes those whose grace period ended without a login.",
    ),
    DefaultSchedule(
        "Retention: execute due account deletions (hourly)",
        "retention.execute_due_account_deletions",
        "20",
        "*",
        "Erases accounts whose self-service deletion grace period has ended.",
    ),
    DefaultSchedule(
        "Policies: activate due versions (hourly)",
        "policies.activate_due_versions",
        "1",
        "*",
        "Publishes privacy-policy versions whose effective date has come.",
    ),
    DefaultSchedule(
        "Connected systems: remind owners and escalate overdue tasks (hourly)",
        "fulfilment.remind_system_tasks",
        "35",
        "*",
        "Reminds system owners before their tasks are due and tells the privacy officers of overdue ones.",
    ),
    DefaultSchedule(
        "Registry: resume exports and erasures after a worker crash (every 5 minutes)",
        "registry.resume_stalled_runs",
        "*/5",
        "*",
        "Queues again the exports and erasures still running with no progress for a while: their worker "
        "crashed. Erasures resume from their last finished step; the request's trail says so.",
    ),
    DefaultSchedule(
        "Consent: daily figures (every 5 minutes)",
        "consent.summarise_consent",
        "*/5",
        "*",
        "Counts the new consent choices per day, website, method and GPC signal for the staff pages' figures "
        "and charts; catches up on the days missed after downtime.",
    ),
    DefaultSchedule(
        "Requests: monthly figures (every 5 minutes)",
        "requests_app.summarise_requests",
        "*/5",
        "*",
        "Counts the requests per month, type, law and status, and how long their answers took, for the metrics "
        "page; recounts only the months that changed and catches up after downtime.",
    ),
    DefaultSchedule(
        "Scanner: scan the websites (monthly)",
        "scanner.scan_websites",
        "0",
        "4",
        "Crawls every website with its addresses in four consent states; new findings are mailed to the "
        "privacy officers. Also resumes a scan whose worker stopped.",
        day_of_month="1",
    ),
)
