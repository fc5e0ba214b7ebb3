"""Staff-facing presentation of consent figures: the outcomes chart, drawn from ``selectors.outcomes_per_day``."""

from datetime import datetime

from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consent.models import ConsentMethod
from consent.selectors import OUTCOMES
from core import charts

OUTCOME_COLOURS = {
    "accept_all": "#15803d",
    "reject_all": "#b91c1c",
    "custom": "#1d4ed8",
    "gpc": "#7c3aed",
    "withdraw": "#b45309",
}


def outcomes_svg(rows: list[dict]) -> str:
    """A stacked bar chart of outcomes per day, with axes and totals (``core.charts``: no script, no style)."""
    labels = dict(ConsentMethod.choices)
    first = rows[0]["day"].strftime("%Y-%m-%d") if rows else ""
    last = rows[-1]["day"].strftime("%Y-%m-%d") if rows else ""
    return charts.bar_chart_svg(
        title=_("Consent outcomes per day, %(first)s to %(last)s") % {"first": first, "last": last},
        categories=[f"{r['day']:%Y-%m-%d}" for r in rows],
        series=[charts.Series(labels[k], OUTCOME_COLOURS[k], [r[k] for r in rows]) for k in OUTCOMES],
        stacked=True,
    )


def as_of_text(as_of: datetime | None) -> str:
    """When the daily figures were counted, as staff read it: "Figures as of 10:05" (with the date if not today)."""
    if as_of is None:
        return _("Figures not counted yet: they appear within a few minutes.")
    local = timezone.localtime(as_of)
    if local.date() == timezone.localdate():
        return _("Figures as of %(time)s") % {"time": formats.time_format(local, "TIME_FORMAT")}
    return _("Figures as of %(when)s") % {"when": formats.date_format(local, "DATETIME_FORMAT")}


def outcomes_chart_html(rows: list[dict], as_of: datetime | None = None) -> SafeString:
    """The chart, the totals, and the same figures as a table for those who cannot see the chart."""
    labels = dict(ConsentMethod.choices)
    totals = format_html_join(" · ", "{}: {}", ((labels[k], sum(r[k] for r in rows)) for k in OUTCOMES))
    head = format_html_join("", "<th>{}</th>", ((labels[k],) for k in OUTCOMES))
    body = format_html_join(
        "",
        "<tr><td>{}</td>{}</tr>",
        (
            (f"{r['day']:%Y-%m-%d}", format_html_join("", "<td>{}</td>", ((r[k],) for k in OUTCOMES)))
            for r in rows
            if any(r[k] for k in OUTCOMES)
        ),
    )
    return format_html(
        "<p>{}</p>{}<p>{}</p><details><summary>{}</summary><table><thead><tr><th>{}</th>{}</tr></thead>"
        "<tbody>{}</tbody></table></details>",
        as_of_text(as_of),
        mark_safe(outcomes_svg(rows)),  # numbers, dates and escaped labels only
        totals,
        _("As a table"),
        _("Day"),
        head,
        body,
    )
