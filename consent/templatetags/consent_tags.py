from django import template

from core.languages import product_text as _product_text

register = template.Library()


@register.simple_tag
def category_name(category):
    """The category's name in the active language."""
    return category.display_name()


@register.simple_tag
def category_description(category):
    """The category's description in the active language."""
    return category.display_description()


@register.filter
def product_text(value):
    """A stored text in the active language when it is one the product supplies (see core.languages.product_text)."""
    return _product_text(value)
