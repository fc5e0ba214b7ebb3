"""The systems file: the README's example loads as written; a wrong file is refused whole, every error with its line."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from systems.declarations import InvalidSystemsFile, parse_systems_file
from systems.models import ExternalSystem, SystemDataset, SystemField
from systems.services import dump_systems_text, load_systems
from tests.systems.conftest import SHOP_YAML

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> str:
    text = README.read_text()
    section = text[text.index("## Connected systems") :]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


@pytest.mark.django_db
def test_the_readme_example_loads_as_written():
    assert _readme_example() == SHOP_YAML  # the example the acceptance check loads
    (system,) = load_systems(text=_readme_example())
    assert system.key == "legacy_shop" and system.url_env == "LEGACY_SHOP_DATABASE_URL" and system.kind == "sql"
    assert system.actions == ["access", "erasure", "retention"]
    orders = system.datasets.get(table="orders")
    assert orders.references == {"customer_id": "customers.id"}
    assert orders.retention_rules.get().legal_basis == "Tax law: invoices kept 10 years."
    sku = SystemField.objects.get(dataset__table="order_items", name="sku")
    assert (sku.strategy, sku.keep_reason) == ("keep", "part of the kept invoice")


@pytest.mark.django_db
def test_load_command_reads_a_file_and_reload_is_idempotent(tmp_path, capsys):
    path = tmp_path / "systems.yaml"
    path.write_text(SHOP_YAML)
    call_command("load_systems", str(path))
    ids = sorted(SystemDataset.objects.values_list("pk", flat=True))
    call_command("load_systems", str(path))
    assert ExternalSystem.objects.count() == 1 and SystemField.objects.count() == 4
    assert sorted(SystemDataset.objects.values_list("pk", flat=True)) == ids
    assert "legacy_shop: Legacy web shop, 3 table(s)" in capsys.readouterr().out


@pytest.mark.django_db
def test_loading_replaces_the_datasets_of_the_systems_it_names():
    load_systems(text=SHOP_YAML)
    other = SHOP_YAML.replace("legacy_shop", "crm").replace("Legacy web shop", "CRM")
    load_systems(text=other)
    shorter = SHOP_YAML[: SHOP_YAML.index("      - table: orders")]
    load_systems(text=shorter)
    assert list(SystemDataset.objects.filter(system__key="legacy_shop").values_list("table", flat=True)) == [
        "customers"
    ]
    assert SystemDataset.objects.filter(system__key="crm").count() == 3


@pytest.mark.django_db
def test_dump_loads_back_to_the_same_declarations():
    load_systems(text=SHOP_YAML)
    dumped = dump_systems_text()
    assert yaml.safe_load(dumped) == yaml.safe_load(SHOP_YAML)
    unquoted = str.maketrans("", "", "'\"")
    assert dumped.translate(unquoted) == SHOP_YAML.translate(unquoted)  # written as a person writes it
    load_systems(text=dumped)
    assert dump_systems_text() == dumped


BROKEN = """\
systems:
  - key: legacy_shop
    name: Legacy web shop
    owner: {name: Shop team, email: not-an-address}
    connection: {url_env: LEGACY_SHOP_DATABASE_URL}
    actions: [access, erasure, sell]
    datasets:
      - table: customers
        title: Shop customers
        identity: {email: email}
        fields:
          - {name: email, category: user.contact.name, purpose: order fulfilment, legal_basis: contract, erase: pseudonymise}
          - {name: full_name, category: user.name, purpose: order fulfilment, legal_basis: because, erase: mask}
      - table: orders
        title: Shop orders
        references: {customer_id: customers.id}
        fields:
          - {name: shipping_address, category: user.contact.address, purpose: delivery, legal_basis: contract, erase: keep}
        retention:
          - {name: shop-orders, period_days: "3650", date_field: created_at, action: delete}
"""


@pytest.mark.django_db
def test_an_invalid_file_lists_every_error_with_its_line_and_changes_nothing(tmp_path, capsys):
    load_systems(text=SHOP_YAML.replace("Legacy web shop", "Before"))
    with pytest.raises(InvalidSystemsFile) as caught:
        load_systems(text=BROKEN)
    errors = [(e.line, e.message) for e in caught.value.errors]
    lines = [line for line, _ in errors]
    assert lines == [4, 6, 12, 13, 18, 20], errors
    text = str(caught.value)
    assert "now 'user.name'" in text and "keep_reason" in text and "period_days" in text and "legal basis" in text
    assert ExternalSystem.objects.get().name == "Before" and SystemDataset.objects.count() == 3
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(CommandError, match="6 error"):
        call_command("load_systems", str(path))
    assert f"{path}: line 20: " in capsys.readouterr().err


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("systems:\n  - key: a\n    key: b\n", 3, "given twice"),
        ("systems: [\n", 2, "not valid YAML"),
        ("", 1, "empty"),
        ("systems:\n  - key: a\n    name: A\n    owner: {name: T, email: t@example.com}\n", 2, "connection"),
        ("systems:\n  - key: h\n    name: H\n    kind: http\n    owner: {name: T, email: t@example.com}\n", 2, "url"),
        (
            "systems:\n  - {key: m, name: M, kind: manual, owner: {name: T, email: t@example.com}, colour: red}\n",
            2,
            "unknown key",
        ),
    ],
)
def test_structural_errors_name_their_line(text, line, words):
    with pytest.raises(InvalidSystemsFile) as caught:
        parse_systems_file(text)
    assert any(e.line == line and words in e.message for e in caught.value.errors), caught.value.errors


def test_http_and_manual_systems_parse():
    spec = parse_systems_file(
        "systems:\n"
        "  - {key: crm, name: CRM, kind: http, url: 'https://crm.example.com/privacy', secret_env: CRM_SECRET,"
        " timeout: 5, actions: [access, erasure], owner: {name: Sales, email: sales@example.com}}\n"
        "  - {key: paper, name: Paper archive, kind: manual, actions: [erasure], owner: {name: Office, email: o@example.com}}\n"
    )
    assert [s.kind for s in spec.systems] == ["http", "manual"] and spec.systems[0].timeout == 5


def test_a_reference_to_an_undeclared_table_or_one_reaching_no_person_is_refused():
    orphan = SHOP_YAML.replace("references: {order_id: orders.id}", "references: {order_id: invoices.id}")
    with pytest.raises(InvalidSystemsFile, match="undeclared table 'invoices.id'"):
        parse_systems_file(orphan)
    loop = SHOP_YAML.replace("identity: {email: email}", "references: {id: orders.customer_id}")
    with pytest.raises(InvalidSystemsFile, match="never reach a table with identity columns"):
        parse_systems_file(loop)


# Strictness: a value of the wrong YAML type is an error at its own line, never coerced.
WRONG_TYPES = {
    "period_days": ["'3650'", "36.5", "true", "[1]"],
    "secret": ["'yes'", "1", "'true'"],
    "name": ["12", "true", "[a]"],
    "erase": ["drop", "1", "Mask"],
}
FIELD_LINE = "          - {name: email, category: user.contact.email, purpose: p, legal_basis: contract, erase: mask, secret: false}\n"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(sorted(WRONG_TYPES)).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(WRONG_TYPES[k]))))
def test_wrong_types_are_refused_at_their_line_without_coercion(case):
    key, bad = case
    base = SHOP_YAML.split("      - table: orders")[0]
    if key == "period_days":
        base += "        retention:\n          - {name: r, period_days: PD, date_field: created_at}\n"
        text, line = base.replace("PD", bad), base.count("\n")
    elif key == "name":
        text = base.replace("    name: Legacy web shop", f"    name: {bad}")
        line = 3
    else:
        row = (
            FIELD_LINE.replace("erase: mask", f"erase: {bad}")
            if key == "erase"
            else FIELD_LINE.replace("secret: false", f"secret: {bad}")
        )
        lines = base.splitlines(keepends=True)
        lines[11] = row
        text, line = "".join(lines), 12
    with pytest.raises(InvalidSystemsFile) as caught:
        parse_systems_file(text)
    assert [e.line for e in caught.value.errors] == [line], caught.value.errors
