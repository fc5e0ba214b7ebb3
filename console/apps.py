from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The staff console's home: a dashboard that reads across the apps below it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "console"
    verbose_name = _("Staff console")

    def ready(self):
        from django.contrib import admin

        admin.site.index_template = "admin/console/dashboard.html"

        from policies.promises import set_enforced_periods_reader
        from retention.selectors import enforced_periods

        # Policy texts are filled and checked with the periods retention enforces; the two apps are siblings.
        set_enforced_periods_reader(enforced_periods)
