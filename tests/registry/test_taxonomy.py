"""Data categories are fideslang's keys: each one the portal knows is in fideslang's default taxonomy."""

from pathlib import Path

from registry import site
from registry.taxonomy import DATA_CATEGORIES, LEGACY_CATEGORIES, category_label, current_category

FIDESLANG_KEYS = {
    line.strip()
    for line in (Path(__file__).parent / "fideslang_data_categories.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#")
}


def test_every_category_is_a_fideslang_default_key():
    assert sorted(set(DATA_CATEGORIES) - FIDESLANG_KEYS) == []


def test_every_legacy_key_moves_to_a_known_category():
    assert all(new in DATA_CATEGORIES for new in LEGACY_CATEGORIES.values())
    assert not set(LEGACY_CATEGORIES) & set(DATA_CATEGORIES)


def test_every_registered_field_uses_a_known_category():
    used = {f.category for ds in site.datasets() for f in ds.fields}
    assert used and used <= set(DATA_CATEGORIES), sorted(used - set(DATA_CATEGORIES))


def test_current_category_maps_legacy_keys_and_keeps_others():
    assert current_category("user.contact.name") == "user.name"
    assert current_category("user.contact.phone") == "user.contact.phone_number"
    assert current_category("user.contact.email") == "user.contact.email"
    assert category_label("user.contact.phone_number") == "Telephone number"
    assert category_label("user.nonsense") == "user.nonsense"
