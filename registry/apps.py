from django.apps import AppConfig
from django.core import checks


class RegistryConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "registry"
    verbose_name = "Personal-data registry"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        from registry.checks import registry_check

        autodiscover_modules("privacy")
        checks.register(registry_check, "registry")
