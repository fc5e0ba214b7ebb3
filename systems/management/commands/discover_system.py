from django.core.management.base import BaseCommand, CommandError

from systems.declarations import InvalidSystemsFile
from systems.discovery import propose_declaration
from systems.engine import SystemUnavailable
from systems.models import ExternalSystem
from systems.selectors import get_system
from systems.services import accept_proposal, proposal_text


class Command(BaseCommand):
    help = "Read a connected database's schema (never its rows), show the difference from the declaration, propose one."

    def add_arguments(self, parser):
        parser.add_argument("key", help="the system's key")
        parser.add_argument("--accept", action="store_true", help="make the proposal the declaration")

    def handle(self, *args, key, accept, **options):
        try:
            system = get_system(key=key)
        except ExternalSystem.DoesNotExist:
            raise CommandError(f"no connected system with the key {key}")
        try:
            proposal = propose_declaration(system=system)
        except SystemUnavailable as exc:
            raise CommandError(f"cannot read the schema of {exc}")
        err = self.stderr
        lines = proposal.diff.lines()
        err.write("\n".join(f"  {line}" for line in lines) if lines else "  the declaration matches the schema")
        for table in proposal.unlinked:
            err.write(f"  left out: {table} (no column ties its rows to a person)")
        if accept:
            try:
                accept_proposal(system=system, datasets=proposal.datasets)
            except InvalidSystemsFile as exc:
                raise CommandError(f"the proposal needs editing before it can be accepted:\n{exc}")
            err.write(f"accepted: {system.name} now declares {len(proposal.datasets)} table(s)")
        else:
            self.stdout.write(proposal_text(system=system, datasets=proposal.datasets), ending="")
