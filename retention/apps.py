from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RetentionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "retention"
    verbose_name = "Retention"

    def ready(self):
        from registry.selectors import set_enforced_retention_texts_reader
        from retention import signals
        from retention.selectors import enforced_policy_texts

        signals.connect()
        set_enforced_retention_texts_reader(enforced_policy_texts)
        post_migrate.connect(signals.on_post_migrate, sender=self, dispatch_uid="retention.seed_policies")
        from audit.verbs import register_verbs
        from retention.models import JobEventKind, RetentionVerb

        register_verbs("retention", {**dict(RetentionVerb.choices), **dict(JobEventKind.choices)})
