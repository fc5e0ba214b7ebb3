from django.core.management.base import BaseCommand

from consent.services import summarise_consent


class Command(BaseCommand):
    help = (
        "Bring the daily consent figures (staff pages' counts and charts) up to date with the consent log. "
        "Safe to rerun; after downtime it catches up on every day it missed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recount every day the log holds.")

    def handle(self, *args, **options):
        result = summarise_consent(full=options["full"])
        self.stdout.write(
            f"Consent figures: {result['days']} day(s) recounted, {result['rows']} figure row(s), "
            f"up to record {result['last_record_id']}."
        )
