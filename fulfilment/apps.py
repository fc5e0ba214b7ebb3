from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfilment"
    verbose_name = "Fulfilment"

    def ready(self):
        from audit.verbs import register_verbs
        from fulfilment import receivers
        from fulfilment.verbs import VERBS

        receivers.connect()
        register_verbs("fulfilment", VERBS)
        register_verbs("registry", VERBS)  # restrictions are registry records changed by fulfilment
