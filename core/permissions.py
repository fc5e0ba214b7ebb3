"""Roles and permissions, in one place: the staff groups, their least-privilege grants (applied after every
migrate), the check every staff view and service makes (``require_perm``), and who the privacy officers are.

Models of other apps arrive over time, so the map names permissions by app label and codename
pattern (fnmatch); permissions that do not exist yet are skipped and picked up by a later migrate.
"""

from fnmatch import fnmatchcase

PRIVACY_OFFICER = "Privacy officer"
SUPPORT_AGENT = "Support agent"

# (app label, codename pattern) pairs each group is granted.
GROUP_GRANTS: dict[str, list[tuple[str, str]]] = {
    SUPPORT_AGENT: [
        # Work the request queue: read and update requests, reply to requesters.
        ("requests_app", "view_*"),
        ("requests_app", "change_*"),
        ("requests_app", "add_*message*"),
        ("requests_app", "add_*note*"),
        # Answer questions about consent and the data held, without changing them.
        ("consent", "view_*"),
        ("registry", "view_*"),
        ("fulfilment", "view_*"),
        ("systems", "view_*"),
        ("policies", "view_*"),
        ("scanner", "view_*"),
        ("core", "view_organisation"),
    ],
    PRIVACY_OFFICER: [
        ("requests_app", "*"),
        ("consent", "*"),
        ("policies", "*"),
        ("registry", "*"),
        ("fulfilment", "*"),
        ("systems", "*"),
        ("retention", "*"),
        ("scanner", "*"),
        # The whole audit trail, to read: nobody writes it by hand.
        ("audit", "view_auditevent"),
        ("core", "view_organisation"),
        ("core", "change_organisation"),
        # The portal's schedules are visible; officers enable, disable and reschedule its jobs (admin keeps the
        # task, arguments and queue read-only, see retention/admin.py) and run them now from Scheduled jobs.
        ("django_celery_beat", "view_*"),
        ("django_celery_beat", "change_periodictask"),
        # A new time means a new schedule row; existing ones may be shared by other jobs, so never edited.
        ("django_celery_beat", "add_crontabschedule"),
        ("django_celery_beat", "add_intervalschedule"),
    ],
}

# Never granted, whatever the grants above match: proof and audit records stay untouched.
GROUP_DENIES: dict[str, list[tuple[str, str]]] = {
    SUPPORT_AGENT: [("*", "change_*event"), ("*", "delete_*event")],
    PRIVACY_OFFICER: [
        ("consent", "delete_consentrecord"),
        ("consent", "change_consentrecord"),
        ("*", "change_*event"),
        ("*", "delete_*event"),
        ("policies", "change_policyacceptance"),
        ("policies", "delete_policyacceptance"),
        ("policies", "change_noticedelivery"),
        ("policies", "delete_noticedelivery"),
        ("policies", "add_*"),  # policies' records are written by its services; versions are the exception
    ],
}
# Allowed back after the denies: staff draft new versions in admin.
GROUP_EXCEPTIONS: dict[str, list[tuple[str, str]]] = {
    PRIVACY_OFFICER: [("policies", "add_policyversion")],
}


def _matches(rules: list[tuple[str, str]], app_label: str, codename: str) -> bool:
    return any(fnmatchcase(app_label, app) and fnmatchcase(codename, code) for app, code in rules)


def permitted(group: str, app_label: str, codename: str) -> bool:
    """Whether the declared map gives ``group`` this permission."""
    if _matches(GROUP_EXCEPTIONS.get(group, []), app_label, codename):
        return True
    return _matches(GROUP_GRANTS[group], app_label, codename) and not _matches(
        GROUP_DENIES.get(group, []), app_label, codename
    )


def sync_group_permissions(*, using: str = "default", apps=None) -> None:
    """Create the staff groups if needed and give each exactly the permissions the map declares."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = list(Permission.objects.using(using).select_related("content_type"))
    for name in GROUP_GRANTS:
        group, _created = Group.objects.using(using).get_or_create(name=name)
        wanted = [p for p in perms if permitted(name, p.content_type.app_label, p.codename)]
        group.permissions.set(wanted)


def require_perm(actor, perm: str, message: str) -> None:
    """Refuse ``actor`` without ``perm`` (``None`` is the system acting on a schedule).

    Read-only staff may look, not act: admin hides the action, and the service refuses it too.
    """
    from django.core.exceptions import PermissionDenied

    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def staff_perm_required(perm: str, message: str = ""):
    """View decorator for staff pages: anonymous visitors go to the admin login, then ``require_perm`` (403).

    The same check as the services make, so that a page and the action behind it never disagree.
    """
    from functools import wraps

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            from django.contrib.admin.views.decorators import staff_member_required
            from django.utils.translation import gettext

            if not (request.user.is_active and request.user.is_staff):
                return staff_member_required(view)(request, *args, **kwargs)
            require_perm(request.user, perm, message or gettext("You may not open this page."))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def officer_emails() -> list[str]:
    """E-mail addresses of the active privacy officers, who receive the portal's alerts."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(groups__name=PRIVACY_OFFICER, is_active=True).exclude(email="")
    return sorted(set(users.values_list("email", flat=True)))
