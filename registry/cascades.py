"""What deleting rows would also reach, so that legal holds protect rows a delete elsewhere would take along.

Deleting a support conversation deletes its messages; deleting an account deletes its one-to-one profile,
clears the account on traffic logs, and is refused while a consent record points to it (PROTECT). A hold on
any of those rows must stop the delete that reaches them. The walk below follows the relations Django's
deletion ``Collector`` follows (``get_candidate_relations_to_delete``): CASCADE recursively, and the other
handlers (SET_NULL, SET_DEFAULT, SET(...), PROTECT, RESTRICT) as the end of a path, since they change the
held row or refuse the delete. DO_NOTHING is left to the database, as the collector leaves it.

``held_for(model)`` says which rows of a model are under a hold: ``None`` for none, ``Q()`` for all of
them (a dataset hold), or a narrower ``Q`` (subject holds). The result is a ``Q`` on the root model that
selects the rows whose delete would reach held rows, built from subqueries only (no reverse names needed,
so relations declared with ``related_name="+"`` are followed too).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce
from operator import or_

from django.db import models
from django.db.models import Q
from django.db.models.deletion import get_candidate_relations_to_delete

HeldFor = Callable[[type[models.Model]], Q | None]

MAX_DEPTH = 8  # cascade chains in practice are short; the bound keeps self-referencing models finite


class HeldDataReached(Exception):
    """A delete was about to delete or change rows under a legal hold; nothing was deleted."""


def blocking_paths(model, held_for: HeldFor, *, _seen: frozenset = frozenset(), _depth: int = 0) -> list[tuple]:
    """(held model reached, Q on ``model``'s rows that reach held rows of it), one entry per relation path."""
    if _depth >= MAX_DEPTH:
        return []
    out = []
    for rel in get_candidate_relations_to_delete(model._meta):
        field = rel.field
        on_delete = field.remote_field.on_delete
        if on_delete is models.DO_NOTHING:
            continue
        related = rel.related_model
        conditions = []  # (held model, Q on ``related``)
        held = held_for(related)
        if held is not None:
            conditions.append((related, held))
        seen = _seen | {model}
        if on_delete is models.CASCADE and related not in seen:
            conditions += blocking_paths(related, held_for, _seen=seen, _depth=_depth + 1)
        target = field.target_field.attname
        for held_model, condition in conditions:
            # NULL keys are left out: ``exclude()`` on this Q is a NOT IN, which a NULL would make match nothing.
            sub = (
                related._base_manager.filter(condition)
                .filter(**{f"{field.attname}__isnull": False})
                .values(field.attname)
            )
            out.append((held_model, Q(**{f"{target}__in": sub})))
    return out


def blocked_q(model, held_for: HeldFor) -> Q | None:
    """Rows of ``model`` whose delete would delete, change or be refused by held rows; None if none can."""
    paths = blocking_paths(model, held_for)
    return reduce(or_, (q for _, q in paths)) if paths else None


def reached_held_models(collector, held_for: HeldFor) -> list[str]:
    """Labels of models whose held rows a collected (not yet executed) delete would delete or change.

    A last check on what Django's ``Collector`` actually gathered, in case something reaches held rows by a
    path the walk above does not know.
    """
    reached = set()

    def check(model, rows) -> None:
        held = held_for(model)
        if held is None or model._meta.label in reached:
            return
        if isinstance(rows, models.QuerySet):
            hit = rows.filter(held).exists()
        else:
            pks = [obj.pk for obj in rows]
            hit = bool(pks) and model._base_manager.filter(held, pk__in=pks).exists()
        if hit:
            reached.add(model._meta.label)

    for model, instances in collector.data.items():
        check(model, instances)
    for qs in collector.fast_deletes:
        check(qs.model, qs)
    for (field, _value), batches in collector.field_updates.items():
        for rows in batches:
            check(field.model, rows)
    return sorted(reached)
