from django.apps import AppConfig


class ScannerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scanner"
    verbose_name = "Website scanner"

    def ready(self):
        from audit.verbs import register_verbs
        from scanner.models import ScanVerb

        register_verbs("scanner", dict(ScanVerb.choices))
