from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from systems.declarations import InvalidSystemsFile
from systems.services import load_systems


class Command(BaseCommand):
    help = "Load connected systems and their datasets from a YAML file (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the systems file, or - for standard input")

    def handle(self, *args, file, **options):
        try:
            text = self.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot read {file}: {exc.strerror}")
        try:
            systems = load_systems(text=text)
        except InvalidSystemsFile as exc:
            for error in exc.errors:
                self.stderr.write(f"{file}: {error}")
            raise CommandError(f"{file} has {len(exc.errors)} error(s); nothing was loaded.")
        for system in systems:
            self.stdout.write(f"{system.key}: {system.name}, {system.datasets.count()} table(s)")
