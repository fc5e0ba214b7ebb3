from core.permissions import sync_group_permissions


def apply_group_permissions(sender, using="default", **kwargs):
    """post_migrate: bring the staff groups' permissions in line with the declared map."""
    sync_group_permissions(using=using)
