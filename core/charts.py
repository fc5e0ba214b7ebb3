"""Server-drawn bar charts for staff pages: inline SVG with axes, values and a table beside it.

No script and no style attribute (colours are SVG presentation attributes), so the strict CSP holds; every
category is drawn, an empty one as a zero, and the same figures are given as a table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Series:
    label: str
    colour: str  # a hex colour, drawn as the bars' fill
    values: list[int]


def _step(top: int) -> int:
    """A round tick step giving at most five ticks above zero."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        if top / step <= 5:
            return step
    return max(1, round(top / 5, -len(str(top)) + 2))


def bar_chart_svg(*, title: str, categories: list[str], series: list[Series], stacked: bool = False) -> str:
    """Bars per category (side by side, or stacked), a y axis with ticks, each bar's value and a legend."""
    left, top_pad, plot_h, axis_h = 44, 16, 160, 34
    slot = 64 if not stacked else 20
    width = max(left + max(len(categories), 1) * slot + 10, 360)
    longest = max((len(str(c)) for c in categories), default=0) * 6.5 + 6
    label_every = max(1, int(-(-longest // slot)))
    totals = [sum(s.values[i] for s in series) for i in range(len(categories))]
    peak = max((totals if stacked else [v for s in series for v in s.values]) or [0])
    step = _step(max(peak, 1))
    top = step * -(-max(peak, 1) // step)

    def y(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = []
    for tick in range(0, top + 1, step):
        parts.append(
            f'<line x1="{left}" y1="{y(tick):.1f}" x2="{width - 6}" y2="{y(tick):.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" font-size="11">{tick}</text>'
        )
    bar = (slot - 10) / (1 if stacked else len(series))
    for i, category in enumerate(categories):
        x0 = left + i * slot + 5
        base = 0
        for k, s in enumerate(series):
            value = s.values[i]
            x = x0 if stacked else x0 + k * bar
            low, high = (base, base + value) if stacked else (0, value)
            label = escape(f"{category}, {s.label}: {value}")
            if value:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y(high):.1f}" width="{bar:.1f}" height="{y(low) - y(high):.1f}" '
                    f'fill="{s.colour}"><title>{label}</title></rect>'
                )
            if not stacked:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{y(value) - 3:.1f}" text-anchor="middle" font-size="10">'
                    f"{value}</text>"
                )
            base += value
        if stacked:
            parts.append(
                f'<text x="{x0 + bar / 2:.1f}" y="{y(totals[i]) - 3:.1f}" text-anchor="middle" font-size="10">'
                f"{totals[i]}</text>"
            )
        if i % label_every == 0:  # a long run of days is labelled every so often, so labels never overlap
            parts.append(
                f'<text x="{x0 + (slot - 10) / 2:.1f}" y="{top_pad + plot_h + 14}" text-anchor="middle" '
                f'font-size="11">{escape(category)}</text>'
            )
    parts.append(
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#6b7280"/>'
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 6}" y2="{top_pad + plot_h}" stroke="#6b7280"/>'
    )
    # Each key as wide as its label (about 6.5 px a character at 11 px), wrapping at the chart's edge.
    x, line = left, 0
    for s in series:
        step = 16 + round(len(str(s.label)) * 6.5) + 18
        if x > left and x + step > width:
            x, line = left, line + 1
        y_key = top_pad + plot_h + 22 + line * 18
        parts.append(
            f'<rect x="{x}" y="{y_key}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 16}" y="{y_key + 11}" font-size="11">{escape(s.label)}</text>'
        )
        x += step
    height = top_pad + plot_h + axis_h + 4 + line * 18
    return (
        f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" class="pp-chart"><title>{escape(title)}</title>{"".join(parts)}</svg>'
    )


def figures_table(*, caption: str, category_label: str, categories: list[str], series: list[Series]) -> SafeString:
    """The chart's figures as a table: one row per category, one column per series."""
    head = format_html_join("", '<th scope="col">{}</th>', ((s.label,) for s in series))
    rows = format_html_join(
        "",
        '<tr><th scope="row">{}</th>{}</tr>',
        (
            (category, format_html_join("", "<td>{}</td>", ((s.values[i],) for s in series)))
            for i, category in enumerate(categories)
        ),
    )
    return format_html(
        '<table><caption>{}</caption><thead><tr><th scope="col">{}</th>{}</tr></thead><tbody>{}</tbody></table>',
        caption,
        category_label,
        head,
        rows,
    )


def bar_chart(*, title: str, categories: list[str], series: list[Series], stacked: bool = False) -> SafeString:
    """The SVG chart as safe HTML (numbers and escaped labels only)."""
    return mark_safe(bar_chart_svg(title=title, categories=categories, series=series, stacked=stacked))  # noqa: S308
