"""Warn inactive accounts; delete those warned whose grace period ended without a login."""

from django.core.management.base import BaseCommand

from fulfilment.lifecycle import notify_inactive_accounts


class Command(BaseCommand):
    help = "Warn accounts inactive for INACTIVE_ACCOUNT_WARNING_MONTHS; delete warned ones after the grace period."

    def handle(self, *args, **options):
        result = notify_inactive_accounts()
        self.stdout.write(", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in result.items()))
