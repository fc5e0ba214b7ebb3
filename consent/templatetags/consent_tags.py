from django import template
from django.utils.translation import gettext

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
    """A stored text in the active language when it is one the product supplies (marked for the catalogues).

    Declarations and third parties are stored as staff typed them; the defaults the product ships are stored in
    English and looked up in the catalogues here, so anything else passes through unchanged.
    """
    return gettext(value) if isinstance(value, str) and value else value
