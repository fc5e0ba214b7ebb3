from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policies"
    verbose_name = "Privacy policies"

    def ready(self):
        from audit.verbs import register_verbs
        from policies.models import PolicyEvent

        register_verbs("policies", dict(PolicyEvent.Kind.choices))
