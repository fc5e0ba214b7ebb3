from django.core.management.base import BaseCommand

from demo.services import send_newsletter


class Command(BaseCommand):
    help = "Send the demo product's newsletter to subscribers who consented and did not restrict or object."

    def add_arguments(self, parser):
        parser.add_argument("--subject", default="What's new this month")
        parser.add_argument("--body", default="New features, tips and an update on our roadmap.")
        parser.add_argument("--limit", type=int, default=None)

    def handle(self, *args, subject, body, limit, **options):
        sent = send_newsletter(subject=subject, body=body, limit=limit)
        self.stdout.write(f"Newsletter sent to {sent} recipient(s).")
