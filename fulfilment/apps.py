from django.apps import AppConfig


class FulfilmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "fulfilment"
    verbose_name = "Fulfilment"

    def ready(self):
        from audit.verbs import register_verbs
        from consent.selectors import set_recipients_told_reader
        from fulfilment import receivers
        from fulfilment.propagation import recipients_told_for_user
        from fulfilment.verbs import VERBS

        receivers.connect()
        set_recipients_told_reader(recipients_told_for_user)
        register_verbs("fulfilment", VERBS)
        register_verbs("registry", VERBS)  # restrictions are registry records changed by fulfilment
