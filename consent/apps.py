from django.apps import AppConfig


class ConsentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consent"
    verbose_name = "Consent"

    def ready(self):
        from audit.verbs import register_verbs
        from consent.selectors import vendors_for_record
        from consent.services import ConfigVerb
        from registry.selectors import set_vendors_reader

        register_verbs("consent", dict(ConfigVerb.choices))
        # The record of processing lists the websites' third parties outside the EEA as transfers.
        set_vendors_reader(vendors_for_record)
