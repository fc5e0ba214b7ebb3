"""Reads for the staff dashboard: each figure with the admin list that shows exactly its rows.

The figures come from the apps' own selectors where the lists behind them use the same ones (the request
queue's urgency, the held-up jobs), so that a figure and its list cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from consent import charts as consent_charts
from consent import selectors as consent_selectors
from consent.models import ConsentMethod, Property, RefusedOrigin
from fulfilment import selectors as fulfilment_selectors
from fulfilment.models import DataExport, ErasureRun, SystemTask, TaskState
from policies import selectors as policy_selectors
from registry.models import LegalHold
from requests_app import selectors as request_selectors
from retention.models import RetentionPolicy, RetentionRun, RetentionRunItem, RunStatus

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

CONSENT_DAYS = 30
# The consent outcomes the dashboard compares, in the chart's order.
CONSENT_OUTCOMES = (ConsentMethod.ACCEPT_ALL, ConsentMethod.REJECT_ALL, ConsentMethod.CUSTOM, ConsentMethod.GPC)


@dataclass
class Figure:
    """A number on the dashboard, what it counts, and the list that shows those rows."""

    label: str
    count: int
    url: str
    tone: str = ""  # "bad", "warn" or "": how the figure is marked when it is not zero (with its words too)


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)


def _list_url(viewname: str, **params: str) -> str:
    url = reverse(viewname)
    return f"{url}?{urlencode(params)}" if params else url


def request_sections(*, user: AbstractBaseUser, now: datetime) -> list[Section]:
    """Open requests by urgency: everyone's, then the person's own."""
    counts = request_selectors.urgency_counts(user=user, now=now)
    queue = "admin:requests_app_datarequest_changelist"
    sections = []
    for who, title, extra in (
        ("all", _("Everyone's open requests"), {}),
        ("mine", _("Open requests assigned to you"), {"mine": "1"}),
    ):
        c = counts[who]
        sections.append(
            Section(
                title,
                [
                    Figure(_("Overdue"), c["overdue"], _list_url(queue, due="overdue", **extra), "bad"),
                    Figure(_("Due this week"), c["week"], _list_url(queue, due="week", **extra), "warn"),
                    Figure(_("Due later"), c["later"], _list_url(queue, due="later", **extra)),
                    Figure(_("All open"), c["open"], _list_url(queue, status="open", **extra)),
                ],
            )
        )
    return sections


def officer_section(*, user: AbstractBaseUser) -> Section:
    """What waits for a privacy officer's decision."""
    section = Section(_("Waiting for a privacy officer"))
    if user.has_perm("requests_app.view_datarequest"):
        waiting = request_selectors.filter_awaiting_release_approval(
            queryset=request_selectors.DataRequest.objects.all()
        )
        section.figures.append(
            Figure(
                _("Requests confirmed by e-mail only, to approve"),
                waiting.count(),
                _list_url("admin:requests_app_datarequest_changelist", approval="waiting"),
                "warn",
            )
        )
    if user.has_perm("fulfilment.view_erasurerun"):
        section.figures.append(
            Figure(
                _("Erasures to approve"),
                ErasureRun.objects.filter(state=ErasureRun.State.PREVIEWED).count(),
                _list_url("admin:fulfilment_erasurerun_changelist", state__exact=ErasureRun.State.PREVIEWED),
                "warn",
            )
        )
    if user.has_perm("registry.view_legalhold"):
        section.figures.append(
            Figure(
                _("Legal holds not released, to review"),
                LegalHold.objects.filter(released_at__isnull=True).count(),
                _list_url("admin:registry_legalhold_changelist", released_at__isnull="True"),
            )
        )
    return section


def broken_promises(*, user: AbstractBaseUser) -> list[dict]:
    """Policy versions in force or scheduled that promise a retention period other than the one enforced."""
    if not user.has_perm("policies.view_policyversion"):
        return []
    return [
        {
            "version": str(version),
            "url": reverse("admin:policies_policyversion_change", args=[version.pk]),
            "mismatches": mismatches,
        }
        for version, mismatches in policy_selectors.list_broken_promises()
    ]


def jobs_section(*, user: AbstractBaseUser) -> Section:
    """Jobs that failed or are held up by a connected system."""
    section = Section(_("Failed or held-up jobs"))
    if user.has_perm("retention.view_retentionrun"):
        runs = "admin:retention_retentionrun_changelist"
        section.figures += [
            Figure(
                _("Retention runs with errors"),
                RetentionRun.objects.filter(status=RunStatus.FAILED).count(),
                _list_url(runs, status__exact=RunStatus.FAILED),
                "bad",
            ),
            Figure(
                _("Retention runs interrupted"),
                RetentionRun.objects.filter(status=RunStatus.INTERRUPTED).count(),
                _list_url(runs, status__exact=RunStatus.INTERRUPTED),
                "warn",
            ),
        ]
    if user.has_perm("fulfilment.view_dataexport"):
        exports = "admin:fulfilment_dataexport_changelist"
        section.figures += [
            Figure(
                _("Exports failed"),
                DataExport.objects.filter(state=DataExport.State.FAILED).count(),
                _list_url(exports, state__exact=DataExport.State.FAILED),
                "bad",
            ),
            Figure(
                _("Exports waiting on a connected system"),
                fulfilment_selectors.exports_retrying().count(),
                _list_url(exports, waiting="1"),
                "warn",
            ),
        ]
    if user.has_perm("fulfilment.view_systemtask"):
        tasks = "admin:fulfilment_systemtask_changelist"
        waiting = (TaskState.SENT, TaskState.WAITING)
        section.figures += [
            Figure(
                _("Tasks waiting on system owners"),
                SystemTask.objects.filter(kind="manual", state__in=waiting).count(),
                _list_url(tasks, kind__exact="manual", state__in=",".join(waiting)),
            ),
            Figure(
                _("System tasks that could not be done"),
                SystemTask.objects.filter(state=TaskState.FAILED).count(),
                _list_url(tasks, state__exact=TaskState.FAILED),
                "bad",
            ),
        ]
    if user.has_perm("fulfilment.view_erasurerun"):
        erasures = "admin:fulfilment_erasurerun_changelist"
        section.figures += [
            Figure(
                _("Erasures failed"),
                ErasureRun.objects.filter(state=ErasureRun.State.FAILED).count(),
                _list_url(erasures, state__exact=ErasureRun.State.FAILED),
                "bad",
            ),
            Figure(
                _("Erasures waiting on a connected system"),
                fulfilment_selectors.erasures_waiting_on_systems().count(),
                _list_url(erasures, waiting="1"),
                "warn",
            ),
        ]
    return section


def last_retention_runs(*, user: AbstractBaseUser) -> list[dict]:
    """Each enabled policy's latest run (real or dry) with its counts; a policy never run has ``item`` None."""
    if not user.has_perm("retention.view_retentionrun"):
        return []
    latest = RetentionRunItem.objects.filter(policy=OuterRef("pk")).order_by("-run__started_at", "-pk")
    policies = RetentionPolicy.objects.filter(enabled=True).annotate(last_item=Subquery(latest.values("pk")[:1]))
    policies = list(policies.order_by("name"))
    items = RetentionRunItem.objects.select_related("run").in_bulk([p.last_item for p in policies if p.last_item])
    rows = []
    for policy in policies:
        item = items.get(policy.last_item)
        rows.append(
            {
                "policy": policy,
                "item": item,
                "url": reverse("admin:retention_retentionrun_change", args=[item.run_id]) if item else "",
            }
        )
    return rows


def consent_rates(*, user: AbstractBaseUser, now: datetime) -> list[dict]:
    """Per website, the last ``CONSENT_DAYS`` days' choices: count and share of each of ``CONSENT_OUTCOMES``.

    From the daily figures (today's as of their last count), never from the log itself.
    """
    if not user.has_perm("consent.view_consentrecord"):
        return []
    first_day = timezone.localdate(now) - timedelta(days=CONSENT_DAYS - 1)
    counts: dict[int, dict[str, int]] = {}
    for r in consent_selectors.summary_counts(first_day=first_day, group_by=("property", "method")):
        counts.setdefault(r["property"], {})[r["method"]] = int(r["n"])
    # The log list behind each figure: the same whole days, from local midnight (the time index serves it).
    since = timezone.make_aware(datetime.combine(first_day, time.min))
    labels = dict(ConsentMethod.choices)
    records = reverse("admin:consent_consentrecord_changelist")
    rows = []
    for prop in Property.objects.order_by("name"):
        row = counts.get(prop.pk, {})
        total = sum(row.get(m.value, 0) for m in CONSENT_OUTCOMES)
        outcomes, x = [], 0.0
        for m in CONSENT_OUTCOMES:
            n = row.get(m.value, 0)
            share = 100 * n / total if total else 0.0
            query = urlencode({"property__id__exact": prop.pk, "method__exact": m.value, "created_at__gte": since})
            outcomes.append(
                {
                    "key": m.value,
                    "label": labels[m.value],
                    "count": n,
                    "percent": round(share),
                    "x": round(x, 2),  # where its bar starts in the chart, in percent of the width
                    "width": round(share, 2),
                    "url": f"{records}?{query}",
                }
            )
            x += share
        rows.append({"property": prop, "total": total, "outcomes": outcomes})
    return rows


def refused_origins(*, user: AbstractBaseUser) -> list[dict]:
    """Per website, the addresses whose banner was refused, for an officer to allow or investigate."""
    if not user.has_perm("consent.view_property"):
        return []
    rows = RefusedOrigin.objects.values("property", "property__name").annotate(n=Count("pk")).order_by("property__name")
    return [
        {
            "name": r["property__name"],
            "count": r["n"],
            "url": reverse("admin:consent_property_change", args=[r["property"]]),
        }
        for r in rows
    ]


def website_scans(*, user: AbstractBaseUser) -> list[dict]:
    """Per website, the findings of its latest scan (and how many are new), linked to that scan's evidence."""
    if not user.has_perm("scanner.view_websitescan"):
        return []
    from scanner.selectors import latest_findings_per_website

    return [
        {
            **row,
            "url": reverse("admin:scanner_websitescan_change", args=[row["scan"].pk]),
            "blocking": row["scan"].blocking,
        }
        for row in latest_findings_per_website()
    ]


def dashboard(*, user: AbstractBaseUser, now: datetime | None = None) -> dict:
    """Everything the admin home shows for ``user``, limited to what their permissions let them open."""
    now = now or timezone.now()
    sees_requests = user.has_perm("requests_app.view_datarequest")
    officer = officer_section(user=user)
    jobs = jobs_section(user=user)
    return {
        "requests": request_sections(user=user, now=now) if sees_requests else [],
        "queue_url": reverse("admin:requests_app_datarequest_changelist") if sees_requests else "",
        "officer": officer if officer.figures else None,
        "jobs": jobs if jobs.figures else None,
        "refused_origins": refused_origins(user=user),
        "website_scans": website_scans(user=user),
        "broken_promises": broken_promises(user=user),
        "retention": last_retention_runs(user=user),
        "consent": consent_rates(user=user, now=now),
        "consent_as_of": consent_charts.as_of_text(consent_selectors.summary_as_of()),
        "consent_days": CONSENT_DAYS,
    }
