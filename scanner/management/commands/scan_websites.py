from django.core.management.base import BaseCommand

from scanner.services import scan_websites


class Command(BaseCommand):
    help = "Queue a scan of every website that has addresses and monthly scans on (the monthly job)."

    def handle(self, *args, **options):
        started = scan_websites()
        self.stdout.write(f"{len(started)} scan(s) queued.")
