from django.core.management.base import BaseCommand

from fulfilment.connected import remind_system_tasks


class Command(BaseCommand):
    help = "Remind system owners before their tasks are due and escalate overdue tasks (safe to rerun)."

    def handle(self, *args, **options):
        counts = remind_system_tasks()
        self.stdout.write(
            f"Connected-system tasks: {counts['reminded']} owners reminded, {counts['escalated']} overdue; "
            f"{counts['notices_overdue']} overdue notices to recipients."
        )
