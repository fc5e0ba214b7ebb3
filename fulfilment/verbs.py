"""How fulfilment's audit events read in the trail."""

from django.utils.translation import gettext_lazy as _

VERBS = {
    "export_started": _("export started"),
    "export_building": _("export being prepared"),
    "export_ready": _("export ready"),
    "export_failed": _("export failed"),
    "export_restarted": _("export restarted after a crash"),
    "export_downloaded": _("export downloaded"),
    "export_expired": _("export expired"),
    "export_waiting": _("export waiting on a connected system"),
    "erasure_previewed": _("erasure previewed"),
    "erasure_approved": _("erasure approved"),
    "erasure_started": _("erasure started"),
    "erasure_resumed": _("erasure resumed"),
    "erasure_failed": _("erasure stopped"),
    "erasure_waiting": _("erasure waiting on a connected system"),
    "erasure_completed": _("erasure completed"),
    "restriction_applied": _("processing restricted"),
    "restriction_lift_announced": _("lifting announced to the requester"),
    "restriction_lifted": _("restriction lifted"),
    "inactivity_warned": _("inactive account warned"),
    "inactivity_closed": _("inactivity warning closed"),
    "deletion_scheduled": _("account deletion scheduled"),
    "deletion_cancelled": _("account deletion cancelled"),
    "deletion_executed": _("account deleted"),
    "deletion_failed": _("account deletion failed"),
}
