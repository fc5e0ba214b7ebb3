from django.apps import AppConfig
from django.core import checks
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from accounts.signals import apply_group_permissions
        from privacyportal.security import check_production_settings

        checks.register(check_production_settings, checks.Tags.security, deploy=True)

        # Runs after each app's migrate, once auth has created that app's permissions.
        post_migrate.connect(apply_group_permissions, dispatch_uid="accounts.apply_group_permissions")
