"""Staff-facing presentation of consent figures: the outcomes chart, drawn from ``selectors.outcomes_per_day``."""

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from consent.models import ConsentMethod
from consent.selectors import OUTCOMES

OUTCOME_COLOURS = {
    "accept_all": "#15803d",
    "reject_all": "#b91c1c",
    "custom": "#1d4ed8",
    "gpc": "#7c3aed",
    "withdraw": "#b45309",
}


def outcomes_svg(rows: list[dict]) -> str:
    """A stacked bar chart of outcomes per day as inline SVG (no script, no external resource)."""
    labels = dict(ConsentMethod.choices)
    width, height, gap = 600, 160, 2
    top = max(sum(r[k] for k in OUTCOMES) for r in rows) if rows else 0
    bar = (width - gap * len(rows)) / max(len(rows), 1)
    parts = []
    for i, r in enumerate(rows):
        x = i * (bar + gap)
        y = height
        for key in OUTCOMES:
            h = (r[key] / top * (height - 10)) if top else 0
            if h:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{OUTCOME_COLOURS[key]}">'
                    f"<title>{r['day']:%Y-%m-%d} {escape(labels[key])}: {r[key]}</title></rect>"
                )
    # Each key as wide as its label (about 6.5 px a character at 11 px), wrapping to a new line at the chart's
    # edge: fixed slots let a long label ("Global Privacy Control") run under the next one.
    legend_parts, x, line = [], 6, 0
    for k in OUTCOMES:
        label = escape(labels[k])
        step = 16 + round(len(str(labels[k])) * 6.5) + 18
        if x > 6 and x + step > width:
            x, line = 6, line + 1
        y = height + 10 + line * 18
        legend_parts.append(
            f'<rect x="{x}" y="{y}" width="12" height="12" fill="{OUTCOME_COLOURS[k]}"/>'
            f'<text x="{x + 16}" y="{y + 11}" font-size="11">{label}</text>'
        )
        x += step
    legend = "".join(legend_parts)
    height_total = height + 30 + line * 18
    first = rows[0]["day"].strftime("%Y-%m-%d") if rows else ""
    last = rows[-1]["day"].strftime("%Y-%m-%d") if rows else ""
    return (
        f'<svg role="img" aria-label="Consent outcomes per day, {first} to {last}, peak {top}" '
        f'viewBox="0 0 {width} {height_total}" width="{width}" height="{height_total}" class="pp-chart">'
        f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#9ca3af"/>{"".join(parts)}{legend}</svg>'
    )


def outcomes_chart_html(rows: list[dict]) -> SafeString:
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
        "{}<p>{}</p><details><summary>{}</summary><table><thead><tr><th>{}</th>{}</tr></thead>"
        "<tbody>{}</tbody></table></details>",
        mark_safe(outcomes_svg(rows)),  # numbers, dates and escaped labels only
        totals,
        _("As a table"),
        _("Day"),
        head,
        body,
    )
