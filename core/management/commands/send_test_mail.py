from django.core.management.base import BaseCommand

from core.mail import send_templated_mail


class Command(BaseCommand):
    help = "Send a test e-mail through the configured EMAIL_URL."

    def add_arguments(self, parser):
        parser.add_argument("to")

    def handle(self, *args, to: str, **options):
        send_templated_mail(to=[to], template="mail/core/test", context={"note": ""})
        self.stdout.write(self.style.SUCCESS(f"Sent a test mail to {to}."))
