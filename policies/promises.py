"""Retention periods in policy texts: placeholders filled with the enforced figure, and stated figures checked.

A text writes ``{{ retention:traffic-logs }}`` where it means "as long as the traffic-logs policy keeps
rows"; it is replaced by that policy's period in words (escaped text, never a template: nothing in a policy
text runs). Policies cannot read retention (they are siblings), so the enforced periods come from a reader
the console plugs in when it loads; without one, placeholders stay as written and nothing is checked.

The check is deliberately simple, so staff can follow it: a sentence that names a policy's subject (its
dataset's title or the policy's name in words, singular or plural, or the title's last word as written, e.g.
"logs" for "Traffic logs") and
states a period ("60 days", "two years") disagrees when that period is none of the enforced periods of the
policies it names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.html import escape

PLACEHOLDER = re.compile(r"\{\{\s*retention:([a-z0-9][a-z0-9_-]*)\s*\}\}")

# Each enforced period: {"name", "subject", "period", "unit" ("days"|"months"), "display"}.
_reader: Callable[[], list[dict]] | None = None


def set_enforced_periods_reader(reader: Callable[[], list[dict]] | None) -> None:
    """Plug in where the enforced retention periods come from (the console does, at start)."""
    global _reader
    _reader = reader


def enforced_periods() -> list[dict]:
    return _reader() if _reader is not None else []


def fill_placeholders(source: str, *, periods: list[dict] | None = None) -> str:
    """The text with each known placeholder replaced by its policy's enforced period in words (escaped)."""
    if "{{" not in (source or ""):
        return source or ""
    by_name = {p["name"]: p for p in (enforced_periods() if periods is None else periods)}

    def replace(match: re.Match) -> str:
        period = by_name.get(match.group(1))
        return escape(period["display"]) if period else match.group(0)

    return PLACEHOLDER.sub(replace, source)


_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
}  # fmt: skip
_STATED = re.compile(
    r"\b(\d+|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")\s+(day|week|month|year)s?\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n\s*\n|\n(?=\s*(?:[-*+#|]|\d+\.)\s)")


@dataclass(frozen=True)
class Mismatch:
    sentence: str
    stated: str
    enforced: str  # the enforced period(s) in words, e.g. "90 days"
    subject: str


def _comparable(amount: int, unit: str) -> tuple[str, int]:
    unit = unit.lower()
    if unit == "week":
        return ("days", amount * 7)
    if unit == "year":
        return ("months", amount * 12)
    return ("days" if unit == "day" else "months", amount)


def _names_subject(sentence: str, period: dict) -> bool:
    """Whether the sentence names the policy's subject: its title or name (either number), or the title's last word."""
    subject = period["subject"].strip().lower()
    full = {subject, period["name"].replace("-", " ").replace("_", " ").lower()}
    if any(re.search(rf"\b{re.escape(t.removesuffix('s'))}s?\b", sentence, re.IGNORECASE) for t in full if len(t) > 2):
        return True
    # The last word alone ("logs" for "Traffic logs") only as written, so "log" does not stand for "logs".
    last = subject.rsplit(" ", 1)[1] if " " in subject else ""
    return len(last) > 2 and re.search(rf"\b{re.escape(last)}\b", sentence, re.IGNORECASE) is not None


def find_mismatches(source: str, *, periods: list[dict] | None = None) -> list[Mismatch]:
    """Sentences of ``source`` that state a period for a policy's subject other than the one enforced."""
    periods = enforced_periods() if periods is None else periods
    if not periods:
        return []
    # A placeholder says the enforced figure by construction: only the words around it are checked.
    text = PLACEHOLDER.sub("", source or "")
    found = []
    for sentence in _SENTENCE_END.split(text):
        stated = list(_STATED.finditer(sentence))
        if not stated:
            continue
        named = [p for p in periods if _names_subject(sentence, p)]
        if not named:
            continue
        enforced = {_comparable(p["period"], p["unit"].removesuffix("s")) for p in named}
        for match in stated:
            raw = match.group(1).lower()
            amount = int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]
            if _comparable(amount, match.group(2)) in enforced:
                continue
            found.append(
                Mismatch(
                    sentence=" ".join(sentence.split()).lstrip("-*+# "),
                    stated=match.group(0),
                    enforced=", ".join(sorted({p["display"] for p in named})),
                    subject=", ".join(sorted({p["subject"] for p in named})),
                )
            )
    return found
