from django.core.management.base import BaseCommand

from fulfilment.recovery import resume_stalled_runs


class Command(BaseCommand):
    help = "Queue again the exports and erasures still running with no progress for FULFILMENT_STALL_MINUTES."

    def handle(self, *args, **options):
        result = resume_stalled_runs()
        self.stdout.write(f"Resumed {result['erasures']} erasure(s) and restarted {result['exports']} export(s).")
