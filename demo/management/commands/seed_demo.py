"""Load demo data: the organisation, a staff login, and each app's demo records.

Each app that has demo data exposes ``<app>/demo_data.py`` with
``seed(*, users: int, stdout) -> None``; they run in ``SEEDERS`` order.
"""

import importlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.selectors import get_organisation
from core.services import update_organisation

SEEDERS = ["policies", "consent", "scanner", "demo", "requests_app", "retention"]


class Command(BaseCommand):
    help = "Create demo data: organisation, staff login, policies, consent property, host-app users and datasets."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=50, help="number of demo account holders")
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the staff login already exists")

    def handle(self, *args, users: int, if_empty: bool, **options):
        User = get_user_model()
        if if_empty and User.objects.filter(email=settings.DEMO_ADMIN_EMAIL).exists():
            self.stdout.write("Demo data already loaded.")
            return
        # One transaction: an interrupted first run leaves nothing behind, so `--if-empty` (which looks for
        # the staff login) seeds everything again instead of keeping half the demo data for good.
        with transaction.atomic():
            update_organisation(
                organisation=get_organisation(),
                name="Example Organisation",
                legal_name="Example Organisation B.V.",
                postal_address="Examplestraat 1\n1000 Brussels\nBelgium",
                contact_email="privacy@example.com",
                dpo_name="Dana Example",
                dpo_email="dpo@example.com",
                supervisory_authority_name="Data Protection Authority (example)",
                supervisory_authority_url="https://authority.example.com/",
                supervisory_authority_email="complaints@authority.example.com",
            )
            admin = User.objects.filter(email=settings.DEMO_ADMIN_EMAIL).first()
            if admin is None:
                admin = User.objects.create_superuser(
                    username="admin", email=settings.DEMO_ADMIN_EMAIL, password=settings.DEMO_ADMIN_PASSWORD
                )
            _verify_email(admin)
            for app in SEEDERS:
                try:
                    module = importlib.import_module(f"{app}.demo_data")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{app}.demo_data":
                        raise
                    continue
                module.seed(users=users, stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(f"Demo data loaded. Staff login: {admin.email} / {settings.DEMO_ADMIN_PASSWORD}")
        )


def _verify_email(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
