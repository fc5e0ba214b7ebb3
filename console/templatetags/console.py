from django import template

from console import selectors

register = template.Library()


@register.simple_tag
def staff_dashboard(user):
    """The dashboard's figures for ``user``, read once per page."""
    return selectors.dashboard(user=user)
