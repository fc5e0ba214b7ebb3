from django.apps import AppConfig


class ConsentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consent"
    verbose_name = "Consent"

    def ready(self):
        from audit.verbs import register_verbs
        from consent.services import ConfigVerb

        register_verbs("consent", dict(ConfigVerb.choices))
