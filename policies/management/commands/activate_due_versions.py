from django.core.management.base import BaseCommand

from policies.services import activate_due_versions


class Command(BaseCommand):
    help = "Bring scheduled policy versions whose effective date has come into force (also a periodic task)."

    def handle(self, *args, **options):
        activated = activate_due_versions()
        for version in activated:
            self.stdout.write(f"In force: {version}")
        self.stdout.write(self.style.SUCCESS(f"{len(activated)} version(s) brought into force."))
