from django.core.management.base import BaseCommand

from requests_app.services import send_deadline_reminders


class Command(BaseCommand):
    help = "Remind assignees before request due dates and escalate unassigned or overdue requests (safe to rerun)."

    def handle(self, *args, **options):
        counts = send_deadline_reminders()
        self.stdout.write(f"Reminders: {counts['assignee']} to assignees, {counts['escalation']} escalated.")
