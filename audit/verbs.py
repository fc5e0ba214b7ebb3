"""The words staff read for each verb: every app declares its own, so the trail never shows a raw slug."""

from collections.abc import Mapping

from django.utils.text import capfirst

_LABELS: dict[tuple[str, str], str] = {}


def register_verbs(app_label: str, labels: Mapping[str, str]) -> None:
    """Declare how the verbs that ``app_label``'s services write read in admin (lazy translations welcome)."""
    for verb, label in labels.items():
        _LABELS[(app_label, str(verb))] = label


def verb_label(verb: str, app_label: str = "") -> str:
    """The verb in words: the app's own label, else any app's, else the slug made readable."""
    if (app_label, verb) in _LABELS:
        return str(_LABELS[(app_label, verb)])
    for (_app, known), label in _LABELS.items():
        if known == verb:
            return str(label)
    return capfirst(verb.replace("_", " "))


def registered_verbs() -> set[str]:
    """Every verb an app has declared."""
    return {verb for (_app, verb) in _LABELS}


def verb_choices(verbs) -> list[tuple[str, str]]:
    """(verb, label) pairs for a filter, one per verb, labels of verbs several apps share joined."""
    out = []
    for verb in sorted(set(verbs)):
        labels = sorted({str(label) for (_app, known), label in _LABELS.items() if known == verb})
        out.append((verb, " / ".join(labels) if labels else verb_label(verb)))
    return sorted(out, key=lambda pair: pair[1].lower())
