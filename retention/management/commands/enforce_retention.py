"""Enforce the retention policies now (the nightly job runs the same service).

Exit status: 0 when the run finished (its report says whether a policy failed), 75 (EX_TEMPFAIL)
when another run holds the lock and this one did nothing, 1 for bad arguments.
"""

import sys

from django.core.management.base import BaseCommand, CommandError

from retention.enforcement import RunLocked, enforce_retention
from retention.models import RetentionPolicy

BAR_WIDTH = 30
# sysexits.h EX_TEMPFAIL: try again later. Monitoring tells a refused run from a real one by it.
EXIT_LOCKED = 75


class Command(BaseCommand):
    help = "Delete or anonymise rows past their retention period, in batches; --dry-run only counts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")
        parser.add_argument("--policy", metavar="NAME", help="only this policy (by name)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, dry_run: bool, policy: str | None, no_progress: bool, **options):
        show_bar = not no_progress
        try:
            run = enforce_retention(
                dry_run=dry_run, policy_name=policy, trigger="command", progress=self._bar if show_bar else None
            )
        except RunLocked as exc:
            raise CommandError(str(exc), returncode=EXIT_LOCKED)
        except RetentionPolicy.DoesNotExist as exc:
            raise CommandError(str(exc))
        if show_bar:
            self.stdout.write("")
        title = "Dry run: nothing was changed." if dry_run else f"Retention run {run.pk}: {run.get_status_display()}."
        self.stdout.write(self.style.SUCCESS(title) if run.status == "completed" else self.style.ERROR(title))
        verb = "would " if dry_run else ""
        for item in run.items.all():
            line = (
                f"  {item.policy_name} ({item.dataset}, {item.action}): matched {item.matched}, "
                f"{verb}delete {item.deleted}, {verb}modify {item.modified}, skipped for hold {item.skipped_hold}, "
                f"{item.batches} batches, {item.duration_seconds:.2f}s"
            )
            if item.errors:
                line += f"\n    error: {item.errors.splitlines()[0]}"
            self.stdout.write(line)

    def _bar(self, item, done: int, total: int) -> None:
        total = max(total, done, 1)
        filled = int(BAR_WIDTH * done / total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stdout.write(f"\r{item.policy_name[:28]:<28} [{bar}] {done}/{total}", ending="")
        if done >= total:
            self.stdout.write("")
        if hasattr(sys.stdout, "flush"):
            self.stdout.flush()
