from django.core.management.base import BaseCommand

from requests_app.services import summarise_requests


class Command(BaseCommand):
    help = (
        "Bring the monthly request figures (the metrics page) up to date with the requests. Safe to rerun; after "
        "downtime it catches up on every month it missed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recount every month the requests span.")

    def handle(self, *args, **options):
        result = summarise_requests(full=options["full"])
        self.stdout.write(f"Request figures: {result['months']} month(s) recounted, {result['rows']} figure row(s).")
