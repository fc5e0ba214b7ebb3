from django.core.management.base import BaseCommand

from systems.services import dump_systems_text


class Command(BaseCommand):
    help = "Write the declared connected systems as a systems file (the format load_systems reads)."

    def add_arguments(self, parser):
        parser.add_argument("keys", nargs="*", help="only these systems")

    def handle(self, *args, keys, **options):
        self.stdout.write(dump_systems_text(keys=keys or None), ending="")
