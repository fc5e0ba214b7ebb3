from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class SystemsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "systems"
    verbose_name = _("Connected systems")

    def ready(self):
        from audit.verbs import register_verbs
        from registry import site
        from registry.selectors import set_external_fields_reader
        from systems.checks import declared_columns_check
        from systems.selectors import declared_columns_for_record, external_dataset_labels

        register_verbs(
            "systems",
            {
                "loaded": _("declaration loaded from a file"),
                "changed": _("declaration changed"),
                "discovery_accepted": _("proposal from the database's layout accepted"),
                "undeclared_data": _("sent data under a title it does not declare"),
            },
        )
        # It connects out to every system, so it is a deployment check: ``manage.py check --deploy --tag systems``.
        checks.register(declared_columns_check, "systems", deploy=True)
        site.set_external_datasets(external_dataset_labels)
        set_external_fields_reader(declared_columns_for_record)
