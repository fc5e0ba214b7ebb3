"""The languages the portal speaks, read from the one list in ``settings.LANGUAGES``.

Forms, the banner, model fields and admin take their languages from here, so that adding one to
``settings.LANGUAGES`` (and its catalogue under ``locale/``) is the whole change. Settings keep the list
because Django's locale machinery reads it there; this module imports no models, so anything may use it.
"""

from django.conf import settings

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
