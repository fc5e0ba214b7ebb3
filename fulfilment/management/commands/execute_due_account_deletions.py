"""Erase accounts whose self-service deletion grace period has ended."""

from django.core.management.base import BaseCommand

from fulfilment.lifecycle import execute_due_account_deletions


class Command(BaseCommand):
    help = "Execute self-service account deletions whose grace period has ended."

    def handle(self, *args, **options):
        result = execute_due_account_deletions()
        self.stdout.write(f"executed: {result['executed']}, failed: {result['failed']}")
