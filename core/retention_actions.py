"""What may happen to data once its retention period is over: the one list of retention actions.

Declared retention rules (the registry's ``RetentionRule``), the editable retention policies and the
nightly enforcement all read it. It lives here, below them all and without models, so that each can
import it without an import cycle.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionAction(models.TextChoices):
    DELETE = "delete", _("Delete rows")
    NULL = "null", _("Clear fields (set to empty)")
    MASK = "mask", _("Mask fields")
    PSEUDONYMISE = "pseudonymise", _("Pseudonymise fields")
    KEEP = "keep", _("Keep (no action; documents the period)")
    ACCOUNT_FLOW = "inactive_accounts", _("Warn, then delete unless the user logs in")


# Actions that change named fields and leave the row: they need a list of fields, the others take none.
FIELD_ACTIONS: tuple[str, ...] = (RetentionAction.NULL, RetentionAction.MASK, RetentionAction.PSEUDONYMISE)

# Actions the nightly run applies to a dataset's rows. Keep does nothing; the account flow warns first and
# deletes accounts through the audited erasure, on its own schedule.
ENFORCEABLE: tuple[str, ...] = (RetentionAction.DELETE, *FIELD_ACTIONS)
