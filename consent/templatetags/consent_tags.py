from django import template

register = template.Library()


@register.simple_tag
def category_name(category):
    """The category's name in the active language."""
    return category.display_name()


@register.simple_tag
def category_description(category):
    """The category's description in the active language."""
    return category.display_description()
