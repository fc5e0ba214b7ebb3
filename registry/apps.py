from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = "Personal-data registry"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from audit.verbs import register_verbs
        from registry.checks import registry_check

        register_verbs(
            "registry",
            {
                "hold_placed": _("legal hold placed"),
                "hold_changed": _("legal hold changed"),
                "hold_released": _("legal hold released"),
                "activity_worded": _("processing activity worded"),
                "activity_added": _("processing activity added"),
                "activity_changed": _("processing activity changed"),
                "activity_removed": _("processing activity wording removed"),
            },
        )
        autodiscover_modules("privacy")
        checks.register(registry_check, "registry")
