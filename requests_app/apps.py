from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "requests_app"
    verbose_name = "Data-subject requests"

    def ready(self):
        from audit.verbs import register_verbs
        from requests_app.models import EventKind

        register_verbs("requests_app", dict(EventKind.choices))
        from requests_app import signals

        signals.connect()
