"""Rules with many cases, checked over generated ones: erased values, and the order tables are erased in."""

from types import SimpleNamespace

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from registry.strategies import MASK_TEXT, PSEUDONYM_LENGTH, Strategy, mask, pseudonymise
from systems.operations import SystemGraph, _new_value

TEXT = sa.Column("c", sa.String(254))
NUMBER = sa.Column("n", sa.Integer)
values = st.one_of(st.none(), st.just(""), st.text(max_size=60))


@given(values, st.sampled_from([Strategy.NULL, Strategy.MASK, Strategy.PSEUDONYMISE]))
def test_an_erased_text_cell_follows_the_in_process_strategies(value, strategy):
    erased = _new_value(strategy, TEXT, value)
    if strategy == Strategy.NULL or value is None:
        assert erased is None
    elif strategy == Strategy.MASK:
        assert erased == mask(value) and erased in ("", MASK_TEXT)
    else:
        assert erased == pseudonymise(value)
        assert erased == "" or (len(erased) == PSEUDONYM_LENGTH and _new_value(strategy, TEXT, erased) == erased)


@given(st.integers(), st.sampled_from([Strategy.NULL, Strategy.MASK, Strategy.PSEUDONYMISE]))
def test_a_number_cannot_hold_a_mask_or_pseudonym_so_it_is_cleared(value, strategy):
    assert _new_value(strategy, NUMBER, value) is None


@st.composite
def reference_graphs(draw):
    """Tables t0..tn where each table may refer to any earlier one (a DAG), the first holding the identity."""
    n = draw(st.integers(min_value=1, max_value=8))
    datasets = {}
    for i in range(n):
        parents = draw(st.sets(st.integers(min_value=0, max_value=i - 1), max_size=3)) if i else set()
        datasets[f"t{i}"] = SimpleNamespace(references={f"p{p}_id": f"t{p}.id" for p in sorted(parents)})
    return datasets


@given(reference_graphs())
def test_tables_are_erased_after_every_table_that_refers_to_them(datasets):
    graph = SystemGraph.__new__(SystemGraph)
    graph.datasets = datasets
    order = graph.erase_order()
    assert sorted(order) == sorted(datasets)
    position = {t: i for i, t in enumerate(order)}
    for child, ds in datasets.items():
        for target in ds.references.values():
            assert position[child] < position[target.split(".")[0]]
