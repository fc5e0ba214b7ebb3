"""Create missing retention policies from the registry's rules (staff edits are kept)."""

from django.core.management.base import BaseCommand

from retention.policies import sync_policies


class Command(BaseCommand):
    help = "Seed retention policies from the registry's declared rules without overwriting staff edits."

    def handle(self, *args, **options):
        result = sync_policies()
        self.stdout.write(f"created: {result['created']}, updated: {result['updated']}")
