"""Registry texts in the reader's language.

``privacy.py`` declarations are English strings marked with ``gettext_noop``; they are translated here,
at the moment a person reads them, so stored copies (policies, audit notes, JSON exports) stay stable.
"""

from django.utils.translation import gettext


def tr(text: str) -> str:
    """``text`` in the active language (unchanged when it has no translation, e.g. a staff-written text)."""
    return gettext(text) if text else text


def tr_all(texts) -> list[str]:
    return [tr(t) for t in texts]
