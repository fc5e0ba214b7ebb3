from django.core.management.base import BaseCommand

from requests_app.services import expire_unverified_requests


class Command(BaseCommand):
    help = "Expire requests left unverified too long and remind their requesters once before (safe to rerun)."

    def handle(self, *args, **options):
        counts = expire_unverified_requests()
        self.stdout.write(f"Expired {counts['expired']} request(s); reminded {counts['reminded']} requester(s).")
