from django.core.management.base import BaseCommand

from fulfilment.services import purge_expired_exports


class Command(BaseCommand):
    help = "Delete export ZIPs whose download link has expired."

    def handle(self, *args, **options):
        self.stdout.write(f"Removed {purge_expired_exports()} expired export(s).")
