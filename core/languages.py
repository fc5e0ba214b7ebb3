"""The languages the portal speaks, read from the one list in ``settings.LANGUAGES``.

Forms, the banner, model fields and admin take their languages from here, so that adding one to
``settings.LANGUAGES`` (and its catalogue under ``locale/``) is the whole change. Settings keep the list
because Django's locale machinery reads it there; this module imports no models, so anything may use it.
"""

from django.conf import settings
from django.utils import translation

# The language the texts are written in (gettext's message ids, the first name of a category): the fallback
# when a text is missing in the visitor's language.
BASE_LANGUAGE = "en"


def language_choices() -> list[tuple[str, str]]:
    """(code, name in that language) for every language, in the settings' order."""
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def language_codes() -> tuple[str, ...]:
    """The codes of every language, in the settings' order."""
    return tuple(code for code, _name in settings.LANGUAGES)


def language_name(code: str) -> str:
    """A language's name in that language, or its code if the portal does not speak it."""
    return dict(language_choices()).get(code, code)


def product_text(value: str, language: str | None = None) -> str:
    """A stored text in the active language (or ``language``) when it is one the product supplies.

    Declarations and third parties are stored as staff typed them; the defaults the product ships are stored in
    English and marked for the catalogues, so they are looked up there and anything else passes through unchanged.
    The cookie declaration pages and the banner read them through this one function.
    """
    if not isinstance(value, str) or not value:
        return value
    if language is None:
        return translation.gettext(value)
    with translation.override(language):
        return translation.gettext(value)
