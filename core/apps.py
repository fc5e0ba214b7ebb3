from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Organisation and privacy centre"

    def ready(self):
        from django.utils.translation import gettext_lazy as _

        from audit.verbs import register_verbs

        register_verbs("core", {"organisation_changed": _("organisation details changed")})
