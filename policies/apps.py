from django.apps import AppConfig


class PoliciesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "policies"
    verbose_name = "Privacy policies"

    def ready(self):
        from audit.verbs import register_verbs
        from policies.models import PolicyEvent

        register_verbs("policies", dict(PolicyEvent.Kind.choices))

        from allauth.account.signals import user_signed_up

        from policies.receivers import record_acceptances_on_signup

        # Through allauth's public signal, so that accounts need not know about policies.
        user_signed_up.connect(record_acceptances_on_signup, dispatch_uid="policies.signup_acceptances")
